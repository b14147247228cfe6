"""Does armsdash's cost grow linearly with the data? Load time, peak memory and callback p95 at 1x, 10x, 30x.

Why: SIPRI's register grows every year and users load other, larger exports;
a step that is quadratic, or done row by row in Python, is invisible at the
real size and painful at ten times it. Synthetic registers are built from the
real one: copy k of every deal has its order and delivery years shifted
together by one random offset (kept within 1950-2024, never 0), all other
fields unchanged, so names still resolve, categories still map and every
record still passes the load's checks. They are written as SIPRI-shaped CSV
(same preamble, header, encoding) into a temporary directory, never into the
repository, and deleted afterwards.

Measured per size: `armsdash load` as a user runs it (whole process, new
database; wall time and the process's peak RSS, median of --runs), then the
documented gunicorn command serving that database and one reader replaying
the same seeded sequence of filter and page changes as bench/load_test.py
(so the same callbacks with the same selections at every size): p50/p95 over
all callbacks, and p95 of the heavy ones.

Targets (issue 5): load time growing no faster than linearly; callback p95
at 30x within 3x of 1x.

    uv run python bench/scale.py [--factors 1 10 30] [--runs 2] [--requests 800]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_test import BIN, REGISTER, Server, Workload, machine, run_level, warm  # noqa: E402

YEARS = (1950, 2024)
ORDER, DELIVERIES = 2, 10  # column positions in SIPRI's 16-column register


def split_register(path: Path) -> tuple[list[str], list[list[str]]]:
    """(preamble lines including the header, rows) of a SIPRI register export."""
    text = path.read_bytes().decode("latin-1")
    lines = text.splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if line.startswith("Recipient,Supplier"))
    rows = [row for row in csv.reader(io.StringIO("".join(lines[header + 1:]))) if row]
    return lines[:header + 1], rows


def shifted(row: list[str], rng: random.Random) -> list[str]:
    """The deal with order and delivery years moved by one offset; unchanged if no offset fits."""
    if len(row) <= DELIVERIES:
        return row  # the tail of a record SIPRI broke over two lines: no years in it
    order = row[ORDER].strip()
    deliveries = [y.strip() for y in row[DELIVERIES].split(";") if y.strip()]
    tokens = ([order] if order else []) + deliveries
    if not tokens or not all(t.isdigit() for t in tokens):
        return row  # a year we cannot read as such: kept as it is (the load says what it does with it)
    years = [int(t) for t in tokens]
    low, high = YEARS[0] - min(years), YEARS[1] - max(years)
    offsets = [d for d in range(low, high + 1) if d != 0]
    if not offsets:
        return row
    d = rng.choice(offsets)
    out = list(row)
    if order:
        out[ORDER] = str(int(order) + d)
    if deliveries:
        out[DELIVERIES] = "; ".join(str(int(y) + d) for y in deliveries)
    return out


def write_synthetic(source: Path, factor: int, target: Path, seed: int = 5) -> int:
    """`factor` copies of the register (copy 0 is the original) in SIPRI's shape; returns the row count."""
    preamble, rows = split_register(source)
    rng = random.Random(seed)
    with open(target, "w", encoding="latin-1", newline="") as out:
        out.write("".join(preamble))
        writer = csv.writer(out, lineterminator="\n")
        for copy in range(factor):
            writer.writerows(rows if copy == 0 else (shifted(r, rng) for r in rows))
    return len(rows) * factor


