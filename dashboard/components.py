"""Small pieces of page layout shared by the pages: cards, notes, empty states.

Everything user- or data-supplied goes into components as plain strings
(children), which React escapes: nothing here renders HTML from text.
"""

from __future__ import annotations

import json
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component

from dashboard.figures import pending

ATTRIBUTION = "Source: SIPRI Arms Transfers Database"
TIV_NOTE = ("TIV is SIPRI's trend-indicator value: a volume index of military capability transferred, "
            "not money. Compare TIV with TIV, never with dollars.")
LOAD_COMMANDS = ("uv run armsdash load trade-register.csv   # a SIPRI trade register export (any variant)\n"
                 "uv run armsdash fetch                     # or download it from SIPRI")


def tiv_note(className: str = "text-muted d-block") -> html.Small:
    return html.Small(TIV_NOTE, className=className)


def kpi(label: str, value: str, note: str = "", id_: str | None = None) -> dbc.Card:
    """A headline figure. With `id_`, its value and note have ids (`{id_}-value`, `{id_}-note`), so
    a callback can change their text in place instead of building the card again."""
    ids = ({"id": f"{id_}-value"}, {"id": f"{id_}-note"}) if id_ else ({}, {})
    body = [html.Div(label, className="text-muted small"), html.Div(value, className="fs-4 fw-semibold", **ids[0])]
    if note or id_:
        body.append(html.Div(note, className="text-muted small", **ids[1]))
    return dbc.Card(dbc.CardBody(body, className="py-2"), className="h-100")


def fmt(value, digits: int = 0) -> str:
    """A number for people: thousands separators, '–' for unknown."""
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:,.{digits}f}"


def no_data(upload_allowed: bool) -> dbc.Alert:
    """First run: nothing loaded yet, and how to change that."""
    return dbc.Alert([
        html.H4("No data loaded yet", className="alert-heading"),
        html.P("This dashboard shows the SIPRI Arms Transfers Database once a trade register is loaded. "
               "Download the trade register (CSV) from SIPRI's Arms Transfers Database and load it with:"),
        html.Pre(LOAD_COMMANDS, className="bg-light p-2 border"),
        html.P(["The dashboard picks up a new load without a restart. ",
                *(["You can also upload the CSV on the ", dcc.Link("About & data", href="/about"), " page."]
                  if upload_allowed else ["Uploading is switched off on this server (read-only)."])],
               className="mb-0"),
    ], color="info", id="no-data")


def problem(message: str) -> dbc.Alert:
    """A filter the data cannot answer (unknown country, bad year...): said plainly, no chart."""
    return dbc.Alert(message, color="warning", className="py-2 mb-2")


def nothing_matches() -> dbc.Alert:
    return dbc.Alert("Nothing matches these filters. Widen the year range or remove a filter.",
                     color="secondary", className="py-2 mb-2")


def graph(id_: str, height: int = 420, **kw) -> dcc.Graph:
    """A chart that renders its map from the app's own assets (no CDN: works offline).

    Until its callback answers it holds an empty figure of about its final height.
    """
    return dcc.Graph(id=id_, figure=pending(height), config={"topojsonURL": "/assets/topojson/", "displaylogo": False,
                                                             "modeBarButtonsToRemove": ["lasso2d", "select2d"]}, **kw)


def fill(tree: Component, outputs: list[tuple[str, str]], values) -> Component:
    """`tree` with `values` set on the (id, property) `outputs` its callback would set.

    The router draws a page with its data already in it (a page's callback
    then answers filter changes only): one server round trip less before the
    first chart, and no empty chart drawn first.
    """
    wanted: dict[str, dict[str, object]] = {}
    for (id_, prop), value in zip(outputs, values, strict=True):
        if value is not dash.no_update:
            wanted.setdefault(id_, {})[prop] = value
    stack: list = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, Component):
            id_ = getattr(node, "id", None)
            for prop, value in (wanted.get(id_, {}) if isinstance(id_, str) else {}).items():
                setattr(node, prop, value)
            stack.append(getattr(node, "children", None))
    return tree


def share_bars(id_: str) -> html.Div:
    """Where a ranked list of the largest entities goes; a callback sets its `share_rows`
    as the `data-rows` of `{id_}-list`.

    Plain HTML rather than a Plotly chart: ten labelled bars need no axes,
    and a chart's redraw was ~15-25 ms in Chromium on these machines. The
    rows are drawn by the browser (assets/armsdash.js, drawShares) from that
    attribute, as soon as React sets it: as Dash components, the ~60
    elements of two lists cost Dash's renderer ~100 ms on every filter
    change, and a clientside callback drew them one render cycle (~40 ms)
    after the charts (docs/benchmarks.md). Text is set as text, never as HTML.
    """
    return html.Div([html.H6(id=f"{id_}-title"), html.Ol(id=f"{id_}-list", className="list-unstyled small mb-1 share-bars"),
                     html.Div("TIV delivered (share of the selection's total)", className="text-muted small")], id=id_)


def share_rows(frame, title: str, colour: str = "#1f77b4") -> tuple[str, str]:
    """What `share_bars` shows for `frame` (`name`, `tiv`, `share`): its title, and the rows as
    JSON: per entity its name, bar length (% of the largest) and "TIV (share)" as `fmt` prints them."""
    rows = frame[frame["tiv"].fillna(0) > 0] if not frame.empty else frame
    largest = float(rows["tiv"].max()) if not rows.empty else 1.0
    return title, json.dumps({"colour": colour, "empty": "No deliveries in this selection",
                              "rows": [[str(r.name), round(100 * float(r.tiv) / largest, 1),
                                        f"{fmt(r.tiv)} ({float(r.share or 0) * 100:.1f}%)"] for r in rows.itertuples()]})


def share_outputs(id_: str) -> list[tuple[str, str]]:
    """The (id, property) pairs a callback sets with `share_rows`."""
    return [(f"{id_}-title", "children"), (f"{id_}-list", "data-rows")]


def entity_link(name: str, search: str = "") -> dcc.Link:
    from urllib.parse import urlencode
    return dcc.Link(name, href=f"/country?{urlencode({'entity': name})}")
