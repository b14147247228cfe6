"""Small pieces of page layout shared by the pages: cards, notes, empty states.

Everything user- or data-supplied goes into components as plain strings
(children), which React escapes: nothing here renders HTML from text.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

ATTRIBUTION = "Source: SIPRI Arms Transfers Database"
TIV_NOTE = ("TIV is SIPRI's trend-indicator value: a volume index of military capability transferred, "
            "not money. Compare TIV with TIV, never with dollars.")
LOAD_COMMANDS = ("uv run armsdash load trade-register.csv   # a SIPRI trade register export (any variant)\n"
                 "uv run armsdash fetch                     # or download it from SIPRI")


def tiv_note(className: str = "text-muted d-block") -> html.Small:
    return html.Small(TIV_NOTE, className=className)


def kpi(label: str, value: str, note: str = "", id_: str | None = None) -> dbc.Card:
    body = [html.Div(label, className="text-muted small"), html.Div(value, className="fs-4 fw-semibold")]
    if note:
        body.append(html.Div(note, className="text-muted small"))
    return dbc.Card(dbc.CardBody(body, className="py-2"), className="h-100", **({"id": id_} if id_ else {}))


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


def graph(id_: str, **kw) -> dcc.Graph:
    """A chart that renders its map from the app's own assets (no CDN: works offline)."""
    return dcc.Graph(id=id_, config={"topojsonURL": "/assets/topojson/", "displaylogo": False,
                                     "modeBarButtonsToRemove": ["lasso2d", "select2d"]}, **kw)


def entity_link(name: str, search: str = "") -> dcc.Link:
    from urllib.parse import urlencode
    return dcc.Link(name, href=f"/country?{urlencode({'entity': name})}")
