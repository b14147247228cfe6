"""`armsdash load`: files in, one new snapshot out (or nothing at all).

The skeleton is the same for every source: read and fingerprint the inputs
(provenance first), process them into deals, deliveries and quarantine, then
save everything in one atomic write. Nothing is written when the inputs are
the ones already loaded, when `--strict` refuses, or when no deal was read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from etl import db as store
from etl.allocate import allocate_even
from etl.checks import run_checks
from etl.deals import build_deals
from etl.errors import UserError
from etl.sources.detect import REGISTER, detect_kind
from etl.sources.sipri_register import RegisterRead, read_register
from etl.sources.text import TextFile, read_text

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
class LoadReport:
    files: list[FileReport]
    snapshot_id: int | None = None
    unchanged: bool = False
    deals: int = 0
    deliveries: int = 0
    quarantine: pd.DataFrame | None = None
    repairs: pd.DataFrame | None = None
    violations: pd.DataFrame | None = None
    unresolved_names: list[str] = field(default_factory=list)
    unresolved_descriptions: list[str] = field(default_factory=list)


@dataclass
class _Read:
    text: TextFile
    register: RegisterRead
    deals: pd.DataFrame
    quarantined: pd.DataFrame


def _read_file(path: Path) -> _Read:
    source = read_text(path)
    kind = detect_kind(source)
    if kind != REGISTER:
        raise UserError(f"{path}: recognised as a SIPRI {kind.replace('_', ' ')}, which this version cannot load yet")
    register = read_register(source)
    deals, quarantined = build_deals(register.records)
    return _Read(source, register, deals, quarantined)


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
    return ",".join(sorted(r.text.sha256 for r in reads))


def _current_fingerprint(db: Path) -> str | None:
    if not db.exists():
        return None
    con = store.reader(db)
    try:
        row = con.execute(
            "SELECT fingerprint FROM snapshots WHERE snapshot_id = (SELECT snapshot_id FROM current_snapshot)"
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return row[0] if row else None


def load(paths: list[Path], db: Path, strict: bool = False) -> LoadReport:
    reads = [_read_file(p) for p in paths]
    by_source = {}
    for r in reads:
        name = r.text.path.name
        by_source[name] = by_source.get(name, 0) + 1
    reports = []
    deals_parts, quarantine_parts, repair_parts = [], [], []
    for r in reads:
        name = r.text.path.name if by_source[r.text.path.name] == 1 else str(r.text.path)
        q = pd.concat([r.register.quarantine, r.quarantined], ignore_index=True).assign(source=name)
        rep = r.register.repairs.assign(source=name)
        d = r.deals.assign(source=name, source_generated=r.register.generated_date)
        reports.append(FileReport(
            source=name, kind=REGISTER, encoding=r.text.encoding, sha256=r.text.sha256,
            generated=r.register.generated, records=len(r.register.records) + len(r.register.quarantine),
            deals=len(d), repaired=len(rep), quarantined=len(q), notes=r.register.notes,
        ))
        deals_parts.append(d)
        quarantine_parts.append(q)
        repair_parts.append(rep)
    deals = pd.concat(deals_parts, ignore_index=True)
    quarantine = pd.concat(quarantine_parts, ignore_index=True)[["source", "line", "reason", "raw"]]
    repairs = pd.concat(repair_parts, ignore_index=True)[["source", "line", "repair"]]
    report = LoadReport(files=reports, quarantine=quarantine, repairs=repairs)
    report.unresolved_names = sorted(
        set(deals.loc[~deals["supplier_resolved"], "supplier"]) | set(deals.loc[~deals["recipient_resolved"], "recipient"])
    )
    report.unresolved_descriptions = sorted(set(deals.loc[deals["category"] == "", "description"]))

    if strict and len(quarantine):
        raise UserError(
            f"{reports[0].source if len(reports) == 1 else 'load'}: refused with --strict: "
            f"{len(quarantine)} record(s) could not be read (first: line {quarantine.iloc[0]['line']}: "
            f"{quarantine.iloc[0]['reason']}); nothing was changed"
        )
    if deals.empty:
        raise UserError(f"{', '.join(str(p) for p in paths)}: no deal could be read "
                        f"({len(quarantine)} record(s) quarantined); nothing was changed")

    fingerprint = _fingerprint(reads)
    if fingerprint == _current_fingerprint(db):
        report.unchanged = True
        report.deals = len(deals)
        return report

    deals["deal_id"] = deal_ids(deals)
    deals["search_text"] = deals["designation"] + " | " + deals["description"] + " | " + deals["comments"]
    last_year = max((int(r.register.generated_date[:4]) for r in reads if r.register.generated_date),
                    default=datetime.now(timezone.utc).year)
    violations = run_checks(deals, last_year)
    deliveries = allocate_even(deals).assign(method="even")
    report.violations, report.deals, report.deliveries = violations, len(deals), len(deliveries)
    report.snapshot_id = _save(db, reads, reports, deals, deliveries, quarantine, repairs, violations, fingerprint)
    return report


def _save(db, reads, reports, deals, deliveries, quarantine, repairs, violations, fingerprint) -> int:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    sources = pd.DataFrame([{
        "source": rep.source, "path": str(r.text.path.resolve()), "sha256": r.text.sha256,
        "size_bytes": r.text.size, "encoding": r.text.encoding, "kind": REGISTER,
        "variant": f"{r.register.columns} columns, delimiter {r.register.delimiter!r}"
                   + "".join(f"; {n}" for n in r.register.notes),
        "generated": r.register.generated, "generated_date": r.register.generated_date,
        "loaded_at": now, "records": rep.records, "repaired": rep.repaired, "quarantined": rep.quarantined,
    } for r, rep in zip(reads, reports)])
    sources["generated_date"] = pd.to_datetime(sources["generated_date"]).dt.date
    with store.writer(db) as con:
        snapshot = con.execute("SELECT coalesce(max(snapshot_id), 0) + 1 FROM snapshots").fetchone()[0]
        con.execute("INSERT INTO snapshots VALUES (?, 'register', ?, ?, ?, ?, ?)",
                    [snapshot, now, fingerprint, len(deals), len(quarantine), len(repairs)])
        for table, frame in (("sources", sources), ("deals", deals), ("deliveries", deliveries),
                             ("quarantine", quarantine), ("repairs", repairs), ("violations", violations)):
            _insert(con, table, frame, snapshot)
    return snapshot


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, snapshot: int) -> None:
    """Insert the frame's columns that the table has, by name."""
    columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall() if c[0] != "snapshot_id"]
    staged = frame.reindex(columns=columns)
    con.register("staged", staged)
    names = ", ".join(f'"{c}"' for c in columns)
    con.execute(f'INSERT INTO {table} (snapshot_id, {names}) SELECT ?, {names} FROM staged', [snapshot])
    con.unregister("staged")
