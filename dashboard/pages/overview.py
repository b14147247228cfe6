"""Overview: headline figures, world map, TIV by year, top suppliers and recipients."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html

from dashboard import components as ui, figures, queries, state
from dashboard.context import upload_allowed, view, safe
from dashboard.shell import param_id


MAPS = ("exports", "imports")
STACKS = ("category", "supplier", "none")
OUTPUTS = ("ov-message", "ov-body", "ov-kpis", "ov-map", "ov-unmapped", "ov-years", "ov-top-suppliers",
           "ov-top-recipients")


def layout(**query):
    params = state.from_query(query)
    return html.Div([
        dcc.Store(id="ov-ready"),  # fires the page's callback when the page is inserted
        html.Div(id="ov-message"),
        html.Div(id="ov-body", children=[
            dbc.Row(id="ov-kpis", className="g-2 mb-3"),
            dbc.Row([
                dbc.Col([
                    dbc.RadioItems(id=param_id("map"), value=state.choice(params, "map", MAPS), inline=True,
                                   options=[{"label": "Exporters", "value": "exports"},
                                            {"label": "Importers", "value": "imports"}]),
                    ui.graph("ov-map"),
                ], lg=9),
                dbc.Col([html.H6("Without a map shape", className="mt-2"),
                         html.Small("Historical states, non-state actors, organisations and unknown parties.",
                                    className="text-muted"),
                         html.Div(id="ov-unmapped", className="small mt-2")], lg=3),
            ]),
            dbc.Row([
                dbc.Col([
                    dbc.RadioItems(id=param_id("stack"), value=state.choice(params, "stack", STACKS), inline=True,
                                   options=[{"label": "by weapon category", "value": "category"},
                                            {"label": "by top suppliers", "value": "supplier"},
                                            {"label": "total", "value": "none"}]),
                    ui.graph("ov-years"),
                ]),
            ], className="mt-3"),
            dbc.Row([dbc.Col(ui.graph("ov-top-suppliers"), lg=6), dbc.Col(ui.graph("ov-top-recipients"), lg=6)],
                    className="mt-3"),
            ui.tiv_note(className="text-muted d-block mt-2"),
        ]),
    ])


def _fallback(message: str):
    blank = figures.empty(message)
    return ui.problem(message), {}, [], blank, [], blank, blank, blank


def _period(f) -> str:
    if f.year_from is None and f.year_to is None:
        return "all years"
    return f"{f.year_from or '…'}–{f.year_to or '…'}"


@safe(_fallback)
def render(search, _ready=None):
    v = view(search)
    if v.no_data:
        blank = figures.empty("No data loaded yet")
        return ui.no_data(upload_allowed()), {"display": "none"}, [], blank, [], blank, blank, blank
    if not v.ok:
        return _fallback(v.problem)
    f, cur, p = v.filters, v.cur, v.params
    totals = queries.totals(cur, f)
    period = _period(f)
    kpis = [dbc.Col(ui.kpi(*args), md=3, xs=6) for args in (
        ("TIV delivered", ui.fmt(totals["tiv"]), f"delivery years {period}; volume index, not money"),
        ("Deals ordered", ui.fmt(totals["deals"]), f"order years {period}"),
        ("Suppliers", ui.fmt(totals["suppliers"]), "with deliveries in the selection"),
        ("Recipients", ui.fmt(totals["recipients"]), "with deliveries in the selection"),
    )]
    message = ui.nothing_matches() if not totals["deals"] and not totals["suppliers"] else None
    role = "supplier" if state.choice(p, "map", MAPS) == "exports" else "recipient"
    entities = queries.by_entity(cur, f, role)
    title = f"{'Exports' if role == 'supplier' else 'Imports'} of major arms, TIV delivered, {period}"
    unmapped = entities[(entities["iso3"] == "") & entities["tiv"].fillna(0).gt(0)].head(25)
    side = html.Ul([html.Li([ui.entity_link(r.name), f" ({r.kind.replace('_', ' ')}): {ui.fmt(r.tiv)}"])
                    for r in unmapped.itertuples()], className="list-unstyled") if not unmapped.empty \
        else html.Div("none in this selection", className="text-muted")
    stack = state.choice(p, "stack", STACKS)
    years = queries.tiv_by_year(cur, f, "category" if stack == "none" else stack)
    if stack == "none":
        years = years.assign(key="All weapons")
    years_fig = figures.stacked_years(years, f"TIV delivered per year, {period}")
    return (message, {}, kpis, figures.choropleth(entities, title), side, years_fig,
            figures.top_bars(queries.top_entities(cur, f, "supplier"), "Top 10 suppliers (share of selection)"),
            figures.top_bars(queries.top_entities(cur, f, "recipient"), "Top 10 recipients (share of selection)",
                             colour=figures.PALETTE[1]))


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/", name="Overview", order=0, layout=layout)
    app.callback(
        Output("ov-message", "children"), Output("ov-body", "style"), Output("ov-kpis", "children"),
        Output("ov-map", "figure"), Output("ov-unmapped", "children"), Output("ov-years", "figure"),
        Output("ov-top-suppliers", "figure"), Output("ov-top-recipients", "figure"),
        Input("url", "search"), Input("ov-ready", "data"),
    )(render)
