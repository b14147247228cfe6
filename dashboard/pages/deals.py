"""Deals: the searchable deal table, paged and sorted on the server, with detail and CSV download.

The grid uses AG Grid's infinite row model: the browser asks for one block of
rows at a time and never holds the table. The CSV download runs the CLI's
export code on the same Filters, so it equals `armsdash export` byte for byte.
"""

from __future__ import annotations

import io
import re

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from dashboard import components as ui, queries
from dashboard.context import safe, upload_allowed, view
from etl.export import export_frame, write_csv


BLOCK = 100
DEAL_ID = re.compile(r"^[0-9a-f]{16}$")
NUMBER = {"type": "rightAligned", "valueFormatter": {"function": "d3.format(',.4~f')(params.value)"}}
COLUMNS = [
    {"field": "recipient", "pinned": "left", "width": 150},
    {"field": "supplier", "width": 140},
    {"field": "order_year", "headerName": "Ordered", "width": 95, "type": "rightAligned"},
    {"field": "number_ordered", "headerName": "No. ordered", "width": 105, "type": "rightAligned"},
    {"field": "designation", "width": 170},
    {"field": "description", "width": 170},
    {"field": "category", "width": 140},
    {"field": "number_delivered", "headerName": "No. delivered", "width": 110, "type": "rightAligned"},
    {"field": "delivery_years", "headerName": "Delivery years", "width": 150},
    {"field": "status", "width": 120},
    {"field": "tiv_total_order", "headerName": "TIV order (index)", "width": 130, **NUMBER},
    {"field": "tiv_delivered", "headerName": "TIV delivered (index)", "width": 140, **NUMBER},
    {"field": "reported_value_usd_m", "headerName": "Reported value ($ m)", "width": 150, **NUMBER},
    {"field": "reported_value_scope", "headerName": "Value scope", "width": 105},
    {"field": "comments", "width": 320},
]


def layout(**query):
    return html.Div([
        dcc.Store(id="deals-ready"),  # fires the page's callback when the page is inserted
        html.Div(id="deals-message"),
        dbc.Row([
            dbc.Col(html.Div(id="deals-count", className="fw-semibold"), md=8),
            dbc.Col(dbc.Button("Download CSV (all matching deals)", id="deals-download-button", size="sm",
                               color="primary"), md=4, className="text-md-end"),
        ], className="mb-2 align-items-center"),
        dag.AgGrid(
            id="deals-grid", rowModelType="infinite", columnDefs=COLUMNS,
            defaultColDef={"sortable": True, "resizable": True, "filter": False},
            getRowId="params.data.deal_id",
            dashGridOptions={"cacheBlockSize": BLOCK, "maxBlocksInCache": 20, "infiniteInitialRowCount": 1,
                             "rowSelection": {"mode": "singleRow", "checkboxes": False},
                             "tooltipShowDelay": 300},
            style={"height": "560px"},
        ),
        html.Small("Click a row for the deal's full record. Sorting is done on the server over all matching "
                   "deals; the year filter is the order year here.", className="text-muted"),
        ui.tiv_note(),
        dcc.Download(id="deals-download"),
        dcc.Store(id="deals-refresh"),
        dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Deal", id="deals-detail-title")),
                   dbc.ModalBody(id="deals-detail-body")], id="deals-detail", size="lg", is_open=False),
    ])


@safe(lambda message: {"rowData": [], "rowCount": 0})
def rows(request, search):
    """One block of rows for the grid; a hostile request gets an empty block."""
    v = view(search)
    if not v.ok or not isinstance(request, dict):
        return {"rowData": [], "rowCount": 0}
    start = request.get("startRow")
    end = request.get("endRow")
    start = start if isinstance(start, int) and 0 <= start <= 10_000_000 else 0
    end = end if isinstance(end, int) and start < end <= start + 1000 else start + BLOCK
    sort = [(s.get("colId"), s.get("sort")) for s in (request.get("sortModel") or [])[:5] if isinstance(s, dict)]
    page = queries.deals_page(v.cur, v.filters, sort, start, end - start)
    count = queries.deal_count(v.cur, v.filters)
    data = page.astype(object).where(page.notna(), None).to_dict("records")
    return {"rowData": data, "rowCount": count}


