"""What changed: the current register snapshot against the previous one.

The comparison is `armsdash diff snapshot:previous snapshot:current` (etl.diff:
deals paired by meaning, renames matched), computed once per version of the
database file. The page shows the summary, the largest changes, and offers
the full diff as the same CSV the CLI writes.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html, no_update

from dashboard import components as ui
from dashboard.context import database, safe
from etl.errors import UserError

SHOWN = 200  # largest changes listed; the download has them all
COLUMNS = [
    {"field": "change", "headerName": "Change", "width": 110},
    {"field": "recipient", "headerName": "Recipient"},
    {"field": "supplier", "headerName": "Supplier"},
    {"field": "order_year", "headerName": "Order year", "width": 120},
    {"field": "designation", "headerName": "Designation"},
    {"field": "changed_fields", "headerName": "Changed fields", "flex": 1},
    {"field": "tiv_delivered_change", "headerName": "TIV delivered, change", "width": 190,
     "type": "numericColumn", "valueFormatter": {"function": "d3.format(',.2f')(params.value)"}},
]


@functools.lru_cache(maxsize=4)
def _compare(path: str, stamp: tuple):
    """The diff of the two newest register snapshots of this database version (None: fewer than two)."""
    from etl.diff import compare, open_side

    try:
        old = open_side("snapshot:previous", Path(path))
    except UserError:
        return None
    return compare(old, open_side("snapshot:current", Path(path)))


def _current():
    db = database()
    stamp = db.stamp
    return None if stamp is None else _compare(str(db.path), stamp)


def layout(**query):
    """The page with its data: the filters do not apply here, so it has no callback but the download's."""
    message, summary, rows = render()
    return html.Div([
        html.H4("What changed since the previous release"),
        html.P("The current register snapshot against the one loaded before it, deal by deal: deals SIPRI "
               "added or dropped, and deals it revised (renamed systems are matched, not counted as removed and "
               "added). The filters above do not apply to this page.", className="text-muted small"),
        html.Div(message, id="ch-message"),
        html.Ul(summary, id="ch-summary", className="small"),
        dbc.Button("Download the full comparison (CSV)", id="ch-download-button", size="sm",
                   color="secondary", className="mb-2"),
        dcc.Download(id="ch-download"),
        dag.AgGrid(id="ch-table", columnDefs=COLUMNS, rowData=rows,
                   defaultColDef={"sortable": True, "resizable": True, "filter": True},
                   dashGridOptions={"domLayout": "autoHeight", "pagination": True, "paginationPageSize": 50},
                   style={"height": None}),
        ui.tiv_note(),
    ])


@safe(lambda message: (ui.problem(message), [], []))
def render():
    result = _current()
    if result is None:
        return (dbc.Alert("Only one release of the register is loaded, so there is nothing to compare yet. Load "
                          "a newer (or older) register with 'armsdash load FILE' or 'armsdash fetch'; each load "
                          "is kept as a snapshot.", color="info"), [], [])
    from etl.diff import summary

    rows = result.rows
    largest = rows.reindex(rows["tiv_delivered_change"].abs().sort_values(ascending=False).index).head(SHOWN)
    table = largest[[c["field"] for c in COLUMNS]].astype(object).where(largest.notna(), None)
    note = (f"Showing the {len(largest):,} largest of {len(rows):,} differences by TIV delivered."
            if len(rows) > SHOWN else None)
    items = [html.Li(line) for line in summary(result)] + ([html.Li(note)] if note else [])
    # (the filters do not apply here: "nothing matches these filters" would send readers to them)
    message = dbc.Alert("No differences: the two snapshots hold the same deals with the same values.",
                        color="secondary", className="py-2 mb-2") if rows.empty else None
    return message, items, table.to_dict("records")


@safe(lambda message: no_update)
def download(n_clicks):
    if not n_clicks:
        return no_update
    result = _current()
    if result is None:
        return no_update
    from etl.diff import neutralise
    from etl.export import write_csv

    buffer = io.BytesIO()
    write_csv(neutralise(result.rows), buffer)
    return dcc.send_bytes(buffer.getvalue(), "armsdash-changes.csv", type="text/csv")


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/changes", name="What changed", order=6, layout=layout)
    app.callback(Output("ch-download", "data"), Input("ch-download-button", "n_clicks"),
                 prevent_initial_call=True)(download)