def timed_load(csv_path: Path, db: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of `armsdash load` into a new database."""
    if db.exists():
        db.unlink()
    start = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "armsdash"), "load", str(csv_path), "--db", str(db)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"armsdash load failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def deal_count(db: Path) -> int:
    """Deals loaded; refuses a synthetic file that did not load whole (the comparison would be unfair)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        deals = con.execute("SELECT count(*) FROM current_deals").fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM current_quarantine").fetchone()[0]
        unresolved = con.execute("SELECT count(*) FROM current_deals WHERE supplier_kind IS NULL "
                                 "OR recipient_kind IS NULL").fetchone()[0]
        low, high = con.execute("SELECT min(year), max(year) FROM current_deliveries").fetchone()
    finally:
        con.close()
    if quarantined or unresolved or low < YEARS[0] or high > YEARS[1]:
        raise RuntimeError(f"synthetic register not clean: {quarantined} quarantined, {unresolved} names "
                           f"unresolved, delivery years {low}-{high}")
    return deals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--register", type=Path, default=REGISTER)
    parser.add_argument("--factors", type=int, nargs="+", default=[1, 10, 30])
    parser.add_argument("--runs", type=int, default=2, help="loads per size (median reported)")
    parser.add_argument("--requests", type=int, default=800, help="callbacks replayed per size")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="write the synthetic CSVs here instead of a temp dir")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        for factor in args.factors:
            csv_path = folder / f"register-x{factor}.csv"
            rows = write_synthetic(args.register, factor, csv_path)
            db = Path(tmp) / f"x{factor}.duckdb"
            loads = [timed_load(csv_path, db) for _ in range(args.runs)]
            wall = statistics.median(w for w, _ in loads)
            rss = max(r for _, r in loads)
            deals = deal_count(db)
            server = Server(db, workers=args.workers, threads=2, log=Path(tmp) / f"gunicorn-x{factor}.log")
            try:
                workload = Workload.learn(server.port, db)
                warm(server.port, workload)
                result = run_level(server.port, workload, 1, args.requests, 600, seed=7)
                errors = len(result.errors) + len(server.error_lines())
                worker_rss = max(server.rss_mib())
            finally:
                server.stop()
            heavy = {label: result.pct(v, 95) for label, v in result.by_label.items()
                     if label in ("ov-message", "cp-facts", "wp-message", "deals-grid", "deals-message", "fl-message")}
            rows_out.append((factor, rows, deals, wall, rss, csv_path.stat().st_size / 2**20, db.stat().st_size / 2**20,
                             result.pct(result.latencies, 50), result.pct(result.latencies, 95), heavy, errors,
                             worker_rss, len(result.latencies)))
            print(f"x{factor}: {rows:,} rows -> {deals:,} deals; load {wall:.2f} s (runs: "
                  f"{', '.join(f'{w:.2f}' for w, _ in loads)}), peak RSS {rss:.0f} MiB; callbacks ({len(result.latencies)}): "
                  f"p50 {result.pct(result.latencies, 50):.1f} ms, p95 {result.pct(result.latencies, 95):.1f} ms; "
                  f"worker RSS {worker_rss:.0f} MiB; errors {errors}", flush=True)
            if not args.keep:
                csv_path.unlink()
    base = rows_out[0]
    print(f"\n| size | deals | CSV MiB | DB MiB | load s | load s per 10k deals | peak RSS MiB | callback p50 ms "
          f"| callback p95 ms | p95 vs {base[0]}x | worker RSS MiB | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows_out:
        print(f"| {r[0]}x | {r[2]:,} | {r[5]:.0f} | {r[6]:.0f} | {r[3]:.2f} | {r[3] / r[2] * 1e4:.2f} | {r[4]:.0f} "
              f"| {r[7]:.1f} | {r[8]:.1f} | {r[8] / base[8]:.2f}x | {r[11]:.0f} | {r[10]} |")
    labels = sorted({k for r in rows_out for k in r[9]})
    print("\nheavy callbacks, p95 ms: " + " | ".join(labels))
    for r in rows_out:
        print(f"  {r[0]}x: " + " | ".join(f"{r[9].get(k, float('nan')):.1f}" for k in labels))
    if len(rows_out) > 1:
        top = rows_out[-1]
        growth = top[3] / base[3]
        marginal = [(b[3] - a[3]) / (b[2] - a[2]) * 1e4 for a, b in zip(rows_out, rows_out[1:])]
        print(f"\nload time x{top[0] // base[0]} data: x{growth:.1f} time (linear would be x{top[0] / base[0]:.0f}); "
              "marginal seconds per 10k extra deals: " + ", ".join(f"{m:.2f}" for m in marginal))
        print(f"callback p95 at {top[0]}x = {top[8] / base[8]:.2f}x the {base[0]}x figure (target <= 3x)")
        ok = growth <= top[0] / base[0] and top[8] <= 3 * base[8] and all(r[10] == 0 for r in rows_out)
        print("TARGETS MET" if ok else "TARGETS NOT MET")
    print(f"machine at the end: {machine()}")


if __name__ == "__main__":
    main()
