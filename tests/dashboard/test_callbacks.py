"""Callbacks called as Dash calls them: normal views, empty and first-run states, hostile input."""

from __future__ import annotations

import base64
import json
import re

import plotly.utils as plotly_json
import pytest

from dashboard.app import create_app
from dashboard.pages import about, country, deals, flows, overview, weapons

RENDERS = [overview.render, country.render, weapons.render, flows.render]
HOSTILE = [None, 42, "", "?", "?from=abc", "?from=2020&to=1990", "?recipient=Atlantis", "?category=%00",
           "?search=" + "x" * 300, "?search=((((", "?search=%27%3B%20DROP%20TABLE%20deals%3B--", "?entity=Atlantis",
           "?entity=<script>alert(1)</script>", "?map=../../etc&stack=1&top=-1", "?supplier=" + "&supplier=".join(["x"] * 40),
           "?status=new&status=second-hand&sbloc=NATO&rbloc=EU&rbloc=CSTO", "?from=-99999999999999999999"]


@pytest.mark.parametrize("render", RENDERS, ids=lambda f: f.__module__.rsplit(".", 1)[-1])
@pytest.mark.parametrize("search", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_urls_give_a_view_not_an_error(small_app, render, search, caplog):
    outputs = render(search)
    assert isinstance(outputs, tuple)
    assert not [r for r in caplog.records if r.levelname == "ERROR"], "fell through to the safety net"


def test_overview_renders_the_selection(small_app):
    out = dict(zip(overview.OUTPUTS, overview.render("?recipient=Turkey"), strict=True))
    assert out["ov-message", "children"] is None and out["ov-body", "style"] == {}
    assert out["ov-kpi-deals-value", "children"] == "2"  # deals ordered: the two of Turkiye
    assert out["ov-kpi-deals-note", "children"] == "order years all years"
    assert list(out["ov-map", "figure"]["data"][0]["locations"]) == ["RUS", "ITA"]
    assert {t["name"] for t in out["ov-years", "figure"]["data"]} == {"Air defence systems", "Aircraft"}
    # the top-10 lists: their rows as the browser draws them (assets/armsdash.js)
    suppliers = json.loads(out["ov-top-suppliers-list", "data-rows"])
    # Italy is on the map with 0 TIV (nothing delivered yet); a list of the largest leaves it out
    assert [row[0] for row in suppliers["rows"]] == ["Russia"] and suppliers["rows"][0][1] == 100.0
    assert out["ov-top-suppliers-title", "children"].startswith("Top 10 suppliers")
    assert [row[0] for row in json.loads(out["ov-top-recipients-list", "data-rows"])["rows"]] == ["Turkiye"]


@pytest.mark.parametrize("render, search", [
    (overview.render, "?recipient=Turkey"), (overview.render, "?stack=supplier&map=imports"),
    (country.render, "?entity=TUR"), (weapons.render, "?search=S-400"), (flows.render, ""),
])
def test_figures_use_only_the_bundled_trace_types(small_app, render, search):
    """The app ships a partial plotly.js: a figure of another trace type would stay blank."""
    from dashboard.figures import BUNDLED_TRACES

    figures = [o for o in render(search) if isinstance(o, dict) and "data" in o and "layout" in o]
    types = {trace["type"] for fig in figures for trace in fig["data"]}
    assert types and types <= BUNDLED_TRACES, types
    # plotly.js builds CSS selectors from trace uids: "Russia/Soviet Union" as a uid broke the page
    uids = [trace["uid"] for fig in figures for trace in fig["data"] if "uid" in trace]
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", uid) for uid in uids), uids


def test_unknown_filter_shows_the_reason(small_app):
    message = overview.render("?recipient=Atlantis")[0]
    assert "Atlantis" in str(message) and "no such supplier or recipient" in str(message)


def test_country_profile_answers_the_supplier_question(small_app):
    out = country.render("?entity=TUR")
    facts, message, style, kpis = out[:4]
    assert "ISO3 TUR" in facts and style == {}
    assert "Russia" in str(kpis)  # largest supplier
    blocs = out[5]
    assert {t["name"] for t in blocs["data"]} == {"NATO members", "Russia/Soviet Union"}


@pytest.mark.parametrize("path, search, page", [
    ("/", "?recipient=Turkey&stack=supplier", overview), ("/country", "?entity=TUR&from=2010", country),
    ("/weapons", "?search=S-400", weapons), ("/flows", "?top=10", flows), ("/deals", "?recipient=Turkey", deals),
])
def test_router_draws_each_page_with_its_data(small_db, path, search, page):
    """A page arrives with what its callback would set (one round trip less), and that callback
    then fires on filter changes only."""
    app = create_app(small_db)
    client = app.server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    router = next(d for d in deps if d["output"] == "page-content.children")
    body = {"output": router["output"], "outputs": {"id": "page-content", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": path}],
            "state": [{"id": "url", "property": "search", "value": search}], "changedPropIds": ["url.pathname"]}
    drawn = json.dumps(client.post("/_dash-update-component", json=body).get_json())
    with app.server.test_request_context():
        expected = (page.count if page is deals else page.render)(search)
    for (id_, prop), value in zip(page.OUTPUTS, expected):
        assert json.dumps(value, cls=plotly_json.PlotlyJSONEncoder)[1:-1] in drawn, (id_, prop)
    callback = next(d for d in deps if d["output"].lstrip(".").startswith(page.OUTPUTS[0][0]))
    assert callback["prevent_initial_call"] and [i["id"] for i in callback["inputs"]] == ["url"]


def test_country_deals_follow_the_charts_with_the_same_selection(small_app):
    """The grid's rows come from their own callback, fired by the charts' answer."""
    grid, shown = country.deals("note", "?entity=TUR")
    assert {r["designation"] for r in grid.rowData} == {"S-400 Triumf", "T-129B ATAK"} and shown == ""
    grid, _ = country.deals("note", "?entity=Turkey&from=2010")
    assert [r["designation"] for r in grid.rowData] == ["S-400 Triumf"]
    for search in ("", "?entity=Atlantis", "?entity=TUR&from=abc", None, 42):
        grid, shown = country.deals(None, search)
        assert grid.rowData == [] and shown == "", search


def test_first_run_state_without_database(tmp_path):
    app = create_app(tmp_path / "missing.duckdb")
    with app.server.test_request_context():
        for render in RENDERS:
            assert "No data loaded yet" in str(render("")), render
        assert "No data loaded yet" in str(deals.count("")[0])
        sources, load = about.render("/")
        assert "Drop the CSV" in str(load)
    read_only = create_app(tmp_path / "missing.duckdb", read_only=True)
    with read_only.server.test_request_context():
        assert "switched off" in str(about.render("/")[1])
        assert "switched off" in str(about.upload("data:text/csv;base64,eA==", "x.csv"))


def test_grid_rows_validate_requests(small_app):
    ok = deals.rows({"startRow": 0, "endRow": 100, "sortModel": [{"colId": "order_year", "sort": "desc"}]}, "")
    assert ok["rowCount"] == 5 and ok["rowData"][0]["order_year"] == 2019
    for bad in (None, [], "x", {"startRow": -5, "endRow": 10**12}, {"startRow": "0", "sortModel": "x"},
                {"startRow": 0, "endRow": 50, "sortModel": [{"colId": "comments; DROP", "sort": "sideways"}, 7]}):
        assert set(deals.rows(bad, "")) == {"rowData", "rowCount"}
    assert deals.rows({"startRow": 0, "endRow": 10}, "?from=x") == {"rowData": [], "rowCount": 0}


def test_deal_detail_accepts_only_deal_ids(small_app):
    row = deals.rows({"startRow": 0, "endRow": 1}, "")["rowData"][0]
    is_open, title, body = deals.detail({"rowId": row["deal_id"]}, "")
    assert is_open and row["designation"] in title and "line" in str(body)
    for bad in (None, {}, {"rowId": "' OR 1=1 --"}, {"rowId": 5}, {"rowId": "0" * 16}):
        result = deals.detail(bad, "")
        assert result[0] in (True,) or result[0].__class__.__name__ == "NoUpdate"


def test_upload_runs_the_load_path_and_is_bounded(tmp_path, register_bytes):
    db = tmp_path / "up.duckdb"
    app = create_app(db)
    with app.server.test_request_context():
        good = "data:text/csv;base64," + base64.b64encode(register_bytes).decode()
        assert "loaded 5 deals" in str(about.upload(good, "../../etc/passwd.csv"))
        assert db.exists() and not (tmp_path / "passwd.csv").exists()
        assert "could not be read" in str(about.upload("data:text/csv;base64,@@@", "x.csv"))
        assert "could not be read" in str(about.upload(None, None))
        garbage = "data:text/csv;base64," + base64.b64encode(b"a,b\n1,2\n").decode()
        assert "x.csv" in str(about.upload(garbage, "x.csv"))  # the load path's own one-line reason


def test_every_callback_over_http_survives_hostile_payloads(small_db):
    """Replays what a browser (or an attacker) can send to each callback: never an HTTP 500."""
    app = create_app(small_db)
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    deps = client.get("/_dash-dependencies").get_json()
    junk = [None, "?from=abc&recipient=Atlantis", {"startRow": "x"}, [1, 2], "x" * 5000, -1, {"rowId": "'--"}]
    for dep in deps:
        if "_pages_" in dep["output"] or dep.get("clientside_function"):
            continue  # Dash's stock router (unused) and browser-only callbacks
        for value in junk:
            body = {"output": dep["output"], "inputs": [_item(i, value) for i in dep["inputs"]],
                    "state": [_item(s, value) for s in dep["state"]],
                    "changedPropIds": [_prop_id(i) for i in dep["inputs"]]}
            outputs = [_output(o) for o in _split(dep["output"])]
            body["outputs"] = outputs if dep["output"].startswith("..") else outputs[0]
            response = client.post("/_dash-update-component", json=body)
            assert response.status_code in (200, 204), (dep["output"], value, response.status_code)


PARAM_IDS = [{"key": k, "type": "param"} for k in ("from", "search", "recipient", "entity", "map", "top")]


def _split(output: str) -> list[str]:
    return output[2:-2].split("...") if output.startswith("..") else [output]


def _wild(id_text: str) -> bool:
    return id_text.startswith("{") and "ALL" in id_text


def _item(dep_input: dict, value):
    if _wild(dep_input["id"]):  # a wildcard input arrives as a list, one entry per matching component
        return [{"id": i, "property": dep_input["property"], "value": value} for i in PARAM_IDS]
    return {"id": dep_input["id"], "property": dep_input["property"], "value": value}


def _output(text: str):
    id_text, prop = text.rsplit(".", 1)
    if _wild(id_text):
        return [{"id": i, "property": prop} for i in PARAM_IDS]
    return {"id": id_text, "property": prop}


def _prop_id(dep_input: dict) -> str:
    if _wild(dep_input["id"]):
        return json.dumps(PARAM_IDS[0], separators=(",", ":")) + "." + dep_input["property"]
    return f"{dep_input['id']}.{dep_input['property']}"
