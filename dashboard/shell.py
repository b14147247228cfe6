"""The frame around every page: navigation, the global filter bar, routing, provenance.

Routing is ours rather than dash.page_container's: the stock router re-renders
the whole page whenever the query string changes, which would rebuild every
chart on each filter change. Here the page is rendered on a path change only;
a filter change updates the URL, and the pages' callbacks update their charts
in place. The URL is the single source of truth; one callback keeps it and
every URL-kept control (id {"type": "param", "key": ...}, global or on a page)
in step in both directions, so shared links and the back button work. That
callback and the nav links run in the browser (assets/armsdash.js): a filter
change then costs one server round trip (the page's), not three.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import dash
import dash_bootstrap_components as dbc
import flask
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html

from dashboard import components as ui, queries, state
from dashboard.context import database, safe
from etl.normalise.entities import blocs, entity_keys
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


def client_config() -> dict:
    """What the browser-side callbacks need to know (assets/armsdash.js).

    `defaults`: what a page's own option shows when the URL does not set it
    (register_page(url_defaults=...), the first of state.choice's options).
    """
    defaults = {k: v for page in dash.page_registry.values() for k, v in page.get("url_defaults", {}).items()}
    return {"entities": entity_keys(), "multi": sorted(MULTI), "global": list(state.GLOBAL_KEYS),
            "paths": [path for _, path in NAV], "defaults": defaults}


def _first_view() -> tuple[str, str] | None:
    """The page (path, query string) the browser is opening, from the Referer of its layout request.

    Dash asks for the layout with a second request that does not name the
    page, so the page used to follow in a third (the router callback) and
    only then could its charts' code be fetched (~200 ms of a cold load).
    Browsers send the page's URL as the Referer of the layout request
    (same-origin; our Referrer-Policy is "same-origin"); without one, or from
    another site, the page is routed as before. The query string is then read
    like any URL (state.parse), and the browser checks that it drew the page it
    shows (assets/armsdash.js, `sync`).
    """
    try:
        referrer = urlsplit(flask.request.referrer or "")
    except ValueError:
        return None
    if referrer.netloc != flask.request.host or referrer.path not in dict(NAV).values():
        return None
    return referrer.path, ("?" + referrer.query) if referrer.query else ""


def page(pathname, search) -> object:
    """A page drawn for its URL, with its data."""
    found = next((p for p in dash.page_registry.values() if p["path"] == pathname), None)
    if found is None:
        return dbc.Alert(["No such page. ", dcc.Link("Go to the overview", href="/")], color="warning")
    query = {k: v[0] if len(v) == 1 else v for k, v in state.parse(search).items()}
    return found["layout"](**query)


def footer() -> list:
    cur = database().cursor()
    sources = queries.provenance(cur) if cur is not None else None
    if sources is None or sources.empty:
        return [html.Div(ui.ATTRIBUTION + ". No data loaded yet."), ui.tiv_note()]
    files = "; ".join(f"{r.source} (SIPRI data generated {r.generated or 'date not stated'}, "
                      f"loaded {r.loaded_at})" for r in sources.itertuples())
    return [html.Div(f"{ui.ATTRIBUTION}. Data: {files}."), ui.tiv_note()]


def layout() -> html.Div:
    """Built per page load, so names and years follow the database currently on disk.

    With the page's URL known (`_first_view`) the page and footer come drawn;
    the router and footer callbacks answer later path changes (and first
    loads without a Referer: dcc.Location then sets its path, which fires them).
    """
    first = _first_view()
    url = {"pathname": first[0], "search": first[1]} if first else {}
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav", **url),
        dcc.Store(id="shell-config", data={**client_config(), "drawn": "".join(first) if first else None}),
        navbar(),
        dbc.Container([
            filter_bar(),
            html.Div(_safe_page(*first) if first else None, id="page-content"),
            html.Footer(_safe_footer() if first else None, id="footer",
                        className="border-top mt-4 pt-2 pb-4 small text-muted"),
        ], fluid=True),
    ])


_safe_page = safe(lambda message: ui.problem(message))(page)
_safe_footer = safe(lambda message: ui.ATTRIBUTION)(footer)


def register(app: dash.Dash) -> None:
    app.callback(Output("page-content", "children"), Input("url", "pathname"), State("url", "search"),
                 prevent_initial_call=True)(_safe_page)

    # URL <-> controls, and the nav links: in the browser (assets/armsdash.js)
    app.clientside_callback(
        ClientsideFunction("armsdash", "sync"),
        Output("url", "search"), Output(PARAM, "value"),
        Input("url", "search"), Input(PARAM, "value"), State(PARAM, "id"), State("shell-config", "data"),
    )
    app.clientside_callback(
        ClientsideFunction("armsdash", "navLinks"),
        [Output(f"nav-{i}", "href") for i in range(len(NAV))] + [Output("clear-filters", "href")],
        Input("url", "search"), State("url", "pathname"), State("shell-config", "data"),
    )

    @app.callback(Output("footer", "children"), Input("url", "pathname"), prevent_initial_call=True)
    def footer_for(_pathname):
        return _safe_footer()
