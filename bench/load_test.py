"""The dashboard under concurrent users: throughput, latency percentiles and errors.

Why: a newsroom shares one armsdash server; a story link can bring many
readers at once. This starts the documented production command (gunicorn,
docs/dashboard.md) on loopback over the full real register, and replays the
requests a browser sends when readers change filters and pages, at 1, 10 and
50 concurrent users. Users are closed-loop with no think time (each fires its
next interaction as soon as the last one is answered), so N users means N
requests in flight: harsher than N people reading charts.

Workload: each interaction picks a page (overview, country, weapons, deals,
flows, about, changes by the weights below) and a realistic selection
(order/delivery year ranges, suppliers and recipients among the 40 largest
of each, weapon categories, searches for well-known systems, blocs, status),
then fires what the browser fires for it, read from /_dash-dependencies: on
a page change the router (which draws the page with its charts) and the
footer, then what the page's components ask for on arrival (the deals grid's
first 100 rows, the country profile's deals); on a filter change every
server callback whose input is the URL (the page's charts, KPIs, counts) and
the deals grid's rows; then the callbacks fired by those answers (the
country profile's deals); on the deals page, a deal's detail one time in ten.
Callbacks that run in the browser (URL sync, nav links) send nothing.

Errors (must be zero): an HTTP status other than 200/204, a timeout (30 s),
a connection failure, a response carrying the app's "Something went wrong"
message (its safety net caught an exception), or an ERROR line in the
server's log. Bounded: at most --requests requests and --duration seconds per
level, loopback only.

    uv run python bench/load_test.py [--users 1 10 50] [--requests 3000] [--duration 60]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
REGISTER = (ROOT / ".." / "shared" / "data" / "sipri" / "trade-register-2025-03.csv").resolve()
BIN = Path(sys.executable).parent
INTERNAL = "Something went wrong while preparing this view"
PAGE_WEIGHTS = {"/": 30, "/country": 18, "/weapons": 15, "/deals": 20, "/flows": 10, "/about": 4, "/changes": 3}
SEARCHES = ["S-400", "F-16", "Leopard 2", "T-72", "Patriot", "Su-30", "Rafale", "Bayraktar", "HIMARS", "MiG-29",
            "Javelin", "F-35", "Type-209", "Mi-17", "BrahMos", "K9", "J-10", "Harpoon"]
TIMEOUT = 30.0


# --- the production server ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_db(register: Path, db: Path) -> None:
    subprocess.run([str(BIN / "armsdash"), "load", str(register), "--db", str(db)], check=True,
                   capture_output=True)


class Server:
    """`gunicorn --no-control-socket -w W --threads T 'dashboard.wsgi:server'` as documented, on 127.0.0.1."""

    def __init__(self, db: Path, workers: int = 4, threads: int = 2, log: Path | None = None):
        self.port = free_port()
        self.log = log or Path(tempfile.mkstemp(suffix=".log")[1])
        self._log_file = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--no-control-socket", "-w", str(workers), "--threads", str(threads),
             "-b", f"127.0.0.1:{self.port}", "--timeout", "60", "dashboard.wsgi:server"],
            cwd=ROOT, env={**os.environ, "ARMSDASH_DB": str(db)}, stdout=self._log_file, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                status, _ = request(self.port, "GET", "/")
                if status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"gunicorn did not start; see {self.log}")
            time.sleep(0.2)

    def rss_mib(self) -> list[float]:
        """Workers' resident memory now, MiB."""
        out = subprocess.run(["ps", "--ppid", str(self.proc.pid), "-o", "rss="], capture_output=True, text=True)
        return [int(k) / 1024 for k in out.stdout.split()]

    def error_lines(self) -> list[str]:
        text = self.log.read_text(errors="replace")
        return [line for line in text.splitlines() if line.startswith("ERROR") or "Traceback" in line
                or "[ERROR]" in line or "WORKER TIMEOUT" in line]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log_file.close()


def request(port: int, method: str, path: str, body: bytes | None = None, conn=None) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


# --- what the browser sends ------------------------------------------------------------------------------

def _outputs(output: str) -> list[str]:
    return output[2:-2].split("...") if output.startswith("..") else [output]


def _ids(node, found: set[str]) -> set[str]:
    """Every string component id in a layout (JSON as Dash sends it)."""
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), str):
            found.add(props["id"])
        for value in node.values():
            _ids(value, found)
    elif isinstance(node, list):
        for value in node:
            _ids(value, found)
    return found


