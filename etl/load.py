"""`armsdash load`: files in, one new snapshot out (or nothing at all).

The skeleton is the same for every source: read and fingerprint the inputs
(provenance first), process them into deals, deliveries and quarantine, then
save everything in one atomic write. Nothing is written when the inputs are
the ones already loaded, when `--strict` refuses, or when no deal was read.

Registers (plain or per delivery year) loaded together make one register
snapshot; each TIV table is a snapshot of its own kind, so a load of TIV tables
leaves the register as it was and the other way round (etl/db.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from etl import db as store
from etl.allocate import allocate_even
from etl.checks import run_checks
from etl.deals import build_deals
from etl.errors import UserError
from etl.sources.detect import REGISTER, REGISTER_BY_YEAR, TIV_TABLE, detect_kind
from etl.sources.sipri_register import read_register
from etl.sources.text import TextFile, read_text

if TYPE_CHECKING:
    from etl.by_year import ExactReport

ATTRIBUTION = "Source: SIPRI Arms Transfers Database"
DEAL_KEY = ("supplier", "recipient", "order_year", "designation", "number_ordered", "delivery_years", "comments")


@dataclass
class FileReport:
    source: str
    kind: str
    encoding: str
    sha256: str
    generated: str | None
    records: int = 0
    deals: int = 0
    repaired: int = 0
    quarantined: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class TivReport:
    source: str
    table: str
    cells: int
    rows: int
    unresolved: list[str]
    snapshot_id: int | None = None
    unchanged: bool = False


@dataclass
class LoadReport:
    files: list[FileReport]
    snapshot_id: int | None = None  # the new register snapshot, if one was written
    unchanged: bool = False  # nothing at all was written
    register_unchanged: bool = False
    deals: int = 0
    deliveries: int = 0
    quarantine: pd.DataFrame | None = None
    repairs: pd.DataFrame | None = None
    violations: pd.DataFrame | None = None
    unresolved_names: list[str] = field(default_factory=list)
    unresolved_descriptions: list[str] = field(default_factory=list)
    tiv: list[TivReport] = field(default_factory=list)
    exact: ExactReport | None = None


@dataclass
class _Read:
    text: TextFile
    kind: str
    parsed: Any  # RegisterRead, ByYearRead or TivRead
    deals: pd.DataFrame | None
    quarantine: pd.DataFrame  # line, reason, raw
    records: int
    name: str = ""


def _read_file(path: Path) -> _Read:
    source = read_text(path)
    kind = detect_kind(source)
    if kind == REGISTER:
        register = read_register(source)
        deals, quarantined = build_deals(register.records)
        return _Read(source, kind, register, deals, pd.concat([register.quarantine, quarantined], ignore_index=True),
                     len(register.records) + len(register.quarantine))
    if kind == REGISTER_BY_YEAR:
        from etl.sources.sipri_by_year import read_by_year

        parsed = read_by_year(source)
        return _Read(source, kind, parsed, parsed.deals, parsed.quarantine, parsed.records)
    from etl.sources.sipri_tiv import read_tiv

    parsed = read_tiv(source)
    return _Read(source, kind, parsed, None, pd.DataFrame(columns=["line", "reason", "raw"]), parsed.records)


def deal_ids(deals: pd.DataFrame) -> pd.Series:
    """Stable ids: a hash of what identifies a deal, numbered where identical rows repeat.

    Computed by DuckDB's md5 over the canonical names, so the same data loaded
    from any variant of the file (encoding, padding, 13 or 16 columns) keeps its ids.
    """
    frame = deals[list(DEAL_KEY)].reset_index(drop=True).assign(i=range(len(deals)))
    key = " || '|' || ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in DEAL_KEY)
    with duckdb.connect() as con:
        con.register("frame", frame)
        ids = con.execute(
            f"SELECT substr(md5(k || '#' || row_number() OVER (PARTITION BY k ORDER BY i)), 1, 16) AS id "
            f"FROM (SELECT {key} AS k, i FROM frame) ORDER BY i"
        ).df()["id"]
    return pd.Series(ids.to_numpy(), index=deals.index)


def _fingerprint(reads: list[_Read]) -> str:
    """The files' checksums and the schema that stored them: an older schema's snapshot is loaded again."""
    return f"schema {store.SCHEMA_VERSION}:" + ",".join(sorted(r.text.sha256 for r in reads))


def _current_fingerprint(db: Path, tiv_table: str | None = None) -> str | None:
    """Fingerprint of the current register snapshot, or of the current TIV table `tiv_table`."""
    if not db.exists():
        return None
    con = store.reader(db)
    try:
        current = ("(SELECT snapshot_id FROM current_snapshot)" if tiv_table is None
                   else "(SELECT max(snapshot_id) FROM tiv WHERE table_name = ?)")
        row = con.execute(f"SELECT fingerprint FROM snapshots WHERE snapshot_id = {current}",
                          [] if tiv_table is None else [tiv_table]).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return row[0] if row else None


def _name_sources(reads: list[_Read]) -> None:
    """File name as the source, the full path where two inputs share a name."""
    names = [r.text.path.name for r in reads]
    for r in reads:
        r.name = r.text.path.name if names.count(r.text.path.name) == 1 else str(r.text.path)


def _file_report(r: _Read) -> FileReport:
    parsed = r.parsed
    return FileReport(
        source=r.name, kind=r.kind, encoding=r.text.encoding, sha256=r.text.sha256, generated=parsed.generated,
        records=r.records, deals=0 if r.deals is None else len(r.deals),
        repaired=len(getattr(parsed, "repairs", ())), quarantined=len(r.quarantine), notes=list(parsed.notes),
    )


def load(paths: list[Path], db: Path, strict: bool = False) -> LoadReport:
    reads = [_read_file(p) for p in paths]
    _name_sources(reads)
    registers = [r for r in reads if r.kind != TIV_TABLE]
    tables = [r for r in reads if r.kind == TIV_TABLE]
    _refuse_repeated_tables(tables)
    report = LoadReport(files=[_file_report(r) for r in reads])
    deals, exact = _combine_registers(registers, report) if registers else (None, None)
    quarantine = report.quarantine if registers else pd.DataFrame(columns=["source", "line", "reason", "raw"])
    report.quarantine = quarantine
    if strict and len(quarantine):
        raise UserError(
            f"{report.files[0].source if len(report.files) == 1 else 'load'}: refused with --strict: "
            f"{len(quarantine)} record(s) could not be read (first: line {quarantine.iloc[0]['line']}: "
            f"{quarantine.iloc[0]['reason']}); nothing was changed"
        )
    if registers and deals.empty:
        raise UserError(f"{', '.join(r.name for r in registers)}: no deal could be read "
                        f"({len(quarantine)} record(s) quarantined); nothing was changed")

    fingerprint = _fingerprint(registers) if registers else None
    write_register = bool(registers) and fingerprint != _current_fingerprint(db)
    report.register_unchanged = bool(registers) and not write_register
    report.deals = 0 if deals is None else len(deals)
    report.tiv = [_tiv_report(r, db) for r in tables]
    if not write_register and all(t.unchanged for t in report.tiv):
        report.unchanged = True
        return report

    register = None
    if write_register:
        deals["deal_id"] = deal_ids(deals)
        deals["search_text"] = deals["designation"] + " | " + deals["description"] + " | " + deals["comments"]
        last_year = max((int(r.parsed.generated_date[:4]) for r in registers if r.parsed.generated_date),
                        default=datetime.now(timezone.utc).year)
        violations = run_checks(deals, last_year)
        deliveries = allocate_even(deals).assign(method="even", source=None)
        if exact is not None:
            deals, deliveries = exact.apply(deals, deliveries)
            report.exact = exact.report
        report.violations, report.deliveries = violations, len(deliveries)
        register = (registers, deals, deliveries, quarantine, report.repairs, violations, fingerprint)
    _save(db, register, [(r, t) for r, t in zip(tables, report.tiv) if not t.unchanged], report)
    return report


def _refuse_repeated_tables(tables: list[_Read]) -> None:
    seen: dict[str, str] = {}
    for r in tables:
        if r.parsed.table in seen:
            raise UserError(f"{r.name}: a second {r.parsed.table} TIV table in one load (first: "
                            f"{seen[r.parsed.table]}); load one of them; nothing was changed")
        seen[r.parsed.table] = r.name


def _tiv_report(r: _Read, db: Path) -> TivReport:
    cells = r.parsed.cells
    return TivReport(source=r.name, table=r.parsed.table, cells=len(cells), rows=cells["entity"].nunique(),
                     unresolved=sorted(set(cells.loc[~cells["resolved"], "entity_raw"])),
                     unchanged=_current_fingerprint(db, r.parsed.table) == r.text.sha256)


def _combine_registers(registers: list[_Read], report: LoadReport):
    """(deals, exact deliveries to apply or None) from the register files; fills the report's lists."""
    plain = [r for r in registers if r.kind == REGISTER]
    per_year = [r for r in registers if r.kind == REGISTER_BY_YEAR]
    quarantine = [r.quarantine.assign(source=r.name) for r in registers]
    repairs = [r.parsed.repairs.assign(source=r.name) for r in registers]
    deals = pd.concat([r.deals.assign(source=r.name, source_generated=r.parsed.generated_date) for r in plain],
                      ignore_index=True) if plain else None
    exact = None
    if per_year:
        from etl.by_year import Exact

        exact = Exact.prepare(per_year, deals)
        quarantine.append(exact.unpaired_quarantine)
        if deals is None:
            deals = exact.deals_alone()
    report.quarantine = pd.concat(quarantine, ignore_index=True)[["source", "line", "reason", "raw"]]
    report.repairs = pd.concat(repairs, ignore_index=True)[["source", "line", "repair"]]
    report.unresolved_names = sorted(
        set(deals.loc[~deals["supplier_resolved"], "supplier"]) | set(deals.loc[~deals["recipient_resolved"], "recipient"])
    )
    report.unresolved_descriptions = sorted(set(deals.loc[deals["category"] == "", "description"]))
    return deals, exact


