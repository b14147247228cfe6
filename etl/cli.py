"""The `armsdash` command. Contract: docs/interface.md.

Errors users can act on print one line on standard error and exit 1; usage
errors exit 2; `--debug` (anywhere on the line) shows tracebacks instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from etl.errors import UserError
from etl.settings import default_db

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
    help="armsdash: load, export and explore the SIPRI Arms Transfers Database.",
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = typer.Option(None, "--db", help="database file (default: data/armsdash.duckdb or $ARMSDASH_DB)")


def _db(path: Optional[Path]) -> Path:
    return path if path is not None else default_db()


@app.command()
def load(
    paths: List[Path] = typer.Argument(..., help="SIPRI files: trade registers (any variant, also per delivery "
                                             "year) and TIV tables, recognised by content"),
    strict: bool = typer.Option(False, "--strict", help="refuse the whole load if any record is quarantined"),
    db: Optional[Path] = DbOption,
) -> None:
    """Load SIPRI files atomically: registers as one new snapshot, each TIV table as the current one of its kind."""
    from etl.load import load as run_load
    from etl.summary import print_load_report

    report = run_load(paths, _db(db), strict=strict)
    print_load_report(out, report, _db(db))


@app.command()
def export(
    table: str = typer.Option("deals", "--table", help="deals, deliveries, tiv or quarantine"),
    supplier: List[str] = typer.Option([], "--supplier", help="SIPRI name, alias or ISO3 (repeatable)"),
    recipient: List[str] = typer.Option([], "--recipient", help="SIPRI name, alias or ISO3 (repeatable)"),
    year_from: Optional[int] = typer.Option(None, "--from", help="first year (order year for deals, delivery year for deliveries)"),
    year_to: Optional[int] = typer.Option(None, "--to", help="last year"),
    category: List[str] = typer.Option([], "--category", help="SIPRI weapon category (repeatable)"),
    search: Optional[str] = typer.Option(None, "--search", help="text in designation, description or comments"),
    status: List[str] = typer.Option([], "--status", help="new or second-hand (repeatable)"),
    supplier_bloc: List[str] = typer.Option(
        [], "--supplier-bloc", help="supplier a member of this bloc in the row's year, e.g. NATO (repeatable)"),
    recipient_bloc: List[str] = typer.Option(
        [], "--recipient-bloc", help="recipient a member of this bloc in the row's year, e.g. NATO (repeatable)"),
    output: str = typer.Option(..., "-o", "--output", help="CSV file to write, or - for standard output"),
    db: Optional[Path] = DbOption,
) -> None:
    """Write the current data as CSV."""
    from etl import db as store
    from etl.export import TABLES, CsvExport
    from etl.filters import build_filters

    if table not in TABLES:
        raise UserError(f"--table {table!r}: not one of {', '.join(TABLES)}")
    con = store.reader(_db(db))
    try:
        filters = build_filters(con, supplier, recipient, year_from, year_to, category, search,
                                statuses=status, supplier_blocs=supplier_bloc, recipient_blocs=recipient_bloc)
        if table == "quarantine" and not filters.empty:
            raise UserError("--table quarantine takes no filters")
        export = CsvExport(con, table, filters)  # what the dashboard's download sends, too
        if output == "-":
            sys.stdout.buffer.writelines(export)
            sys.stdout.flush()
            return
        _write_file(Path(output), export)
    finally:
        con.close()
    err.print(f"{export.rows:,} {table} rows written to {output}")


@app.command()
def fetch(
    base_url: str = typer.Option("https://atbackend.sipri.org/api/p", "--base-url", help="SIPRI's service"),
    timeout: float = typer.Option(120, "--timeout", help="seconds to wait for the service at each step"),
    retries: int = typer.Option(3, "--retries", min=0, help="further attempts after a failure (back-off 2, 4, 8 s)"),
    strict: bool = typer.Option(False, "--strict", help="refuse the whole load if any record is quarantined"),
    db: Optional[Path] = DbOption,
) -> None:
    """Download the whole register from SIPRI's service, keep the answer on disk, load it."""
    from etl.fetch import fetch_and_load

    target = _db(db)
    fetched, report = fetch_and_load(base_url, target, err, timeout=timeout, retries=retries, strict=strict)
    from etl.summary import print_load_report  # pandas: only once something was loaded
    out.print(f"Fetched {fetched.url}: {fetched.size:,} bytes"
              f"{f' after {fetched.attempts} attempts' if fetched.attempts > 1 else ''}; "
              f"answer kept in {fetched.raw_path}", markup=False)
    print_load_report(out, report, target)


@app.command()
def diff(
    old: str = typer.Argument(..., help="older register: a file, or snapshot:N, snapshot:previous, snapshot:current"),
    new: str = typer.Argument(..., help="newer register: a file or a snapshot, as OLD"),
    output: str = typer.Option("-", "-o", "--output", help="CSV file to write, or - for standard output"),
    db: Optional[Path] = DbOption,
) -> None:
    """Compare two registers deal by deal: added, removed and changed deals (renames matched)."""
    from etl.diff import compare, neutralise, open_side, summary
    from etl.export import csv_bytes

    result = compare(open_side(old, _db(db)), open_side(new, _db(db)))
    data = csv_bytes(neutralise(result.rows))
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write_file(Path(output), [data])
    for line in summary(result):  # on stderr when the CSV goes to stdout
        (err if output == "-" else out).print(line, markup=False)


def _write_file(target: Path, chunks: Iterable[bytes]) -> None:
    """Write to a temporary file and rename: a failed write never leaves half a CSV."""
    temp = target.with_name(f".{target.name}.partial")
    try:
        with open(temp, "wb") as fh:
            fh.writelines(chunks)
        temp.replace(target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise UserError(f"{target}: cannot write ({exc.strerror or exc})") from None


@app.command()
def snapshots(db: Optional[Path] = DbOption) -> None:
    """List the snapshots in the database (for diff: snapshot:N)."""
    from etl.snapshots import snapshot_lines

    for line in snapshot_lines(_db(db)):
        out.print(line, markup=False)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8050, "--port"),
          read_only: bool = typer.Option(False, "--read-only", help="no upload box: for public deployments"),
          db: Optional[Path] = DbOption) -> None:
    """Run the dashboard (development server; see docs/dashboard.md for gunicorn)."""
    from dashboard.app import run

    target = _db(db)
    if not target.exists():
        err.print(f"No data loaded yet in {target}. Load SIPRI's trade register first:\n"
                  "  uv run armsdash load trade-register.csv\n"
                  "The dashboard starts anyway and explains the same" + ("." if read_only else "; it also takes an upload."))
    err.print(f"armsdash dashboard on http://{host}:{port}/ (Ctrl+C to stop)")
    run(host, port, target, read_only=read_only)


def main() -> None:
    """Entry point: one-line errors, `--debug` anywhere for tracebacks."""
    args = sys.argv[1:]
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        app(args=args, prog_name="armsdash")  # usage errors: typer prints them, exits 2
    except UserError as exc:
        if debug:
            raise
        err.print(f"armsdash: error: {exc}", soft_wrap=True, markup=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("armsdash: interrupted; nothing was changed")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # a bug: still one line, unless --debug
        if debug:
            raise
        err.print(f"armsdash: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                  soft_wrap=True, markup=False)
        sys.exit(1)
