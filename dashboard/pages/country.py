"""Country profile: one supplier or recipient's imports and exports by partner over time.

Answers "where did Turkiye's major arms come from, and which share from NATO
members versus Russia": partners per year, the share of imports by supplier
bloc (NATO membership as of each delivery year), supplier concentration
(HHI), and the entity's deals. Supplier/recipient filters of the filter bar
do not apply here (the profiled entity takes their place); years, category,
status and search do.
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from dashboard import components as ui, figures, queries, state
from dashboard.context import database, safe, upload_allowed, view
from dashboard.pages.deals import COLUMNS as DEAL_COLUMNS
from dashboard.shell import param_id
from etl.normalise.entities import match_entities


DEALS_SHOWN = 300
GRID_HEIGHT = "520px"
# what `render` sets, in order: drawn into the page by the router, then updated on each filter change
OUTPUTS = [("cp-facts", "children"), ("cp-message", "children"), ("cp-body", "style"), ("cp-kpis", "children"),
           ("cp-imports", "figure"), ("cp-blocs", "figure"), *ui.share_outputs("cp-suppliers"), ("cp-exports", "figure"),
           ("cp-deals-note", "children")]


def _entity_options() -> list[str]:
    cur = database().cursor()
    try:
        return queries.entity_names(cur) if cur is not None else []
    except Exception:
        return []


def _canonical(name: str | None) -> str | None:
    """"Turkey", "tur" -> "Turkiye"; unknown names are kept so the page can say so."""
    return (match_entities(name) or [name])[0] if name else None


def layout(**query):
    params = state.from_query(query)
    page = html.Div([
        dbc.Row([
            dbc.Col([dbc.Label("Country or other party", className="small mb-0"),
                     dcc.Dropdown(id=param_id("entity"), options=_entity_options(), value=_canonical(state.one(params, "entity")),
                                  placeholder="choose a country, e.g. Turkiye", clearable=False)], md=4),
            dbc.Col(html.Div(id="cp-facts", className="small text-muted"), md=8, className="d-flex align-items-end"),
        ], className="mb-2"),
        html.Div(id="cp-message"),
        html.Div(id="cp-body", children=[
            dbc.Row(id="cp-kpis", className="g-2 mb-3"),
            dbc.Row([dbc.Col(ui.graph("cp-imports"), lg=6), dbc.Col(ui.graph("cp-blocs"), lg=6)]),
            dbc.Row([dbc.Col(ui.share_bars("cp-suppliers"), lg=6), dbc.Col(ui.graph("cp-exports"), lg=6)],
                    className="mt-3"),
            html.H6("Deals (as supplier or recipient; order years)", className="mt-3"),
            html.Div([html.Span(id="cp-deals-shown"), html.Span(id="cp-deals-note")],
                     className="small text-muted mb-1"),
            # the grid arrives with its rows (see `deals`), at the height it will have
            html.Div(id="cp-deals-box", style={"minHeight": GRID_HEIGHT}),
            ui.tiv_note(className="text-muted d-block mt-2"),
        ]),
    ])
    return ui.fill(page, OUTPUTS, render(state.query_string(query)))


def _hhi_text(shares) -> tuple[str, str]:
    """Herfindahl-Hirschman index of supplier shares (0-10,000) and its usual reading."""
    if shares.empty or not shares["tiv"].fillna(0).any():
        return "–", "no imports in the selection"
    hhi = float((shares["share"].fillna(0) * 100).pow(2).sum())
    reading = ("highly concentrated" if hhi > 2500 else "moderately concentrated" if hhi >= 1500
               else "diversified")
    return f"{hhi:,.0f}", f"supplier concentration (HHI): {reading}"


def _fallback(message):
    blank = figures.empty(message)
    return "", ui.problem(message), {"display": "none"}, [], blank, blank, "", "", blank, ""


def _profiled(v) -> tuple[str | None, dict | None]:
    """The profiled entity's name and facts, or (None, None) when the URL names none in the data."""
    name = _canonical(state.one(v.params, "entity"))
    info = queries.entity_info(v.cur, name) if name else None
    return name, info