def _sources(reads: list[_Read], now: datetime) -> pd.DataFrame:
    rows = []
    for r in reads:
        parsed = r.parsed
        if r.kind == TIV_TABLE:
            variant = f"TIV table {parsed.table} ({parsed.title}), delimiter {parsed.delimiter!r}"
        else:
            variant = f"{parsed.columns} columns, delimiter {parsed.delimiter!r}"
        rows.append({
            "source": r.name, "path": str(r.text.path.resolve()), "sha256": r.text.sha256,
            "size_bytes": r.text.size, "encoding": r.text.encoding, "kind": r.kind,
            "variant": variant + "".join(f"; {n}" for n in parsed.notes),
            "generated": parsed.generated, "generated_date": parsed.generated_date,
            "loaded_at": now, "records": r.records, "repaired": len(getattr(parsed, "repairs", ())),
            "quarantined": len(r.quarantine),
        })
    sources = pd.DataFrame(rows)
    sources["generated_date"] = pd.to_datetime(sources["generated_date"]).dt.date
    return sources


def _save(db: Path, register, tables: list, report: LoadReport) -> None:
    """One atomic write: the register snapshot (if any) and each changed TIV table."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with store.writer(db) as con:
        snapshot = con.execute("SELECT coalesce(max(snapshot_id), 0) FROM snapshots").fetchone()[0]
        if register is not None:
            reads, deals, deliveries, quarantine, repairs, violations, fingerprint = register
            snapshot += 1
            con.execute("INSERT INTO snapshots VALUES (?, 'register', ?, ?, ?, ?, ?)",
                        [snapshot, now, fingerprint, len(deals), len(quarantine), len(repairs)])
            for table, frame in (("sources", _sources(reads, now)), ("deals", deals), ("deliveries", deliveries),
                                 ("quarantine", quarantine), ("repairs", repairs), ("violations", violations)):
                _insert(con, table, frame, snapshot)
            report.snapshot_id = snapshot
        for r, tiv_report in tables:
            snapshot += 1
            con.execute("INSERT INTO snapshots VALUES (?, 'tiv_table', ?, ?, ?, 0, 0)",
                        [snapshot, now, r.text.sha256, None])
            _insert(con, "sources", _sources([r], now), snapshot)
            _insert(con, "tiv", r.parsed.cells.assign(table_name=r.parsed.table, source=r.name), snapshot)
            _insert(con, "tiv_totals", r.parsed.totals.assign(table_name=r.parsed.table), snapshot)
            tiv_report.snapshot_id = snapshot


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, snapshot: int) -> None:
    """Insert the frame's columns that the table has, by name; deals in list order, with their rank."""
    columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall() if c[0] != "snapshot_id"]
    staged = frame.reindex(columns=columns)
    if table == "deals":
        keys = [k.strip() for k in store.LIST_ORDER.split(",")]
        staged = staged.sort_values(keys, na_position="last", kind="stable", ignore_index=True)
        staged["list_rank"] = range(1, len(staged) + 1)
    con.register("staged", staged)
    names = ", ".join(f'"{c}"' for c in columns)
    con.execute(f'INSERT INTO {table} (snapshot_id, {names}) SELECT ?, {names} FROM staged', [snapshot])
    con.unregister("staged")
