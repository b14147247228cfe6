"""Deals: the searchable deal table, paged and sorted on the server, with detail and CSV download.

The grid uses AG Grid's infinite row model: the browser asks for one block of
rows at a time and never holds the table. The CSV download is a link to
DOWNLOAD_PATH with the page's filters in its query string, answered by a plain
Flask route that streams the CLI's own export (etl.export.CsvExport) on the
same Filters, so it equals `armsdash export` byte for byte and the server
never holds the whole CSV.
"""

from __future__ import annotations

import re

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import flask
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update

from dashboard import components as ui, queries, state
from dashboard.context import INTERNAL, log, safe, upload_allowed, view
from etl.export import CsvExport


BLOCK = 100
DOWNLOAD_PATH = "/download/deals.csv"
DOWNLOAD_NAME = "armsdash-deals.csv"
# what `count` sets: drawn into the page by the router, then updated on each filter change
OUTPUTS = [("deals-message", "children"), ("deals-count", "children")]
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


def download_href(params: state.Params) -> str:
    """The CSV link for a view: the download route with the view's global filters."""
    return DOWNLOAD_PATH + state.encode({k: v for k, v in params.items() if k in state.GLOBAL_KEYS})


def layout(**query):
    page = html.Div([
        html.Div(id="deals-message"),
        dbc.Row([
            dbc.Col(html.Div(id="deals-count", className="fw-semibold"), md=8),
            dbc.Col(html.A("Download CSV (all matching deals)", id="deals-download",
                           href=download_href(state.from_query(query)), download=DOWNLOAD_NAME,
                           className="btn btn-primary btn-sm"), md=4, className="text-md-end"),
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
        dcc.Store(id="deals-refresh"),
        dbc.Modal([dbc.ModalHeader(dbc.ModalTitle("Deal", id="deals-detail-title")),
                   dbc.ModalBody(id="deals-detail-body")], id="deals-detail", size="lg", is_open=False),
    ])
    return ui.fill(page, OUTPUTS, count(state.query_string(query)))


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
def count(search):
    v = view(search)
    if v.no_data:
        return ui.no_data(upload_allowed()), ""
    if not v.ok:
        return ui.problem(v.problem), "0 deals"
    n = queries.deal_count(v.cur, v.filters)
    return (ui.nothing_matches() if n == 0 else None), f"{n:,} deals match"


def _text(message: str, status: int) -> flask.Response:
    return flask.Response(message + "\n", status=status, mimetype="text/plain")


def download() -> flask.Response:
    """GET DOWNLOAD_PATH?<the page's query string>: the matching deals as `armsdash export` writes them.

    The query string is read as the pages read theirs (state.parse, the CLI's
    Filters): a filter the data cannot answer is a 400 with the reason, never
    a 500. The CSV is streamed a few thousand rows at a time.
    """
    try:
        v = view("?" + flask.request.query_string.decode("utf-8", "replace"))
        if v.no_data:
            return _text("No data loaded yet: load SIPRI's trade register first.", 404)
        if not v.ok:
            return _text(v.problem, 400)
        export = CsvExport(v.cur, "deals", v.filters)
    except Exception:  # not the request's fault: said so, and logged
        log.exception("CSV download failed")
        return _text(INTERNAL, 500)

    def chunks():
        try:
            yield from export
        except Exception:  # headers are sent: the file ends short, the log says why
            log.exception("CSV download failed after %d rows", export.rows)

    return flask.Response(chunks(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{DOWNLOAD_NAME}"', "Cache-Control": "no-store"})


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
    app.callback(*[Output(id_, prop) for id_, prop in OUTPUTS], Input("url", "search"),
                 prevent_initial_call=True)(count)
    app.server.add_url_rule(DOWNLOAD_PATH, "deals_download", download, methods=["GET"])
    # the link follows the URL in the browser (assets/armsdash.js)
    app.clientside_callback(ClientsideFunction("armsdash", "downloadHref"), Output("deals-download", "href"),
                            Input("url", "search"), State("deals-download", "href"), State("shell-config", "data"))
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
