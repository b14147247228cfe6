"""Flows: the largest supplier -> recipient flows of delivered TIV as a Sankey diagram."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, html

from dashboard import components as ui, figures, queries, state
from dashboard.context import safe, upload_allowed, view
from dashboard.shell import param_id


SIZES = ("25", "10", "50", "100")
# what `render` sets, in order: drawn into the page by the router, then updated on each filter change
OUTPUTS = [("fl-message", "children"), ("fl-summary", "children"), ("fl-sankey", "figure")]


def layout(**query):
    params = state.from_query(query)
    page = html.Div([
        html.Div(id="fl-message"),
        dbc.Row([
            dbc.Col(dbc.Label("Largest flows shown", className="small me-2"), width="auto"),
            dbc.Col(dbc.RadioItems(id=param_id("top"), value=state.choice(params, "top", SIZES), inline=True,
                                   options=[{"label": s, "value": s} for s in sorted(SIZES, key=int)]),
                    width="auto"),
        ], className="align-items-center"),
        html.Div(id="fl-summary", className="small text-muted"),
        ui.graph("fl-sankey", height=500),
        ui.tiv_note(),
    ])
    return ui.fill(page, OUTPUTS, render(state.query_string(query)))


@safe(lambda message: (ui.problem(message), "", figures.empty(message)))
def render(search):
    v = view(search)
    if v.no_data:
        return ui.no_data(upload_allowed()), "", figures.empty("No data loaded yet")
    if not v.ok:
        return ui.problem(v.problem), "", figures.empty("No chart for these filters")
    n = int(state.choice(v.params, "top", SIZES))
    frame, total = queries.flows(v.cur, v.filters, n)
    if frame.empty:
        return ui.nothing_matches(), "", figures.empty("No deliveries in this selection")
    shown = frame["tiv"].sum()
    summary = (f"The {len(frame)} largest flows carry {shown:,.0f} of {total:,.0f} TIV delivered in the selection "
               f"({shown / total * 100:.0f}%). Suppliers on the left, recipients on the right.")
    return None, summary, figures.sankey(frame, "Largest flows of major arms, TIV delivered")


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/flows", name="Flows", order=4, layout=layout, url_defaults={"top": SIZES[0]})
    app.callback(*[Output(id_, prop) for id_, prop in OUTPUTS], Input("url", "search"),
                 prevent_initial_call=True)(render)
