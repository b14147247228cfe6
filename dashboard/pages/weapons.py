"""Weapon systems: every sale of a designation ("S-400", "F-35", "Leopard 2").

The search is the global `search` filter (the CLI's --search), so the deals
listed here are exactly those the Deals page and `armsdash export --search`
give. Reported values are shown as SIPRI's comments state them.
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from dashboard import components as ui, figures, queries, state
from dashboard.context import safe, upload_allowed, view


LIMIT = 500
EXAMPLES = ("S-400", "F-35", "Leopard 2", "Bayraktar TB2", "Rafale", "HIMARS")
COLUMNS = [
    {"field": "recipient", "pinned": "left", "width": 140},
    {"field": "supplier", "width": 120},
    {"field": "designation", "width": 160},
    {"field": "description", "width": 150},
    {"field": "order_year", "headerName": "Ordered", "width": 90},
    {"field": "number_ordered", "headerName": "No. ordered", "width": 105},
    {"field": "number_delivered", "headerName": "No. delivered", "width": 110},
    {"field": "delivery_years", "headerName": "Delivery years", "width": 140},
    {"field": "status", "width": 110},
    {"field": "reported_value", "headerName": "Reported value ($ m)", "width": 160},
    {"field": "reported_value_text", "headerName": "Value as SIPRI writes it", "width": 190},
    {"field": "comments", "width": 300},
]


def _example_links() -> list:
    return [dcc.Link(term, href="/weapons?" + urlencode({"search": term}), className="me-3")
            for term in EXAMPLES]


# what `render` sets, in order: drawn into the page by the router, then updated on each filter change
OUTPUTS = [("wp-message", "children"), ("wp-body", "style"), ("wp-title", "children"), ("wp-map", "figure"),
           ("wp-timeline", "figure"), ("wp-summary", "children"), ("wp-table", "rowData"), ("wp-start", "children")]


def layout(**query):
    page = html.Div([
        html.Div(id="wp-message"),
        html.Div(id="wp-body", children=[
            html.H5(id="wp-title"),
            dbc.Row([dbc.Col(ui.graph("wp-map", height=420), lg=6), dbc.Col(ui.graph("wp-timeline"), lg=6)]),
            html.Div(id="wp-summary", className="small text-muted mb-1"),
            dag.AgGrid(id="wp-table", columnDefs=COLUMNS, rowData=[],
                       defaultColDef={"sortable": True, "resizable": True, "filter": True},
                       dashGridOptions={"domLayout": "autoHeight", "pagination": True, "paginationPageSize": 50},
                       style={"height": None}),
            ui.tiv_note(),
        ]),
        html.Div(id="wp-start"),
    ])
    return ui.fill(page, OUTPUTS, render(state.query_string(query)))


def _start(v):
    """Before any search: the most widely exported systems in the selection, as links."""
    top = queries.top_designations(v.cur, v.filters)
    items = [html.Li([dcc.Link(d, href="/weapons?" + urlencode({"search": d})),
                      f" ({desc}): {n} recipients, {k} deals"])
             for d, desc, n, k in zip(top["designation"], top["description"], top["recipients"], top["deals"])]
    return [dbc.Alert(["Type a weapon designation into the search box above, or try: ", *_example_links()],
                      color="light", className="border"),
            html.H6("Most widely exported systems in this selection"), html.Ol(items, className="small")]


def _fallback(message):
    blank = figures.empty(message)
    return ui.problem(message), {}, "", blank, blank, "", [], None


@safe(_fallback)
def render(search):
    v = view(search)
    blank = figures.empty("")
    if v.no_data:
        return ui.no_data(upload_allowed()), {"display": "none"}, "", blank, blank, "", [], None
    if not v.ok:
        return _fallback(v.problem)
    if not v.filters.search:
        return None, {"display": "none"}, "", blank, blank, "", [], _start(v)
    deals = queries.weapon_deals(v.cur, v.filters, LIMIT)
    if deals.empty:
        return (dbc.Alert(["No deal matches this search and these filters. Try: ", *_example_links()],
                          color="secondary"), {"display": "none"}, "", blank, blank, "", [], None)
    recipients = queries.weapon_recipients(v.cur, v.filters)
    term = v.filters.search
    title = f"“{term}”: {len(recipients)} recipients, {int(recipients['deals'].sum()):,} deals"
    summary = ("Designation, description and comments are searched, so parts and missiles ordered for a "
               "system appear too. Reported values are SIPRI's comments converted to US$ m (lower bound).")
    if int(recipients["deals"].sum()) > LIMIT:
        summary += f" Showing the first {LIMIT} deals by order year; refine the filters to see the rest."
    map_fig = figures.choropleth(recipients.rename(columns={"deals": "n"}), f"Recipients of “{term}”",
                                 value="n", label="deals")
    timeline = figures.weapon_timeline(deals, "Order year (◆) and delivery years (—)")
    data = deals.astype(object).where(deals.notna(), None).to_dict("records")
    return None, {}, title, map_fig, timeline, summary, data, None


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/weapons", name="Weapon systems", order=2, layout=layout)
    app.callback(*[Output(id_, prop) for id_, prop in OUTPUTS], Input("url", "search"),
                 prevent_initial_call=True)(render)
