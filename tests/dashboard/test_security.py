"""Hostile input to the web app, and the response headers that limit what injected content could do.

test_callbacks.py already proves that junk never produces an HTTP 500. These
tests go further with what an attacker would actually send (SQL fragments,
script tags, 1 MB strings, wrong JSON types, nulls), in every input of every
callback and in the query string every callback reads, and check what comes
back: no 5xx, no database error text (which would leak the schema and show
that input reaches SQL), and no user text in a place the browser would
render as HTML. The headers are checked on the production server (gunicorn),
and the content security policy in real Chromium, because a policy that
breaks the app is worse than none.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.app import create_app
from etl.load import load

ROOT = Path(__file__).resolve().parents[2]
MB = "A" * (1024 * 1024)
SQL = ["' OR 1=1 --", "'; DROP TABLE deals; --", "1); SELECT * FROM deals; --", "\" UNION SELECT 1,2,3 --",
       "x' AND (SELECT COUNT(*) FROM information_schema.tables) > 0 AND 'a'='a", "read_csv('/etc/passwd')",
       "%' ESCAPE '\\", "$1", "?", "\\x00"]
SCRIPT = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
          "<a href=\"javascript:alert(1)\">x</a>", "\"><svg onload=alert(1)>", "{{7*7}}"]
WRONG_TYPES = [None, 0, -1, 10**30, 1.5e308, True, [], [None], {}, {"a": {"b": [1]}}, [[["deep"]]], "", " "]
HOSTILE_VALUES = SQL + SCRIPT + WRONG_TYPES + [MB]
# query strings, because most callbacks read the URL: each hostile text in each key
KEYS = ["search", "supplier", "recipient", "entity", "category", "from", "to", "status", "sbloc", "rbloc", "map",
        "stack", "top"]
HOSTILE_SEARCHES = [f"?{k}={urllib.request.quote(v)}" for k in KEYS for v in SQL[:3] + SCRIPT[:2]] + [
    "?search=" + MB, "?" + MB, "?recipient=" + "&recipient=".join(SQL), "?%00=%00&%ff=%fe", "?from=2020&to=2019' --",
    "?entity=Turkiye&search=<script>alert(1)</script>"]
DB_ERROR = re.compile(r"\b(binder|parser|catalog|conversion|invalid input|syntax|out of range|internal|"
                      r"type mismatch|not implemented|constraint|dependency|serialization|transaction|io) error"
                      r"|duckdb\.|_duckdb|traceback|sqlstate|line \d+, in ", re.IGNORECASE)
NAMESPACES = {"dash_html_components", "dash_core_components", "dash_bootstrap_components", "dash_ag_grid"}
PARAM_KEYS = ["from", "to", "search", "supplier", "recipient", "category", "status", "sbloc", "rbloc", "entity",
              "map", "stack", "top"]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """A private database: the upload callback is fired too and may replace it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("armsdash_tests_root_sec", ROOT / "tests" / "conftest.py")
    root = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root)
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "armsdash.duckdb"
    load([root.write_register(folder / "register.csv")], path)
    return path


@pytest.fixture(scope="module")
def client(db):
    app = create_app(db)  # uploads allowed: the widest surface
    return app.server.test_client()


@pytest.fixture(scope="module")
def deps(client):
    deps = client.get("/_dash-dependencies").get_json()
    return [d for d in deps if "_pages_" not in d["output"] and not d.get("clientside_function")]


def _outputs(output: str) -> list[str]:
    return output[2:-2].split("...") if output.startswith("..") else [output]


def _wild(id_text: str) -> bool:
    return id_text.startswith("{") and "ALL" in id_text


def _body(dep: dict, value_for) -> dict:
    """The request the browser sends for `dep`, with `value_for(input)` as each input's value."""
    def item(i):
        if _wild(i["id"]):
            return [{"id": {"key": k, "type": "param"}, "property": i["property"], "value": value_for(i)}
                    for k in PARAM_KEYS]
        return {"id": i["id"], "property": i["property"], "value": value_for(i)}

    def out(text):
        id_text, prop = text.rsplit(".", 1)
        if _wild(id_text):
            return [{"id": {"key": k, "type": "param"}, "property": prop} for k in PARAM_KEYS]
        return {"id": id_text, "property": prop}

    outputs = [out(o) for o in _outputs(dep["output"])]
    first = dep["inputs"][0]
    changed = (json.dumps({"key": "search", "type": "param"}, separators=(",", ":")) if _wild(first["id"])
               else first["id"]) + "." + first["property"]
    return {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": [item(i) for i in dep["inputs"]], "state": [item(s) for s in dep["state"]],
            "changedPropIds": [changed]}


