"""`armsdash fetch` against a local server answering in SIPRI's shapes (loopback only, never the real service)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import duckdb
import pytest

from etl.errors import UserError
from etl.fetch import fetch_register, register_request
from etl.load import load
from tests.conftest import ROWS, register_text, run_cli, write_register


class SipriLike(BaseHTTPRequestHandler):
    """Behaviour chosen by the first path segment: /ok/api/p/trades/trade-register-csv/ and so on."""

    register: bytes = b""
    requests: list = []
    hits: dict = {}

    def do_POST(self):  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        mode = self.path.split("/")[1]
        SipriLike.requests.append((mode, self.path, self.headers.get("Content-Type"), body))
        SipriLike.hits[mode] = SipriLike.hits.get(mode, 0) + 1
        if mode == "ok" or (mode == "flaky" and SipriLike.hits[mode] > 1):
            self._send(200, json.dumps({"bytes": base64.b64encode(SipriLike.register).decode()}).encode())
        elif mode in ("err500", "flaky"):
            self._send(500 if mode == "err500" else 503, b"oops")
        elif mode == "missing":
            self._send(404, b"no such endpoint")
        elif mode == "garbage":
            self._send(200, b"<html><body>Service temporarily unavailable</body></html>")
        elif mode == "shape":
            self._send(200, json.dumps({"data": [1, 2, 3]}).encode())
        elif mode == "notbase64":
            self._send(200, json.dumps({"bytes": "this is not base64!"}).encode())
        elif mode == "notregister":
            self._send(200, json.dumps({"bytes": base64.b64encode(b"name,value\nx,1\n").decode()}).encode())
        elif mode == "bom":  # a register re-saved as UTF-8 with BOM and CRLF: decoded like any file
            text = register_text(newline="\r\n").encode("utf-8")
            self._send(200, json.dumps({"bytes": base64.b64encode(b"\xef\xbb\xbf" + text).decode()}).encode())
        elif mode == "slow":
            time.sleep(3)
            self._send(200, b"{}")

    def _send(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (time-out tests)
            pass

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="module")
def server(real_register):
    SipriLike.register = real_register.read_bytes()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SipriLike)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def loaded(tmp_path, db):
    """A database holding a small register, to prove failures leave it untouched."""
    load([write_register(tmp_path / "r.csv")], db)
    return db, db.read_bytes()


def assert_one_line_error(done, *needles):
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_fetch_loads_the_full_register_and_keeps_the_answer(server, db):
    SipriLike.requests.clear()
    done = run_cli("fetch", "--base-url", f"{server}/ok/api/p", "--db", db)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert f"Fetched {server}/ok/api/p/trades/trade-register-csv/" in out and "Loaded 29,515 deals" in out
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*), round(sum(tiv_delivered), 2) FROM current_deals").fetchone() == (
            29_515, 2_092_211.45)
        source = con.execute("SELECT source, generated_date FROM current_sources").fetchone()
    assert source[0].startswith("sipri-trade-register-") and str(source[1]) == "2025-03-13"
    saved = sorted((db.parent / "fetched").iterdir())
    assert [p.suffix for p in saved] == [".csv", ".json"]
    assert json.loads(saved[1].read_bytes()) == {"bytes": base64.b64encode(SipriLike.register).decode()}
    assert saved[0].read_bytes() == SipriLike.register
    (mode, path, content_type, body), = SipriLike.requests
    assert path == "/ok/api/p/trades/trade-register-csv/" and content_type == "application/json"
    filters = json.loads(body)["filters"]
    assert filters[0]["field"] == "Delivery year" and filters[0]["value1"] == 1950
    assert filters[0]["value2"] == datetime.now(timezone.utc).year - 1
    assert [f["field"] for f in filters] == ["Delivery year", "opendeals"]
    again = run_cli("fetch", "--base-url", f"{server}/ok/api/p/", "--db", db)
    assert again.returncode == 0 and "nothing was changed" in again.stdout.decode()


@pytest.mark.parametrize("mode, needles", [
    ("err500", ["HTTP error 500"]),
    ("missing", ["HTTP error 404"]),
    ("garbage", ["the answer is not JSON", "<html>"]),
    ("shape", ["not SIPRI's {\"bytes\": ...}", "keys ['data']"]),
    ("notbase64", ["is not base64"]),
    ("notregister", ["not a SIPRI trade register"]),
])
def test_each_failure_is_one_line_naming_the_url_and_changes_nothing(server, loaded, mode, needles):
    db, before = loaded
    url = f"{server}/{mode}/api/p"
    done = run_cli("fetch", "--base-url", url, "--retries", "0", "--db", db)
    assert_one_line_error(done, f"{url}/trades/trade-register-csv/", *needles)
    assert db.read_bytes() == before


def test_a_service_that_does_not_answer_in_time(server, loaded):
    db, before = loaded
    start = time.monotonic()
    done = run_cli("fetch", "--base-url", f"{server}/slow/api/p", "--timeout", "0.5", "--retries", "0", "--db", db)
    assert_one_line_error(done, f"{server}/slow/api/p/trades/trade-register-csv/", "no answer within 0.5 s")
    assert time.monotonic() - start < 10 and db.read_bytes() == before


def test_an_unreachable_service(loaded):
    db, before = loaded
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = run_cli("fetch", "--base-url", f"http://127.0.0.1:{port}/api/p", "--retries", "0", "--db", db)
    assert_one_line_error(done, f"http://127.0.0.1:{port}/api/p/trades/trade-register-csv/", "unreachable")
    assert db.read_bytes() == before


def test_a_base_url_that_is_not_http_is_refused(db):
    done = run_cli("fetch", "--base-url", "file:///etc/passwd", "--db", db)
    assert_one_line_error(done, "not an http(s) URL")
    assert not db.exists()


def test_retries_with_back_off_then_success(server, tmp_path):
    SipriLike.hits.pop("flaky", None)
    notes = []
    fetched = fetch_register(f"{server}/flaky/api/p", tmp_path, retries=2, backoff=0.01, say=notes.append)
    assert fetched.attempts == 2 and fetched.register_path.read_bytes() == SipriLike.register
    assert len(notes) == 1 and "HTTP error 503" in notes[0] and "attempt 2 of 3 in 0.01 s" in notes[0]


def test_gives_up_after_the_last_retry(server, tmp_path):
    SipriLike.hits.pop("err500", None)
    with pytest.raises(UserError, match=r"HTTP error 500 .*after 3 attempts; nothing was changed"):
        fetch_register(f"{server}/err500/api/p", tmp_path, retries=2, backoff=0.01)
    assert SipriLike.hits["err500"] == 3


def test_a_client_error_is_not_retried(server, tmp_path):
    SipriLike.hits.pop("missing", None)
    with pytest.raises(UserError, match="HTTP error 404"):
        fetch_register(f"{server}/missing/api/p", tmp_path, retries=3, backoff=0.01)
    assert SipriLike.hits["missing"] == 1


def test_the_raw_answer_is_kept_even_when_it_cannot_be_parsed(server, tmp_path):
    with pytest.raises(UserError, match="not JSON"):
        fetch_register(f"{server}/garbage/api/p", tmp_path, retries=0)
    (kept,) = tmp_path.iterdir()
    assert kept.suffix == ".json" and kept.read_bytes().startswith(b"<html>")


def test_the_request_asks_for_every_year_and_open_deals():
    body = register_request(2024)
    assert body["logic"] == "AND"
    assert body["filters"][0] == {"field": "Delivery year", "oldField": "", "condition": "contains",
                                  "value1": 1950, "value2": 2024, "listData": []}
    assert body["filters"][1]["field"] == "opendeals"


def test_an_answer_in_utf8_with_bom_loads_like_the_file(server, tmp_path, db):
    fetched = fetch_register(f"{server}/bom/api/p", tmp_path, retries=0)
    assert fetched.register_path.read_bytes().startswith(b"\xef\xbb\xbf")
    report = load([fetched.register_path], db)
    assert report.deals == len(ROWS) and report.files[0].encoding == "utf-8-sig"
