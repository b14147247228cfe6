"""What a reader waits for, in headless Chromium against gunicorn on the full register.

Measures per page: cold load (navigation start until the page's main chart or
table shows data), bytes transferred (Resource Timing, compressed), and on the
overview a filter change (the "From" year set as the control sets it, once
the page has loaded and a second has passed, until all four charts show the
new selection; see SETTLED and FILTER).
Budgets (issue 3): filter change < 200 ms, cold load < 1.5 s, < 2 MB per load.

    uv run python bench/dashboard_browser.py [--db PATH] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options

ROOT = Path(__file__).resolve().parents[1]
REGISTER = ROOT / ".." / "shared" / "data" / "sipri" / "trade-register-2025-03.csv"
# page -> JS expression true once the page shows data
PAGES = {
    "/": "document.querySelector('#ov-years .js-plotly-plot')?._fullData?.length > 0",
    "/country?entity=Turkiye": "document.querySelector('#cp-imports .js-plotly-plot')?._fullData?.length > 0",
    "/weapons?search=S-400": "(document.getElementById('wp-table')?.textContent || '').includes('Belarus')",
    "/deals?recipient=Turkiye": "(document.getElementById('deals-grid')?.textContent || '').includes('Turkiye')",
    "/flows": "document.querySelector('#fl-sankey .js-plotly-plot')?._fullData?.length > 0",
}
WAIT = """
const [ready, done] = [new Function('return ' + arguments[0]), arguments[arguments.length - 1]];
const t0 = performance.now();
(function poll() { if (ready()) done(performance.now()); else if (performance.now() - t0 > 20000) done(-1);
                   else requestAnimationFrame(poll); })();
"""
BYTES = ("return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
         ".reduce((s, e) => s + (e.transferSize || 0), 0);")
# A filter change as a user makes it: the "From" box gets a new value through Dash's own
# set_props (what typing + Enter ends in), the URL-sync and page callbacks run over HTTP,
# and the clock stops when all four overview charts show the new selection: the map's
# title names the new period, the yearly chart's data starts at that year, and both
# top-10 lists (HTML, not Plotly) show other entries or figures than before.
FILTER = """
const [year, done] = [arguments[0], arguments[arguments.length - 1]];
const gd = id => document.querySelector('#' + id + ' .js-plotly-plot');
const text = id => (document.getElementById(id) || {}).textContent || '';
const before = {s: text('ov-top-suppliers'), r: text('ov-top-recipients')};
const shown = () => {
  const years = gd('ov-years'), map = gd('ov-map');
  if (!years || !years._fullData || !years._fullData.length || !map || !map._fullLayout) return false;
  const first = Math.min(...years._fullData.map(t => Math.min(...Array.from(t.x))));
  return first === year && (map._fullLayout.title.text || '').includes(String(year))
         && text('ov-top-suppliers') !== before.s && text('ov-top-recipients') !== before.r;
};
const t0 = performance.now();
window.dash_clientside.set_props({key: 'from', type: 'param'}, {value: year});
(function poll() { if (shown()) done(performance.now() - t0);
                   else if (performance.now() - t0 > 20000) done(-1); else requestAnimationFrame(poll); })();
"""
# Before the filter changes: the page has finished loading (all four charts hold data, the map
# has drawn its countries), then a second passes, as before a reader's first click; changes made
# while the page still draws its last charts would time the load, not the change.
SETTLED = ("['ov-map', 'ov-years'].every(id => "
           "document.querySelector('#' + id + ' .js-plotly-plot')?._fullData?.length > 0) && "
           "document.querySelectorAll('#ov-top-suppliers li, #ov-top-recipients li').length > 0 && "
           "document.querySelectorAll('#ov-map .choroplethlocation').length > 100")
ENCODINGS = """return performance.getEntriesByType('resource').filter(e => e.name.includes('plotly'))
                 .map(e => [e.name.split('/').pop(), e.transferSize, e.decodedBodySize]);"""


def browser() -> webdriver.Chrome:
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disk-cache-size=1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    driver.set_script_timeout(30)
    return driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8098)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        if args.db is None:
            subprocess.run([str(Path(sys.executable).with_name("armsdash")), "load", str(REGISTER), "--db", str(db)],
                           check=True, capture_output=True)
        server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--no-control-socket", "-w", "2",
                                   "--threads", "4", "-b", f"127.0.0.1:{args.port}", "dashboard.wsgi:server"],
                                  cwd=ROOT, env={**os.environ, "ARMSDASH_DB": str(db)},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.2)
            loads: dict[str, list[tuple[float, int]]] = {}
            changes: list[float] = []
            for run in range(args.runs + 1):  # run 0 warms the server and is not counted
                for page, ready in PAGES.items():
                    driver = browser()  # a fresh profile: a cold load, nothing cached
                    try:
                        driver.get(base + page)
                        shown = driver.execute_async_script(WAIT, ready)
                        sent = driver.execute_script(BYTES)
                        if run == 0 and page == "/":
                            print("plotly.js (name, transferred, decoded bytes):", driver.execute_script(ENCODINGS))
                        if page == "/" and shown > 0 and driver.execute_async_script(WAIT, SETTLED) > 0:
                            time.sleep(1)
                            for year in (1990, 2005, 2015, 1975):
                                ms = driver.execute_async_script(FILTER, year)
                                if run:
                                    changes.append(ms)
                                time.sleep(0.3)  # a reader looks at the charts before the next change
                    finally:
                        driver.quit()
                    if run:
                        loads.setdefault(page, []).append((shown, sent))  # ms since navigation start; -1: never
        finally:
            server.terminate()
            server.wait(10)
    print(f"headless Chromium, gunicorn -w 2 --threads 4, {args.runs} cold loads per page (fresh profile each)")
    print(f"{'page':28} {'load p50 ms':>12} {'load max ms':>12} {'transferred KB':>15}")
    for page, values in loads.items():
        times = [t for t, _ in values]
        print(f"{page:28} {statistics.median(times):12.0f} {max(times):12.0f} {statistics.median(b for _, b in values) / 1024:15.0f}")
    if changes:
        in_order = list(changes)  # per run: 1990, 2005, 2015, 1975
        changes.sort()
        print(f"filter change until the chart shows it: p50 {statistics.median(changes):.0f} ms, "
              f"max {changes[-1]:.0f} ms over {len(changes)} changes (budget 200 ms)")
        print("  each change in order (ms; 4 per run: 1990, 2005, 2015, 1975):", " ".join(f"{ms:.0f}" for ms in in_order))


if __name__ == "__main__":
    main()
