"""Overview: headline figures, world map, TIV by year, top suppliers and recipients."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, html

from dashboard import components as ui, figures, queries, state
from dashboard.context import upload_allowed, view, safe
from dashboard.shell import param_id


MAPS = ("exports", "imports")
STACKS = ("category", "supplier", "none")
# headline figures: their cards are drawn with the page, a filter change only sends their text
# (new cards on every change cost ~20 ms of the browser's redraw)
KPIS = (("tiv", "TIV delivered"), ("deals", "Deals ordered"), ("suppliers", "Suppliers"), ("recipients", "Recipients"))
NO_KPIS = ("–", "") * len(KPIS)
NO_SHARES = ("", "") * 2
# what `render` sets, in order: drawn into the page by the router, then updated on each filter change
OUTPUTS = [("ov-message", "children"), ("ov-body", "style"),
           *[(f"ov-kpi-{key}-{part}", "children") for key, _ in KPIS for part in ("value", "note")],
           ("ov-map", "figure"), ("ov-unmapped", "children"), ("ov-years", "figure"), *ui.share_outputs("ov-top-suppliers"),
           *ui.share_outputs("ov-top-recipients")]


def layout(**query):
    params = state.from_query(query)
    page = html.Div([
        html.Div(id="ov-message"),
        html.Div(id="ov-body", children=[
            dbc.Row([dbc.Col(ui.kpi(label, "–", id_=f"ov-kpi-{key}"), md=3, xs=6) for key, label in KPIS],
                    id="ov-kpis", className="g-2 mb-3"),
            dbc.Row([
                dbc.Col([
                    dbc.RadioItems(id=param_id("map"), value=state.choice(params, "map", MAPS), inline=True,
                                   options=[{"label": "Exporters", "value": "exports"},
                                            {"label": "Importers", "value": "imports"}]),
                    ui.graph("ov-map", height=420),
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
            dbc.Row([dbc.Col(ui.share_bars("ov-top-suppliers"), lg=6), dbc.Col(ui.share_bars("ov-top-recipients"), lg=6)],
                    className="mt-3"),
            ui.tiv_note(className="text-muted d-block mt-2"),
        ]),
    ])
    return ui.fill(page, OUTPUTS, render(state.query_string(query)))


def _fallback(message: str):
    blank = figures.empty(message)
    return ui.problem(message), {}, *NO_KPIS, blank, [], blank, *NO_SHARES


def _period(f) -> str:
    if f.year_from is None and f.year_to is None:
        return "all years"
    return f"{f.year_from or '…'}–{f.year_to or '…'}"


@safe(_fallback)
def render(search):
    v = view(search)
    if v.no_data:
        blank = figures.empty("No data loaded yet")
        return ui.no_data(upload_allowed()), {"display": "none"}, *NO_KPIS, blank, [], blank, *NO_SHARES
    if not v.ok:
        return _fallback(v.problem)
    f, cur, p = v.filters, v.cur, v.params
    totals = queries.totals(cur, f)
    period = _period(f)
    kpis = (ui.fmt(totals["tiv"]), f"delivery years {period}; volume index, not money",
            ui.fmt(totals["deals"]), f"order years {period}",
            ui.fmt(totals["suppliers"]), "with deliveries in the selection",
            ui.fmt(totals["recipients"]), "with deliveries in the selection")
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
    # the seven largest categories (suppliers come as the six largest and "Others" already)
    years_fig = figures.stacked_years(years, f"TIV delivered per year, {period}", most=7)
    # the map's side of the trade ranks what the map shows already: one query less per change
    top = {role: queries.top_of(entities), ("recipient" if role == "supplier" else "supplier"):
           queries.top_entities(cur, f, "recipient" if role == "supplier" else "supplier")}
    return (message, {}, *kpis, figures.choropleth(entities, title), side, years_fig,
            *ui.share_rows(top["supplier"], "Top 10 suppliers (share of selection)"),
            *ui.share_rows(top["recipient"], "Top 10 recipients (share of selection)", colour=figures.PALETTE[1]))


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/", name="Overview", order=0, layout=layout,
                       url_defaults={"map": MAPS[0], "stack": STACKS[0]})
    app.callback(*[Output(id_, prop) for id_, prop in OUTPUTS], Input("url", "search"),
                 prevent_initial_call=True)(render)
