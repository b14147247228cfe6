"""Server time of every dashboard callback, fired over HTTP the way the browser fires it.

Starts the production command (gunicorn, 2 workers) on the full register,
replays each callback's request (`POST /_dash-update-component`) for a set of
views, and reports p50/p95 per callback plus the workers' memory. Budget
(issue 3): p95 under 100 ms for every callback; server under 200 MB.

    uv run python bench/dashboard_callbacks.py [--db PATH] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTER = ROOT / ".." / "shared" / "data" / "sipri" / "trade-register-2025-03.csv"
VIEWS = ["", "?from=2015&to=2024", "?recipient=Turkiye", "?search=S-400", "?supplier=Russia&category=Aircraft",
         "?rbloc=NATO&from=2000", "?status=second-hand&to=1990", "?search=F-16&from=2000",
         "?entity=Turkiye&from=2010", "?entity=India&map=imports&stack=supplier", "?top=100&from=2000"]
PAGES = ["/", "/country", "/weapons", "/deals", "/flows", "/about"]
PARAMS = ["from", "to", "search", "supplier", "recipient", "category", "status", "sbloc", "rbloc"]


def post(base: str, body: dict) -> tuple[float, int]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(base + "/_dash-update-component", data=data,
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        status = response.status
    return (time.perf_counter() - start) * 1000, status


def requests_for(dep: dict, view: str, page: str) -> dict | None:
    """The body the browser sends for `dep` when showing `page` + `view`; None if not fired there."""
    output = dep["output"]
    outputs = [o for o in (output[2:-2].split("...") if output.startswith("..") else [output])]

    def out(text):
        id_, prop = text.rsplit(".", 1)
        if id_.startswith("{"):
            return [{"id": {"key": k, "type": "param"}, "property": prop} for k in PARAMS]
        return {"id": id_, "property": prop}

    def value(i):
        if i["id"] == "url":
            return {"search": view, "pathname": page}[i["property"]]
        if i["id"] == "deals-grid":
            return {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "order_year", "sort": "desc"}]}
        return None

    def item(i):
        if i["id"].startswith("{"):
            return [{"id": {"key": k, "type": "param"}, "property": i["property"], "value": None} for k in PARAMS]
        return {"id": i["id"], "property": i["property"], "value": value(i)}

    body = {"output": output, "outputs": [out(o) for o in outputs] if output.startswith("..") else out(outputs[0]),
            "inputs": [item(i) for i in dep["inputs"]], "state": [item(s) for s in dep["state"]],
            "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]}
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8097)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "bench.duckdb"
            subprocess.run([str(Path(sys.executable).with_name("armsdash")), "load", str(REGISTER), "--db", str(db)],
                           check=True, capture_output=True)
        env = {**os.environ, "ARMSDASH_DB": str(db)}
        server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--no-control-socket", "-w", "2",
                                   "-b", f"127.0.0.1:{args.port}", "dashboard.wsgi:server"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.2)
            deps = json.loads(urllib.request.urlopen(base + "/_dash-dependencies").read())
            deps = [d for d in deps if not d.get("clientside_function") and "_pages_" not in d["output"]]
            times: dict[str, list[float]] = {}
            statuses = set()
            for round_ in range(args.rounds + 1):  # round 0 warms caches and is not counted
                for view in VIEWS:
                    for page in PAGES:
                        for dep in deps:
                            prefix = {"/": "ov-", "/country": "cp-", "/weapons": "wp-", "/deals": "deals-",
                                      "/flows": "fl-", "/about": "ab-"}[page]
                            page_specific = any(dep["output"].lstrip(".").startswith(p) for p in
                                                ("ov-", "cp-", "wp-", "deals-", "fl-", "ab-"))
                            if page_specific and not dep["output"].lstrip(".").startswith(prefix):
                                continue
                            if "ab-upload" in dep["output"]:
                                continue  # writes the database: not a read path
                            ms, status = post(base, requests_for(dep, view, page))
                            statuses.add(status)
                            if round_:
                                times.setdefault(dep["output"][:60], []).append(ms)
            rss_pages = _rss_mb(server.pid)  # every page's callbacks, before any whole-table CSV
            downloads = []  # the Deals page's CSV link: a streamed route, not a callback
            for view in ("?recipient=Turkiye", "?from=2015&to=2024", ""):
                start = time.perf_counter()
                with urllib.request.urlopen(base + "/download/deals.csv" + view, timeout=60) as response:
                    size = len(response.read())
                    statuses.add(response.status)
                downloads.append((view or "(all deals)", (time.perf_counter() - start) * 1000, size))
            rss = _rss_mb(server.pid)
            time.sleep(2)  # what a worker keeps, once its allocators have had a moment to hand memory back
            rss_later = _rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(10)
    print(f"callbacks over HTTP, gunicorn -w 2, {args.rounds} rounds x {len(VIEWS)} views; HTTP statuses {sorted(statuses)}")
    print(f"{'callback (outputs)':62} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for name, values in sorted(times.items()):
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        worst = max(worst, p95)
        print(f"{name:62} {len(values):5d} {statistics.median(values):8.1f} {p95:8.1f} {values[-1]:8.1f}")
    print(f"worst p95: {worst:.1f} ms (budget 100 ms)")
    for view, ms, size in downloads:
        print(f"CSV download {view}: {ms:.0f} ms, {size / 1e6:.1f} MB")
    print(f"server memory after all pages' callbacks: {rss_pages}")
    print(f"server memory after the CSV downloads too: {rss}")
    print(f"server memory 2 s later: {rss_later}")


def _rss_mb(pid: int) -> str:
    """Per process, MiB: RSS, and of it the private part (USS) and the proportional share (PSS).

    RSS counts the shared libraries' pages (DuckDB's alone is ~40 MB, Arrow's
    ~25 MB) in every worker, although the workers and the master share them.
    """
    workers = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="], capture_output=True, text=True).stdout.split()

    def one(p) -> str:
        fields = {}
        with open(f"/proc/{p}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
        uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
        with open(f"/proc/{p}/status") as f:  # the largest RSS the process has had so far
            peak = next((int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:")), 0)
        return f"RSS {fields.get('Rss', 0):.0f} (USS {uss:.0f}, PSS {fields.get('Pss', 0):.0f}, peak {peak:.0f})"

    return f"master {one(pid)}; workers " + ", ".join(one(p) for p in workers)


if __name__ == "__main__":
    main()