def _components(node):
    """Every Dash component (type/namespace/props) anywhere in a response."""
    if isinstance(node, dict):
        if {"type", "namespace", "props"} <= node.keys():
            yield node
        for value in node.values():
            yield from _components(value)
    elif isinstance(node, list):
        for value in node:
            yield from _components(value)


def _assert_safe(response, what) -> None:
    assert response.status_code in (200, 204), (what, response.status_code)
    text = response.get_data(as_text=True)
    assert not DB_ERROR.search(text), (what, DB_ERROR.search(text).group(0), text[:300])
    if response.status_code == 204:
        return
    payload = response.get_json()
    for component in _components(payload):
        props = component["props"]
        assert component["type"] not in ("Iframe",), what
        assert not props.get("dangerously_allow_html"), (what, component["type"])
        assert "dangerouslySetInnerHTML" not in props, what
        for key in ("href", "src", "data"):
            value = props.get(key)
            if isinstance(value, str):
                assert value.startswith("/") and not value.startswith("//"), (what, key, value[:80])
    # user text may come back as text (a string prop), never as the kind of component to render
    assert {c["namespace"] for c in _components(payload)} <= NAMESPACES, what


def _value_for(value, search=None):
    def pick(i):
        if i["id"] == "url" and i["property"] == "search" and search is not None:
            return search
        if i["id"] == "url" and i["property"] == "pathname" and isinstance(value, str) and len(value) < 100:
            return "/" + value
        return value
    return pick


def test_every_callback_with_hostile_values_in_every_input(client, deps):
    """~20 callbacks x 30 values: SQL, markup, 1 MB, wrong types and nulls in every input and state at once."""
    # every page's callbacks are registered (a broken registration would hide here); the URL sync,
    # the nav links and the CSV link run in the browser, the CSV itself is a route (tested below),
    # About and What changed are drawn by the router and have no callback but upload and download
    assert len(deps) >= 12
    for dep in deps:
        for value in HOSTILE_VALUES:
            response = client.post("/_dash-update-component", json=_body(dep, _value_for(value)))
            _assert_safe(response, (dep["output"][:60], repr(value)[:40]))


def test_every_callback_with_hostile_query_strings(client, deps):
    """The URL is what a link can carry: every callback, the other inputs as a browser would send them."""
    normal = {"pathname": None, "getRowsRequest": {"startRow": 0, "endRow": 100}, "n_clicks": 1,
              "cellClicked": {"rowId": "x"}, "data": True}
    for dep in deps:
        for search in HOSTILE_SEARCHES:
            for path in ("/", "/country", "/weapons", "/deals", "/flows", "/about"):
                reads_path = any(i["id"] == "url" and i["property"] == "pathname" for i in dep["inputs"] + dep["state"])
                if path != "/" and not reads_path:
                    break  # the callback does not read the path: one run is enough

                def value_for(i, path=path, search=search):
                    if i["id"] == "url":
                        return search if i["property"] == "search" else path
                    return normal.get(i["property"])
                response = client.post("/_dash-update-component", json=_body(dep, value_for))
                _assert_safe(response, (dep["output"][:60], path, search[:60]))


def test_hostile_text_comes_back_only_as_text(client, deps):
    """A search for a script tag is shown (it is the user's query), but only as a text node."""
    dep = next(d for d in deps if d["output"].startswith("..wp-"))
    needle = "<script>alert(1)</script>"
    response = client.post("/_dash-update-component", json=_body(dep, lambda i: {
        "search": "?search=" + urllib.request.quote(needle), "pathname": "/weapons"}.get(i["property"])))
    _assert_safe(response, "weapons search")
    for component in _components(response.get_json()):
        assert component["type"] not in ("Markdown", "Iframe"), component["type"]


def test_csv_download_route_with_hostile_query_strings(client):
    """The download is a plain route reading the same query string: a 200 CSV or a 400 reason, never a 5xx,
    no database error text, nothing reflected as markup, and the same headers as every page."""
    from dashboard.pages.deals import DOWNLOAD_PATH

    seen = set()
    for search in HOSTILE_SEARCHES + ["?" + urllib.request.quote(v) for v in SQL + SCRIPT] + [
            "?from=%ff%fe", "?recipient=%00", "?search=%E2%80%AE", "?category=Aircraft&category=" + MB[:5000]]:
        response = client.get(DOWNLOAD_PATH + search)
        seen.add(response.status_code)
        assert response.status_code in (200, 400), (search[:60], response.status_code)
        text = response.get_data(as_text=True)
        assert not DB_ERROR.search(text), (search[:60], text[:300])
        _assert_headers(response.headers, search[:60])
        if response.status_code == 200:
            assert response.mimetype == "text/csv" and text.startswith("deal_id,supplier,"), search[:60]
        else:
            assert response.mimetype == "text/plain", search[:60]
    assert seen == {200, 400}  # both kinds of answer were exercised
    for method in ("post", "put", "delete"):
        assert getattr(client, method)(DOWNLOAD_PATH + "?from=2000").status_code == 405


