"""About & data: what the numbers mean, where they come from, and loading data.

The upload runs the CLI's own load path (etl.load.load), so an uploaded file
is read, checked, quarantined and snapshotted exactly as `armsdash load` would;
it is off when the app runs read-only (public deployments).
"""

from __future__ import annotations

import base64
import binascii
import re
import tempfile
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from dashboard import components as ui, queries
from dashboard.context import database, safe, upload_allowed
from etl.filters import Filters


MAX_UPLOAD = 25 * 1024 * 1024  # decoded bytes; the full register is about 4 MB
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

METHOD = [
    ("What TIV is, and is not", [
        "SIPRI measures the volume of major conventional arms transferred with its trend-indicator value (TIV): "
        "a unit cost for each weapon, based on its military capability, not on its price. TIV is a volume index, "
        "not money. It is the right tool for trends and for comparing countries' shares; it cannot be "
        "compared with sales values, budgets or GDP.",
        "A TIV of 0 in SIPRI's data means 'between 0 and 0.5'; an empty TIV means none was given.",
    ]),
    ("Deliveries by year", [
        "SIPRI's trade register gives one TIV for all deliveries of a deal and the list of years in which they "
        "happened, not the split. This dashboard divides a deal's delivered TIV evenly over its delivery years. "
        "Checked against SIPRI's exact per-year figures for US exports, this is off by a median 9% for one "
        "recipient in one year but about 2% over five years: compare multi-year periods, not single years.",
        "Year filters use the delivery year for TIV totals, maps and charts, and the order year for deal lists "
        "(Deals, Weapon systems, the deals of a country profile) and the CSV download.",
    ]),
    ("Reported deal values", [
        "Where SIPRI's comments report what a deal cost (\"$3 b deal\", \"INR390 b ($5.4 b) deal\"), the "
        "dashboard shows it in millions of US dollars, taking SIPRI's own dollar figure where it gives one. "
        "'part of' marks a value for a larger programme the deal belongs to. Ranges are shown low–high. "
        "These are values as reported, for single deals; they are not SIPRI estimates and are not summed.",
    ]),
    ("Blocs", [
        "NATO, EU, CSTO and Warsaw Pact membership is applied as of each year (a member from the year it joined, "
        "not in the year it left), from data/blocs.csv where every row cites its source. The country profile's "
        "bloc chart counts a supplier as NATO if it was a member in the delivery year; Russia and the Soviet "
        "Union are one group.",
    ]),
]


def layout(**query):
    """The page with its data: nothing on it depends on the filters, so it has no callback of its own
    (but the upload's)."""
    sources, load = render("/about")
    return html.Div([
        dbc.Row([
            dbc.Col([html.H4("About the data and methods"),
                     *[html.Div([html.H5(title, className="mt-3"), *[html.P(t) for t in texts]])
                       for title, texts in METHOD]], lg=7),
            dbc.Col([html.H5("Data in this dashboard"), html.Div(sources, id="ab-sources"),
                     html.H5("Load data", className="mt-4", id="load"), html.Div(load, id="ab-load")], lg=5),
        ]),
        html.P(f"{ui.ATTRIBUTION}. Stockholm International Peace Research Institute, "
               "https://www.sipri.org/databases/armstransfers. This dashboard is independent of SIPRI.",
               className="mt-3"),
    ])


@safe(lambda message: (ui.problem(message), ""))
def render(_pathname=None):
    db = database()
    cur = db.cursor()
    sources = queries.provenance(cur) if cur is not None else None
    if sources is None or sources.empty:
        info = ui.no_data(upload_allowed())
    else:
        info = [dbc.Table.from_dataframe(
            sources.rename(columns={"source": "file", "generated": "SIPRI data generated",
                                    "loaded_at": "loaded (UTC)", "records": "records"})
                   [["file", "SIPRI data generated", "loaded (UTC)", "records"]], size="sm", bordered=True),
            html.Small(f"Database: {db.path.name}; deals: {queries.deal_count(cur, Filters()):,}. "
                       "Every CSV row carries its source file and SIPRI's generation date.", className="text-muted")]
    commands = html.Pre(ui.LOAD_COMMANDS, className="bg-light p-2 border small")
    if not upload_allowed():
        load = [html.P("Uploading is switched off on this server (read-only). The operator loads data with:"),
                commands]
    else:
        load = [html.P("Load a SIPRI trade register export (CSV, any of SIPRI's variants, up to 25 MB). "
                       "It becomes the current data for everyone using this dashboard; the previous load is kept."),
                dcc.Upload(id="ab-upload", max_size=MAX_UPLOAD, multiple=False, accept=".csv,.txt,text/csv",
                           children=html.Div(["Drop the CSV here or ", html.A("choose a file")]),
                           className="border border-2 rounded p-4 text-center bg-light"),
                dcc.Loading(html.Div(id="ab-upload-result", className="mt-2")),
                html.P("Or from a shell:", className="mt-3 mb-1"), commands]
    return info, load


@safe(lambda message: ui.problem(message))
def upload(contents, filename):
    """Decode, bound, store under a safe name, and load through the CLI's load path."""
    from etl.errors import UserError
    from etl.load import load

    if not upload_allowed():
        return ui.problem("Uploading is switched off on this server.")
    if not isinstance(contents, str) or "," not in contents:
        return ui.problem("That upload could not be read.")
    try:
        data = base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return ui.problem("That upload could not be read.")
    if len(data) > MAX_UPLOAD:
        return ui.problem(f"The file is larger than {MAX_UPLOAD // 2**20} MB.")
    name = SAFE_NAME.sub("_", Path(str(filename or "upload.csv")).name)[:100] or "upload.csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            report = load([path], database().path)
        except UserError as exc:
            return ui.problem(str(exc))
    if report.unchanged:
        return dbc.Alert(f"{name}: these data are already loaded; nothing changed.", color="info")
    f = report.files[0]
    return dbc.Alert([
        html.Div(f"{name}: loaded {report.deals:,} deals ({f.quarantined:,} records quarantined, "
                 f"{f.repaired:,} repaired; SIPRI data generated {f.generated or 'not stated'})."),
        html.Div([dcc.Link("Open the overview", href="/"), " (reload the page to refresh the filter lists)."]),
    ], color="success")


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/about", name="About & data", order=5, layout=layout)
    app.callback(Output("ab-upload-result", "children"), Input("ab-upload", "contents"),
                 State("ab-upload", "filename"), prevent_initial_call=True)(upload)