@safe(_fallback)
def render(search):
    """Facts, KPIs and the four charts; the deals grid follows in `deals` once they are drawn."""
    v = view(search)
    blank = figures.empty("")
    if v.no_data:
        return "", ui.no_data(upload_allowed()), {"display": "none"}, [], blank, blank, "", "", blank, ""
    if not v.ok:
        return _fallback(v.problem)
    name, info = _profiled(v)
    if not name:
        hint = dbc.Alert(["Choose a country above, e.g. ",
                          *[dcc.Link(n, href="/country?" + urlencode({"entity": n}), className="me-2")
                            for n in ("Turkiye", "India", "Ukraine", "Saudi Arabia", "Russia")]], color="light",
                         className="border")
        return "", hint, {"display": "none"}, [], blank, blank, "", "", blank, ""
    if info is None:
        return _fallback(f"{name!r} is not a supplier or recipient in the data (use the list above).")
    f = state.without_parties(v.filters)
    facts = f"{info['kind'].replace('_', ' ')}; {info['region'] or 'no region'}" + \
        (f"; ISO3 {info['iso3']}" if info["iso3"] else "; no ISO3 code (no map shape)")
    period = ("all years" if f.year_from is None and f.year_to is None
              else f"{f.year_from or '…'}–{f.year_to or '…'}")
    suppliers = queries.partner_shares(v.cur, f, name, "recipient")
    recipients = queries.partner_shares(v.cur, f, name, "supplier")
    hhi, hhi_note = _hhi_text(suppliers)
    top = suppliers.iloc[0] if not suppliers.empty and suppliers["tiv"].fillna(0).any() else None
    kpis = [dbc.Col(ui.kpi(*args), md=3, xs=6) for args in (
        ("Imports (TIV delivered)", ui.fmt(suppliers["tiv"].sum()), f"delivery years {period}"),
        ("Exports (TIV delivered)", ui.fmt(recipients["tiv"].sum()), f"delivery years {period}"),
        ("Largest supplier", top["name"] if top is not None else "–",
         f"{top['share'] * 100:.1f}% of imports" if top is not None else "no imports"),
        ("Supplier concentration (HHI)", hhi, hhi_note),
    )]
    deals_note = dcc.Link("All of them, with CSV download, on the Deals page",
                          href="/deals?" + urlencode({"recipient": name, **_years(f)}))
    return (facts, None, {}, kpis,
            figures.stacked_years(queries.partners_by_year(v.cur, f, name, "recipient"),
                                  f"{name}: imports by supplier, TIV delivered per year"),
            figures.stacked_years(queries.bloc_shares(v.cur, f, name).rename(columns={"grp": "key"}),
                                  f"{name}: share of imports by supplier bloc (NATO as of each year)",
                                  colours=figures.GROUP_COLOURS, percent=True),
            *ui.share_rows(suppliers.head(10), f"{name}: largest suppliers, {period}"),
            figures.stacked_years(queries.partners_by_year(v.cur, f, name, "supplier"),
                                  f"{name}: exports by recipient, TIV delivered per year"),
            deals_note)


def _grid(rows: list[dict]) -> dag.AgGrid:
    return dag.AgGrid(id="cp-deals", columnDefs=DEAL_COLUMNS, rowData=rows,
                      defaultColDef={"sortable": True, "resizable": True, "filter": True},
                      dashGridOptions={"pagination": True, "paginationPageSize": 20}, style={"height": GRID_HEIGHT})


@safe(lambda message: (_grid([]), message))
def deals(_note, search):
    """The grid of the profiled entity's most recent deals, asked for once the charts have arrived.

    A second request rather than part of `render`, and the grid itself comes
    with it: the charts (what a reader looks at first) wait neither for 300
    rows nor for AG Grid's code (~250 KB) to load and lay out a table.
    """
    v = view(search)
    if not v.ok:
        return _grid([]), ""
    name, info = _profiled(v)
    if info is None:
        return _grid([]), ""
    rows = queries.entity_deals(v.cur, state.without_parties(v.filters), name, DEALS_SHOWN)
    shown = f"Most recent {DEALS_SHOWN} deals shown. " if len(rows) == DEALS_SHOWN else ""
    return _grid(rows.astype(object).where(rows.notna(), None).to_dict("records")), shown


def _years(f) -> dict:
    return {k: v for k, v in (("from", f.year_from), ("to", f.year_to)) if v is not None}


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/country", name="Country profile", order=1, layout=layout)
    app.callback(*[Output(id_, prop) for id_, prop in OUTPUTS], Input("url", "search"),
                 prevent_initial_call=True)(render)
    # fired when the page arrives and by each of render's answers (its deals note): the grid's rows
    # come after the charts
    app.callback(Output("cp-deals-box", "children"), Output("cp-deals-shown", "children"),
                 Input("cp-deals-note", "children"), State("url", "search"))(deals)