def test_malformed_page_urls_are_not_reflected_and_carry_the_headers(client):
    for path in ["/", "/<script>alert(1)</script>", "/%3Cscript%3E", "/deals?search=%3Cscript%3Ealert(1)%3C/script%3E",
                 "/country?entity=' OR 1=1 --", "/../../etc/passwd", "/assets/../app.py", "/" + "a" * 5000,
                 "/flows?" + "x=" * 3000, "/weapons?search=%ff%fe%00"]:
        response = client.get(path)
        assert response.status_code < 500, path
        body = response.get_data(as_text=True)
        # Dash Pages puts the URL in its <meta> tags, escaped: reflected as text, never as markup
        assert "<script>alert" not in body and "<script%3E" not in body and "' OR 1=1" not in body, path
        assert not DB_ERROR.search(body), path
        _assert_headers(response.headers, path)
    assert client.get("/assets/../app.py").status_code == 404  # no source served


def test_oversized_and_malformed_requests_are_refused_not_crashed(client):
    """Bodies over the 40 MB cap, broken JSON and missing fields: a 4xx, never a 5xx or an error page."""
    big = client.post("/_dash-update-component", data=b"{" + b" " * (41 * 1024 * 1024) + b"}",
                      content_type="application/json")
    assert big.status_code == 413
    _assert_headers(big.headers, "413")
    for data in (b"{not json", b"[]", b"null", b"{}", b'{"output": 5}', b'{"output": "x.y", "inputs": "z"}',
                 b"\xff\xfe"):
        response = client.post("/_dash-update-component", data=data, content_type="application/json")
        assert response.status_code == 400, (data, response.status_code)
        _assert_headers(response.headers, data)


def test_callback_requests_with_a_broken_shape_get_a_400(client, deps, caplog):
    """Each real request bent out of shape (keys dropped, values of the wrong type, lists of the
    wrong length, ids that are numbers): Dash's dispatcher raised on these (HTTP 500)."""
    import copy
    import random

    rng = random.Random(5)
    junk = [None, 5, "x", [], {}, [None], [{"id": 5, "property": 5}], {"id": "url"}]
    for dep in deps:
        good = _body(dep, lambda i: None)
        for _ in range(12):
            body = copy.deepcopy(good)
            key = rng.choice(["output", "outputs", "inputs", "state", "changedPropIds"])
            move = rng.choice(["drop", "junk", "shorter", "longer", "bad item"])
            if move == "drop":
                body.pop(key, None)
            elif move == "junk":
                body[key] = rng.choice(junk)
            elif isinstance(body.get(key), list) and move == "shorter":
                body[key] = body[key][:-1]
            elif isinstance(body.get(key), list) and move == "longer":
                body[key] = body[key] + body[key][:1]
            elif isinstance(body.get(key), list) and body[key]:
                body[key][0] = rng.choice(junk)
            response = client.post("/_dash-update-component", json=body)
            assert response.status_code in (200, 204, 400), (dep["output"][:50], key, move, response.status_code)
            assert not DB_ERROR.search(response.get_data(as_text=True)), (dep["output"][:50], key, move)
    # refused by the shape check up front, not caught after Dash failed on them
    assert not [r for r in caplog.records if "failed in Dash" in r.getMessage()]


