"""The frame around every page: navigation, the global filter bar, routing, provenance.

Routing is ours rather than dash.page_container's: the stock router re-renders
the whole page whenever the query string changes, which would rebuild every
chart on each filter change. Here the page is rendered on a path change only;
a filter change updates the URL, and the pages' callbacks update their charts
in place. The URL is the single source of truth; one callback keeps it and
every URL-kept control (id {"type": "param", "key": ...}, global or on a page)
in step in both directions, so shared links and the back button work.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from dashboard import components as ui, queries, state
from dashboard.context import database, log, safe
from etl.normalise.entities import blocs, match_entities
from etl.normalise.weapons import CATEGORIES

PARAM = {"type": "param", "key": ALL}
NAV = (("Overview", "/"), ("Country profile", "/country"), ("Weapon systems", "/weapons"),
       ("Deals", "/deals"), ("Flows", "/flows"), ("What changed", "/changes"), ("About & data", "/about"))
STATUS_OPTIONS = [{"label": "New", "value": "new"}, {"label": "Second-hand", "value": "second-hand"}]
MULTI = {"supplier", "recipient", "category", "sbloc", "rbloc"}


def param_id(key: str) -> dict:
    return {"type": "param", "key": key}


def _names() -> list[str]:
    cur = database().cursor()
    try:
        return queries.entity_names(cur) if cur is not None else []
    except Exception:  # a half-written or foreign file: the pages say so
        return []


def filter_bar() -> dbc.Card:
    names = _names()
    bloc_options = blocs()

    def dropdown(key, label, options, multi=True, width=2):
        return dbc.Col([dbc.Label(label, className="small mb-0", html_for=f"f-{key}"),
                        dcc.Dropdown(id=param_id(key), options=options, multi=multi, placeholder="any",
                                     className="small")], md=width, xs=6)

    def number(key, label):
        return dbc.Col([dbc.Label(label, className="small mb-0"),
                        dcc.Input(id=param_id(key), type="number", min=1900, max=2100, step=1, debounce=True,
                                  placeholder="year", className="form-control form-control-sm")], md=1, xs=3)

    return dbc.Card(dbc.CardBody([
        dbc.Row([
            number("from", "From"), number("to", "To"),
            dbc.Col([dbc.Label("Search designation, description, comments", className="small mb-0"),
                     dcc.Input(id=param_id("search"), type="text", debounce=True, maxLength=200,
                               placeholder="e.g. S-400, F-35, Leopard 2",
                               className="form-control form-control-sm")], md=3, xs=6),
            dropdown("supplier", "Supplier", names, width=3),
            dropdown("recipient", "Recipient", names, width=3),
        ], className="g-2"),
        dbc.Row([
            dropdown("category", "Weapon category", list(CATEGORIES), width=3),
            dropdown("status", "Status", STATUS_OPTIONS, multi=False),
            dropdown("sbloc", "Supplier bloc (member that year)", bloc_options, width=3),
            dropdown("rbloc", "Recipient bloc (member that year)", bloc_options, width=3),
            dbc.Col(dcc.Link("Clear filters", id="clear-filters", href="/", className="small"),
                    md=1, xs=6, className="d-flex align-items-end"),
        ], className="g-2 mt-1"),
    ], className="py-2"), className="mb-3 bg-light")


def navbar() -> dbc.Navbar:
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand("armsdash", href="/", className="fw-bold"),
        dbc.Nav([dbc.NavItem(dbc.NavLink(label, href=path, id=f"nav-{i}", active="exact"))
                 for i, (label, path) in enumerate(NAV)], navbar=True, className="flex-wrap"),
    ], fluid=True), color="dark", dark=True, className="mb-3")


def layout() -> html.Div:
    """Built per page load, so names and years follow the database currently on disk."""
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        navbar(),
        dbc.Container([
            filter_bar(),
            html.Div(id="page-content"),
            html.Footer(id="footer", className="border-top mt-4 pt-2 pb-4 small text-muted"),
        ], fluid=True),
    ])


def _control_value(key: str, values: list[str]):
    """URL values -> what the control shows (names canonical, one value for single controls)."""
    if key in ("supplier", "recipient", "entity"):
        found = [n for v in values for n in (match_entities(v) or [v])]
        found = list(dict.fromkeys(found))
        return found if key != "entity" else (found[0] if found else None)
    if key in MULTI:
        return values
    if key in ("from", "to"):
        return int(values[0]) if values and values[0].lstrip("-").isdigit() and len(values[0]) <= 5 else None
    return values[0] if values else None


def _value_for_url(value):
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    return value


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("page-content", "children"),
        Input("url", "pathname"), State("url", "search"),
    )
    @safe(lambda message: ui.problem(message))
    def route(pathname, search):
        page = next((p for p in dash.page_registry.values() if p["path"] == pathname), None)
        if page is None:
            return dbc.Alert(["No such page. ", dcc.Link("Go to the overview", href="/")], color="warning")
        query = {k: v[0] if len(v) == 1 else v for k, v in state.parse(search).items()}
        return page["layout"](**query)

    @app.callback(
        Output("url", "search"), Output(PARAM, "value"),
        Input("url", "search"), Input(PARAM, "value"), State(PARAM, "id"),
    )
    def sync(search, values, ids):
        """URL -> controls when the URL changed (link, back button); controls -> URL otherwise.

        Only the controls that fired are written into the URL, on top of what it
        holds: a control that mounts late (a page's own) cannot wipe the others.
        """
        if not isinstance(values, list) or not isinstance(ids, list) or len(values) != len(ids) \
                or not all(isinstance(i, dict) and isinstance(i.get("key"), str) for i in ids):
            return no_update, [no_update] * len(ids if isinstance(ids, list) else [])
        try:
            params = state.parse(search)
            fired = ctx.triggered_prop_ids
            if not fired or "url.search" in fired:
                shown = [_control_value(i["key"], params.get(i["key"], [])) for i in ids]
                return no_update, [s if s != v else no_update for s, v in zip(shown, values)]
            changed = {i["key"]: v for i, v in zip(ids, values) if any(f'"{i["key"]}"' in p for p in fired)}
            wanted = {**params, **{k: _value_for_url(v) for k, v in changed.items()}}
            new = state.encode(wanted)
            if state.parse(new) == params:
                return no_update, [no_update] * len(ids)
            return new, [no_update] * len(ids)
        except Exception:
            log.exception("URL sync failed")
            return no_update, [no_update] * len(ids)

    @app.callback(
        [Output(f"nav-{i}", "href") for i in range(len(NAV))] + [Output("clear-filters", "href")],
        Input("url", "search"), State("url", "pathname"),
    )
    def nav_links(search, pathname):
        """Links to other pages carry the global filters, so a selection follows the reader."""
        params = state.parse(search)
        keep = state.encode({k: v for k, v in params.items() if k in state.GLOBAL_KEYS})
        page_only = state.encode({k: v for k, v in params.items() if k not in state.GLOBAL_KEYS})
        # only our own pages: a path such as "//evil.example" would make this link leave the site
        here = pathname if pathname in {path for _, path in NAV} else "/"
        return [path + keep for _, path in NAV] + [here + page_only]

    @app.callback(Output("footer", "children"), Input("url", "pathname"))
    @safe(lambda message: ui.ATTRIBUTION)
    def footer(_pathname):
        cur = database().cursor()
        sources = queries.provenance(cur) if cur is not None else None
        if sources is None or sources.empty:
            return [html.Div(ui.ATTRIBUTION + ". No data loaded yet."), ui.tiv_note()]
        files = "; ".join(f"{r.source} (SIPRI data generated {r.generated or 'date not stated'}, "
                          f"loaded {r.loaded_at})" for r in sources.itertuples())
        return [html.Div(f"{ui.ATTRIBUTION}. Data: {files}."), ui.tiv_note()]