def _param_keys(node, found: list[str]) -> list[str]:
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), dict) and props["id"].get("type") == "param":
            found.append(props["id"]["key"])
        for value in node.values():
            _param_keys(value, found)
    elif isinstance(node, list):
        for value in node:
            _param_keys(value, found)
    return found


@dataclass
class Workload:
    """The callbacks of each page, learnt from the running app rather than written down here."""

    deps: list[dict]
    pages: dict[str, list[dict]]  # path -> callbacks firing on that page (its own and the shell's)
    params: dict[str, list[str]]  # path -> param control keys mounted on that page, in DOM order
    names: list[str]
    categories: list[str]
    blocs: list[str]

    @classmethod
    def learn(cls, port: int, db: Path) -> "Workload":
        deps = json.loads(request(port, "GET", "/_dash-dependencies")[1])
        deps = [d for d in deps if "_pages_" not in d["output"] and not d.get("clientside_function")
                and not any(i["id"] == "ab-upload" for i in d["inputs"])]  # upload writes the database
        shell_layout = json.loads(request(port, "GET", "/_dash-layout")[1])
        shell_ids = _ids(shell_layout, set())
        hrefs = _hrefs(shell_layout)
        paths = [p for p in dict.fromkeys(hrefs) if p in PAGE_WEIGHTS]
        router = next(d for d in deps if d["output"] == "page-content.children")
        pages, params = {}, {}
        shell_params = _param_keys(shell_layout, [])
        for path in paths:
            status, body = request(port, "POST", "/_dash-update-component",
                                   json.dumps(cls._body(router, {"url.pathname": path, "url.search": ""},
                                                        shell_params)).encode())
            layout = json.loads(body)["response"]
            page_ids = _ids(layout, set())
            params[path] = shell_params + _param_keys(layout, [])
            pages[path] = [d for d in deps
                           if all(o.rsplit(".", 1)[0] in shell_ids | page_ids or o.startswith("{")
                                  for o in _outputs(d["output"]))]
        import duckdb

        from etl.normalise.entities import blocs
        from etl.normalise.weapons import CATEGORIES

        con = duckdb.connect(str(db), read_only=True)
        names = [r[0] for r in con.execute(
            "SELECT name FROM (SELECT supplier AS name, sum(tiv_delivered) t FROM deals GROUP BY 1 "
            "ORDER BY t DESC NULLS LAST LIMIT 40) UNION SELECT name FROM (SELECT recipient AS name, "
            "sum(tiv_delivered) t FROM deals GROUP BY 1 ORDER BY t DESC NULLS LAST LIMIT 40)").fetchall()]
        con.close()
        return cls(deps, pages, params, sorted(names), list(CATEGORIES), [b["value"] if isinstance(b, dict) else b
                                                                          for b in blocs()])

    @staticmethod
    def _body(dep: dict, values: dict, param_keys: list[str], changed: str | None = None) -> dict:
        def item(i):
            if i["id"].startswith("{"):
                return [{"id": {"key": k, "type": "param"}, "property": i["property"],
                         "value": values.get(f"param.{k}") if i["property"] == "value" else
                         {"key": k, "type": "param"}} for k in param_keys]
            return {"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}

        def out(text):
            id_text, prop = text.rsplit(".", 1)
            if id_text.startswith("{"):
                return [{"id": {"key": k, "type": "param"}, "property": prop} for k in param_keys]
            return {"id": id_text, "property": prop}

        outputs = [out(o) for o in _outputs(dep["output"])]
        first = dep["inputs"][0]
        return {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
                "inputs": [item(i) for i in dep["inputs"]], "state": [item(s) for s in dep["state"]],
                "changedPropIds": [changed or f"{first['id']}.{first['property']}"]}

    # -- one reader's interaction ---------------------------------------------------------------------

    def selection(self, rng: random.Random, page: str) -> dict[str, object]:
        """A filter selection a reader might make (keys as in the URL)."""
        sel: dict[str, object] = {}
        roll = rng.random()
        if roll < 0.5:
            start = rng.randint(1950, 2024)
            sel["from"] = start
            if rng.random() < 0.7:
                sel["to"] = min(2024, start + rng.choice([0, 4, 9, 19]))
        if rng.random() < 0.35:
            sel["recipient"] = rng.sample(self.names, rng.choice([1, 1, 1, 2]))
        if rng.random() < 0.25:
            sel["supplier"] = rng.sample(self.names, 1)
        if rng.random() < 0.2:
            sel["category"] = rng.sample(self.categories, rng.choice([1, 2]))
        if rng.random() < (0.6 if page == "/weapons" else 0.12):
            sel["search"] = rng.choice(SEARCHES)
        if rng.random() < 0.06 and self.blocs:
            sel[rng.choice(["sbloc", "rbloc"])] = [rng.choice(self.blocs)]
        if rng.random() < 0.06:
            sel["status"] = rng.choice(["new", "second-hand"])
        if page == "/country":
            sel["entity"] = rng.choice(self.names)
        if page == "/flows" and rng.random() < 0.3:
            sel["top"] = rng.choice([10, 25, 50, 100])
        if page == "/" and rng.random() < 0.2:
            sel["map"] = "imports"
        return sel

    def interaction(self, rng: random.Random, page: str, new_page: bool) -> list[tuple[str, dict]]:
        """The requests (label, body) one filter change (or page change) makes the browser send."""
        sel = self.selection(rng, page)
        search = "?" + urlencode([(k, v) for k, vals in sel.items()
                                  for v in (vals if isinstance(vals, list) else [vals])]) if sel else ""
        keys = self.params[page]
        values = {"url.search": search, "url.pathname": page,
                  "deals-grid.getRowsRequest": {"startRow": 0, "endRow": 100,
                                                "sortModel": [{"colId": "order_year", "sort": "desc"}]}}
        for dep_id in {i["id"] for d in self.pages[page] for i in d["inputs"]}:
            if dep_id.endswith("-ready"):
                values[f"{dep_id}.data"] = True
        bodies: list[tuple[str, dict]] = []
        sync = next((d for d in self.deps if d["output"].startswith("..url.search")), None)
        if new_page:
            for dep in self.pages[page]:
                if any(i["id"] == "url" and i["property"] == "pathname" for i in dep["inputs"]):
                    bodies.append((_label(dep), self._body(dep, values, keys)))
        elif sync is not None:  # a server-side URL sync: the control that changed, with the URL as it was
            key = rng.choice([k for k in sel if k in keys] or ["from"])
            control = {f"param.{k}": v for k, v in sel.items()}
            bodies.append(("URL sync (control)", self._body(sync, {**values, **control, "url.search": ""}, keys,
                                                            changed=json.dumps({"key": key, "type": "param"},
                                                                               separators=(",", ":")) + ".value")))
        fired: list[dict] = []
        for dep in self.pages[page]:
            inputs = {(i["id"], i["property"]) for i in dep["inputs"]}
            if ("url", "pathname") in inputs:
                continue  # sent above on a page change; the path did not change otherwise
            if new_page:  # the page arrives drawn; its components may ask for more
                if not dep.get("prevent_initial_call") and not any(i == "url" for i, _ in inputs):
                    fired.append(dep)
            elif ("url", "search") in inputs or ("deals-grid", "getRowsRequest") in inputs:
                fired.append(dep)
        answered = {o for dep in fired for o in _outputs(dep["output"])}
        fired += [dep for dep in self.pages[page] if dep not in fired  # fired by those answers
                  and any(f"{i['id']}.{i['property']}" in answered for i in dep["inputs"])]
        return bodies + [(_label(dep), self._body(dep, values, keys)) for dep in fired]


def _hrefs(node) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("href"), str):
            out.append(props["href"])
        for value in node.values():
            out.extend(_hrefs(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_hrefs(value))
    return out


def _label(dep: dict) -> str:
    first = _outputs(dep["output"])[0].split(".")[0]
    return "URL sync (URL changed)" if first == "url" else first


# --- the run -------------------------------------------------------------------------------------------

@dataclass
class Result:
    users: int
    latencies: list[float] = field(default_factory=list)  # ms, every request
    by_label: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    wall: float = 0.0

    def pct(self, values: list[float], p: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")

    def line(self) -> str:
        n = len(self.latencies)
        return (f"{self.users:>5} users: {n:6d} requests in {self.wall:5.1f} s = {n / self.wall:6.1f} req/s; "
                f"p50 {self.pct(self.latencies, 50):6.1f} ms, p95 {self.pct(self.latencies, 95):6.1f} ms, "
                f"p99 {self.pct(self.latencies, 99):6.1f} ms, max {max(self.latencies, default=0):6.0f} ms; "
                f"errors {len(self.errors)}; HTTP {dict(sorted(self.statuses.items()))}")


def run_level(port: int, workload: Workload, users: int, max_requests: int, max_seconds: float,
              seed: int = 1) -> Result:
    """`users` threads, each a reader with its own keep-alive connection, until either bound is hit."""
    result = Result(users)
    lock = threading.Lock()
    sent = [0]
    stop_at = time.perf_counter() + max_seconds
    paths = list(PAGE_WEIGHTS)
    weights = [PAGE_WEIGHTS[p] for p in paths]
    paths, weights = zip(*[(p, w) for p, w in zip(paths, weights) if p in workload.pages])

    def reader(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        page = None
        while time.perf_counter() < stop_at:
            new_page = page is None or rng.random() < 0.3
            if new_page:
                page = rng.choices(paths, weights)[0]
            for label, body in workload.interaction(rng, page, new_page):
                with lock:
                    if sent[0] >= max_requests or time.perf_counter() >= stop_at:
                        conn.close()
                        return
                    sent[0] += 1
                data = json.dumps(body).encode()
                start = time.perf_counter()
                try:
                    status, content = request(port, "POST", "/_dash-update-component", data, conn)
                    error = None if status in (200, 204) else f"HTTP {status}"
                    if error is None and INTERNAL.encode() in content:
                        error = "safety net: " + label
                    if error is None and label == "deals-grid" and page == "/deals" and rng.random() < 0.1:
                        rows = json.loads(content)["response"]["deals-grid"]["getRowsResponse"]["rowData"]
                        if rows:  # the reader opens a deal
                            detail = next(d for d in workload.deps if d["output"].startswith("..deals-detail"))
                            extra = Workload._body(detail, {"deals-grid.cellClicked": {"rowId": rows[0]["deal_id"]},
                                                            "url.search": body["state"][0]["value"]}, [])
                            status2, content2 = request(port, "POST", "/_dash-update-component",
                                                        json.dumps(extra).encode(), conn)
                            if status2 not in (200, 204):
                                error = f"HTTP {status2} (deal detail)"
                except (OSError, http.client.HTTPException) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
                ms = (time.perf_counter() - start) * 1000
                with lock:
                    result.latencies.append(ms)
                    result.by_label.setdefault(label, []).append(ms)
                    if error is None or error.startswith(("HTTP", "safety")):
                        result.statuses[status] = result.statuses.get(status, 0) + 1
                    if error:
                        result.errors.append(error)
        conn.close()

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(users)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max_seconds + 2 * TIMEOUT)
    result.wall = time.perf_counter() - start
    return result


def machine() -> str:
    load = os.getloadavg()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GB, Python {platform.python_version()}, "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def warm(port: int, workload: Workload, n: int = 60) -> None:
    """Every worker imports lazily and opens DuckDB on its first callbacks: not what readers see later."""
    run_level(port, workload, 4, n, 60, seed=99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--register", type=Path, default=REGISTER)
    parser.add_argument("--db", type=Path, help="an existing database (default: load --register into a temp one)")
    parser.add_argument("--users", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--requests", type=int, default=3000, help="at most this many requests per level")
    parser.add_argument("--duration", type=float, default=60, help="at most this many seconds per level")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "load.duckdb"
            load_db(args.register, db)
        server = Server(db, args.workers, args.threads, Path(tmp) / "gunicorn.log")
        try:
            workload = Workload.learn(server.port, db)
            print(f"gunicorn -w {args.workers} --threads {args.threads} on 127.0.0.1:{server.port}; "
                  f"{len(workload.deps)} callbacks, pages {sorted(workload.pages)}")
            warm(server.port, workload)
            results = []
            for users in args.users:
                result = run_level(server.port, workload, users, args.requests, args.duration)
                results.append(result)
                print(result.line(), flush=True)
                for error in sorted(set(result.errors))[:10]:
                    print(f"       error: {error} (x{result.errors.count(error)})")
            log_errors = server.error_lines()
            rss = server.rss_mib()
        finally:
            server.stop()
    print(f"server log ERROR lines: {len(log_errors)}")
    for line in log_errors[:10]:
        print("   ", line[:200])
    print("workers' RSS after the run: " + ", ".join(f"{r:.0f} MiB" for r in rss))
    print("\nper callback at the highest level (p50 / p95 ms, n):")
    last = results[-1]
    for label, values in sorted(last.by_label.items()):
        print(f"  {label:28} {statistics.median(values):7.1f} {last.pct(values, 95):7.1f} {len(values):6d}")
    print(f"machine at the end: {machine()}")
    total_errors = sum(len(r.errors) for r in results) + len(log_errors)
    print(f"\nTOTAL ERRORS: {total_errors}")
    sys.exit(1 if total_errors else 0)


if __name__ == "__main__":
    main()
