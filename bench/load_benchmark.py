"""`armsdash load` of the full register against a bare `pandas.read_csv` of it.

Whole process against whole process (interpreter start, imports, work), as a
user experiences it. Runs alternate so that drift on the machine hits both
sides alike; medians are reported with peak memory (max RSS of the child).

    uv run python bench/load_benchmark.py [--runs 5] [--file PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / ".." / "shared" / "data" / "sipri" / "trade-register-2025-03.csv"
ARMSDASH = Path(sys.executable).with_name("armsdash")


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--file", type=Path, default=DEFAULT)
    args = parser.parse_args()
    path = args.file.resolve()
    bare = [sys.executable, "-c",
            "import pandas; pandas.read_csv(%r, skiprows=11, encoding='latin-1', on_bad_lines='skip')" % str(path)]
    results: dict[str, list[tuple[float, float]]] = {"pandas.read_csv": [], "armsdash load": []}
    with tempfile.TemporaryDirectory() as tmp:
        run([str(ARMSDASH), "load", str(path), "--db", f"{tmp}/warm.duckdb"])  # warm caches, .pyc
        run(bare)
        for i in range(args.runs):
            results["pandas.read_csv"].append(run(bare))
            results["armsdash load"].append(run([str(ARMSDASH), "load", str(path), "--db", f"{tmp}/run{i}.duckdb"]))
    print(f"file: {path.name} ({path.stat().st_size / 1e6:.1f} MB); {args.runs} runs each, alternating; medians")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'':18} {'wall s':>8} {'min s':>8} {'peak MiB':>9}")
    medians = {}
    for name, runs in results.items():
        walls = [w for w, _ in runs]
        medians[name] = statistics.median(walls)
        print(f"{name:18} {medians[name]:8.2f} {min(walls):8.2f} {statistics.median(m for _, m in runs):9.0f}")
    ratio = medians["armsdash load"] / medians["pandas.read_csv"]
    print(f"ratio (armsdash load / pandas.read_csv): {ratio:.2f}x (budget: 3x)")


if __name__ == "__main__":
    main()