@safe(lambda message: (ui.problem(message), ""))
def count(search, _ready=None):
    v = view(search)
    if v.no_data:
        return ui.no_data(upload_allowed()), ""
    if not v.ok:
        return ui.problem(v.problem), "0 deals"
    n = queries.deal_count(v.cur, v.filters)
    return (ui.nothing_matches() if n == 0 else None), f"{n:,} deals match"


@safe(lambda message: no_update)
def download(n_clicks, search):
    if not n_clicks:
        return no_update
    v = view(search)
    if not v.ok:
        return no_update
    frame = export_frame(v.cur, "deals", v.filters)
    buffer = io.BytesIO()
    write_csv(frame, buffer)
    return dcc.send_bytes(buffer.getvalue(), "armsdash-deals.csv", type="text/csv")


def _detail_rows(record: dict) -> list:
    shown = [("Supplier", "supplier"), ("Recipient", "recipient"), ("Designation", "designation"),
             ("Description", "description"), ("Category", "category"), ("Order year", "order_year"),
             ("Number ordered", "number_ordered"), ("Number delivered", "number_delivered"),
             ("Delivery years", "delivery_years"), ("Status", "status"), ("Comments", "comments"),
             ("TIV per unit (index)", "tiv_per_unit"), ("TIV total order (index)", "tiv_total_order"),
             ("TIV delivered (index)", "tiv_delivered"), ("Reported value ($ m, lower bound)", "reported_value_usd_m"),
             ("Reported value, upper bound ($ m)", "reported_value_usd_m_max"),
             ("Reported value scope", "reported_value_scope"), ("Reported value as written", "reported_value_text"),
             ("Deal id", "deal_id"), ("Source file, line", "source"), ("SIPRI data generated", "source_generated")]
    out = []
    for label, key in shown:
        value = record.get(key)
        if key == "source":
            value = f"{value}, line {record.get('line')}"
        for flag in ("order_year", "number_ordered", "number_delivered"):
            if key == flag and record.get(f"{flag}_estimated") is True:
                value = f"{value} (estimate)"
        text = "" if value is None or value != value else str(value)
        out.append(html.Tr([html.Th(label, className="small"), html.Td(text, className="small")]))
    return out


@safe(lambda message: (True, "Deal", ui.problem(message)))
def detail(cell, search):
    if not isinstance(cell, dict):
        return no_update, no_update, no_update
    deal_id = cell.get("rowId")
    if not isinstance(deal_id, str) or not DEAL_ID.match(deal_id):
        return no_update, no_update, no_update
    v = view(search)
    record = queries.deal(v.cur, deal_id) if v.cur is not None else None
    if record is None:
        return True, "Deal", ui.problem("This deal is not in the current data (was the data reloaded?).")
    title = f"{record['supplier']} → {record['recipient']}: {record['designation']}"
    return True, title, [dbc.Table(html.Tbody(_detail_rows(record)), bordered=False, size="sm"),
                         html.Small(f"{ui.ATTRIBUTION}. {ui.TIV_NOTE}", className="text-muted")]


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/deals", name="Deals", order=3, layout=layout)
    app.callback(Output("deals-grid", "getRowsResponse"),
                 Input("deals-grid", "getRowsRequest"), State("url", "search"))(rows)
    app.callback(Output("deals-message", "children"), Output("deals-count", "children"),
                 Input("url", "search"), Input("deals-ready", "data"))(count)
    app.callback(Output("deals-download", "data"), Input("deals-download-button", "n_clicks"),
                 State("url", "search"), prevent_initial_call=True)(download)
    app.callback(Output("deals-detail", "is_open"), Output("deals-detail-title", "children"),
                 Output("deals-detail-body", "children"),
                 Input("deals-grid", "cellClicked"), State("url", "search"), prevent_initial_call=True)(detail)
    # a new selection empties the grid's block cache, so it asks for its rows again
    app.clientside_callback(
        """function(search) {
            try {
                const api = dash_ag_grid.getApi('deals-grid');
                if (api) { api.purgeInfiniteCache(); }
            } catch (e) { /* grid not mounted yet: it will ask for rows itself */ }
            return search || '';
        }""",
        Output("deals-refresh", "data"), Input("url", "search"), prevent_initial_call=True)