def _assert_headers(headers, what) -> None:
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, what
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "same-origin", what
    assert headers.get("X-Frame-Options") == "DENY", what
    server = headers.get("Server", "")
    assert not re.search(r"\d", server) and "python" not in server.lower() and "werkzeug" not in server.lower(), \
        (what, server)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, data: bytes | None = None):
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.mark.parametrize("server", ["gunicorn", "armsdash serve"])
def test_production_servers_send_the_headers_and_no_version(db, server):
    """Headers are checked as the server sends them: the WSGI server adds `Server` itself."""
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    if server == "gunicorn":
        cmd = [str(bin_dir / "gunicorn"), "--no-control-socket", "-w", "1", "-b", f"127.0.0.1:{port}",
               "dashboard.wsgi:server"]
    else:
        cmd = [str(bin_dir / "armsdash"), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db),
               "--read-only"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "ARMSDASH_DB": str(db)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                status, headers, _ = _get(base + "/")
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, f"{server} did not start"
                time.sleep(0.2)
        assert status == 200
        _assert_headers(headers, (server, "/"))
        deps = json.loads(_get(base + "/_dash-dependencies")[2])
        dep = next(d for d in deps if d["output"].startswith("..ov-"))
        body = json.dumps(_body(dep, lambda i: {"search": "?search=' OR 1=1 --", "pathname": "/"}.get(i["property"])))
        for url, data in [(base + "/_dash-update-component", body.encode()), (base + "/nope?<script>", None),
                          (base + "/_dash-component-suites/dash/nope.js", None),
                          (base + "/_dash-update-component", b"{not json"),
                          (base + "/download/deals.csv?recipient=Turkey", None),
                          (base + "/download/deals.csv?recipient=%27%20OR%201=1%20--", None)]:
            status, headers, content = _get(url, data)
            assert status < 500, (server, url, status)
            assert not DB_ERROR.search(content.decode("utf-8", "replace")), (server, url)
            _assert_headers(headers, (server, url))
    finally:
        proc.terminate()
        proc.wait(10)


# --- the policy in a real browser: the app must work under it ------------------------------------

WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
    e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + (e.lineNumber || '')));
"""
PLOTTED = """
const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
return plots.length > 0 && plots.every(p => p._fullData && p._fullData.length > 0 && p.querySelector('.main-svg'))
    ? plots.length : 0;
"""


def _until(predicate, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_app_works_under_its_content_security_policy_in_chromium(dash_duo, real_db):
    """Charts, the map, the Sankey, AG Grid (with its formatter functions) and the clientside
    callback all run in Chromium with the policy on, and the browser reports no violation."""
    from selenium.webdriver.common.keys import Keys

    dash_duo.start_server(create_app(real_db, read_only=True))
    driver = dash_duo.driver
    # installed by the browser before any page script, outside the page's policy
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_CSP})
    for path, wait_for in [("/", "#ov-kpis"), ("/country?entity=India", "#cp-kpis"),
                           ("/weapons?search=S-400", "#wp-title"), ("/flows?from=2015", None),
                           ("/deals?recipient=Turkiye", "#deals-count")]:
        driver.get(dash_duo.server_url + path)
        if wait_for:
            _until(lambda: driver.execute_script(f"const e = document.querySelector('{wait_for}');"
                                                 "return e && e.textContent.trim().length > 0;"))
        if path != "/deals?recipient=Turkiye":
            assert _until(lambda: driver.execute_script(PLOTTED)), path
        assert driver.execute_script("return window.__csp") == [], path
    # deals: the grid's rows (AG Grid, valueFormatter functions) and, on a filter change, the clientside callback
    grid = "return (document.getElementById('deals-grid') || {}).textContent || ''"
    _until(lambda: "Turkiye" in driver.execute_script(grid))
    box = dash_duo.find_element("""[id='{"key":"from","type":"param"}']""")
    box.send_keys("2020", Keys.ENTER)
    _until(lambda: "from=2020" in driver.current_url)
    _until(lambda: "Turkiye" in driver.execute_script(grid))
    assert driver.execute_script("return window.__csp") == []
    logs = dash_duo.get_logs()
    assert not [e for e in logs if e.get("level") == "SEVERE" or "Content Security Policy" in e.get("message", "")], logs
    headers = driver.execute_script("return fetch('/').then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self' 'sha256-" in headers  # the page really was served under the policy
    # links built in the browser (assets/armsdash.js) from the path and the query string stay on this site
    for path, expected in (("//evil.example/x", "/"), ("/\\evil.example", "/"), ("javascript:alert(1)", "/"),
                           ("/deals", "/deals")):
        hrefs = driver.execute_script(
            "const c = JSON.parse(arguments[2]);"
            "return window.dash_clientside.armsdash.navLinks(arguments[0], arguments[1], c);",
            "?from=2000&top=5&search=%22%3E%3Cscript%3E", path, json.dumps({"paths": ["/", "/deals"],
                                                                          "global": ["from", "search"]}))
        assert all(h.startswith("/") and not h.startswith(("//", "/\\")) for h in hrefs), (path, hrefs)
        assert hrefs[-1] == expected + "?top=5", hrefs  # clearing keeps the page
        assert "<" not in "".join(hrefs), hrefs
    href = driver.execute_script("return window.dash_clientside.armsdash.downloadHref(arguments[0], arguments[1], "
                                 "{global: ['search']})", "?search=%3Cb%3E&entity=x", "/download/deals.csv?old=1")
    assert href == "/download/deals.csv?search=%3Cb%3E", href
