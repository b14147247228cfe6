"""How far the even split of the register is from SIPRI's exact deliveries per year.

SIPRI's per-delivery-year export (all US exports) gives the TIV delivered in
each year; the plain register gives one TIV per deal and its delivery years,
which armsdash splits evenly. This loads the register twice into temporary
databases, once alone (even split) and once with the per-year file (exact
figures for the deals it covers), and compares US exports per recipient and
year, and per recipient and five-year period (1950-54, ..., 2020-24), as
absolute percentage error against the exact figure, over cells whose exact
TIV is at least `--min` (default 1, i.e. above rounding noise).

    uv run python bench/even_vs_exact.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SIPRI = ROOT / ".." / "shared" / "data" / "sipri"

from etl.by_year import allocation_errors as errors  # noqa: E402
from etl.load import load  # noqa: E402

QUERY = """SELECT recipient, year, sum(tiv) AS tiv FROM current_deliveries
           WHERE supplier = 'United States' AND tiv IS NOT NULL GROUP BY ALL"""


def deliveries(db: Path) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(QUERY).df()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--register", type=Path, default=SIPRI / "trade-register-2025-03.csv")
    parser.add_argument("--by-year", type=Path, default=SIPRI / "us-exports-by-delivery-year-2025-04.csv")
    parser.add_argument("--min", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        load([args.register], Path(tmp) / "even.duckdb")
        report = load([args.register, args.by_year], Path(tmp) / "exact.duckdb")
        even, exact = deliveries(Path(tmp) / "even.duckdb"), deliveries(Path(tmp) / "exact.duckdb")
    e = report.exact
    print(f"matching: {e.paired:,} of {e.per_year_deals:,} per-year deals paired ({e.paired / e.per_year_deals:.2%}); "
          f"{e.same_designation:,} same designation, {e.other_designation:,} spelled otherwise, "
          f"{e.order_year_differs:,} other order year; {e.history_differs:,} kept the even split")
    for label, period, rolling in (("per recipient and year", 1, False),
                                   ("per recipient and 5-year period (1950-54, ..., 2020-24)", 5, False),
                                   ("per recipient and any 5 consecutive years", 5, True)):
        err = errors(even, exact, period, args.min, rolling)
        print(f"{label}: n={len(err):,} median {err.median():.1f}%  p90 {err.quantile(0.9):.1f}%  "
              f"mean {err.mean():.1f}%  within 1%: {(err <= 1).mean():.0%}")


if __name__ == "__main__":
    main()
