"""The embedded DuckDB database and how it is replaced atomically.

A load never writes into the live file. It copies the database to a temporary
file beside it, writes the new snapshot there in one transaction, flushes it
to disk and renames it over the old file. A failed, interrupted or killed load
therefore leaves the previous file exactly as it was, and readers (the
dashboard) holding the old file keep a consistent view until they reopen.
One writer at a time, serialised by a lock file.

Every load is a snapshot: `snapshots` lists them, the `current_*` views show
the newest register snapshot, and older snapshots stay for `diff`. A TIV table
is a snapshot of its own (kind `tiv_table`): `current_tiv` shows the newest of
each table, so loading a register never replaces TIV data, nor the reverse.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

import duckdb

from etl.errors import UserError

SCHEMA_VERSION = "2"  # 2: deals.list_rank
# The order of a deal list before users sort it (ties broken by deal_id): deals are stored in
# this order with their position as list_rank, so a list's first page is a top-N on one integer
# whose min/max per row group let DuckDB skip most of the table.
LIST_ORDER = "recipient, supplier, order_year, designation, deal_id"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS snapshots (
    snapshot_id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
    fingerprint VARCHAR NOT NULL, deals INTEGER, quarantined INTEGER, repaired INTEGER
);
CREATE TABLE IF NOT EXISTS sources (
    snapshot_id INTEGER NOT NULL, source VARCHAR NOT NULL, path VARCHAR, sha256 VARCHAR NOT NULL,
    size_bytes BIGINT, encoding VARCHAR, kind VARCHAR, variant VARCHAR, generated VARCHAR,
    generated_date DATE, loaded_at TIMESTAMP, records INTEGER, repaired INTEGER, quarantined INTEGER
);
CREATE TABLE IF NOT EXISTS deals (
    snapshot_id INTEGER NOT NULL, deal_id VARCHAR NOT NULL, source VARCHAR, line INTEGER,
    supplier VARCHAR NOT NULL, supplier_raw VARCHAR, supplier_iso3 VARCHAR, supplier_kind VARCHAR,
    supplier_region VARCHAR, recipient VARCHAR NOT NULL, recipient_raw VARCHAR, recipient_iso3 VARCHAR,
    recipient_kind VARCHAR, recipient_region VARCHAR,
    order_year INTEGER, order_year_estimated BOOLEAN, number_ordered BIGINT,
    number_ordered_estimated BOOLEAN, designation VARCHAR, description VARCHAR, category VARCHAR,
    category_source VARCHAR, number_delivered BIGINT, number_delivered_estimated BOOLEAN,
    delivery_years VARCHAR, first_delivery_year INTEGER, last_delivery_year INTEGER, status VARCHAR,
    comments VARCHAR, tiv_per_unit DOUBLE, tiv_total_order DOUBLE, tiv_delivered DOUBLE,
    reported_value_usd_m DOUBLE, reported_value_usd_m_max DOUBLE, reported_value_scope VARCHAR,
    reported_value_amount DOUBLE, reported_value_currency VARCHAR, reported_value_text VARCHAR,
    search_text VARCHAR
);
CREATE TABLE IF NOT EXISTS deliveries (
    snapshot_id INTEGER NOT NULL, deal_id VARCHAR NOT NULL, supplier VARCHAR, supplier_iso3 VARCHAR,
    recipient VARCHAR, recipient_iso3 VARCHAR, category VARCHAR, year INTEGER, tiv DOUBLE,
    method VARCHAR
);
CREATE TABLE IF NOT EXISTS quarantine (
    snapshot_id INTEGER NOT NULL, source VARCHAR, line INTEGER, reason VARCHAR, raw VARCHAR
);
CREATE TABLE IF NOT EXISTS repairs (
    snapshot_id INTEGER NOT NULL, source VARCHAR, line INTEGER, repair VARCHAR
);
CREATE TABLE IF NOT EXISTS violations (
    snapshot_id INTEGER NOT NULL, deal_id VARCHAR, source VARCHAR, line INTEGER, "check" VARCHAR,
    detail VARCHAR, excepted BOOLEAN, exception_reason VARCHAR
);
CREATE OR REPLACE VIEW current_snapshot AS
    SELECT max(snapshot_id) AS snapshot_id FROM snapshots WHERE kind = 'register';
ALTER TABLE deals ADD COLUMN IF NOT EXISTS sipri_deal_id BIGINT;
-- the file a delivery row comes from where it is not its deal's (exact per-year figures)
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS source VARCHAR;
ALTER TABLE deals ADD COLUMN IF NOT EXISTS list_rank INTEGER;
CREATE TABLE IF NOT EXISTS tiv (
    snapshot_id INTEGER NOT NULL, table_name VARCHAR NOT NULL, entity VARCHAR NOT NULL,
    entity_raw VARCHAR, entity_iso3 VARCHAR, entity_kind VARCHAR, year INTEGER NOT NULL,
    tiv DOUBLE NOT NULL, source VARCHAR, line INTEGER
);
CREATE TABLE IF NOT EXISTS tiv_totals (
    snapshot_id INTEGER NOT NULL, table_name VARCHAR NOT NULL, entity_raw VARCHAR, year INTEGER, tiv DOUBLE
);
-- TIV tables are snapshots of kind 'tiv_table', one table each: the newest per table is current,
-- whatever was loaded after it (registers never replace TIV data, nor the other way round).
CREATE OR REPLACE VIEW current_tiv AS
    SELECT * FROM tiv WHERE snapshot_id IN (SELECT max(snapshot_id) FROM tiv GROUP BY table_name);
"""

CURRENT_VIEWS = ("deals", "deliveries", "quarantine", "repairs", "violations", "sources")


def _views() -> str:
    return "\n".join(
        f"CREATE OR REPLACE VIEW current_{t} AS SELECT * EXCLUDE (snapshot_id) FROM {t} "
        f"WHERE snapshot_id = (SELECT snapshot_id FROM current_snapshot);"
        for t in CURRENT_VIEWS
    )


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)
    con.execute(_views())
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])


def _temp_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.{os.getpid()}.loading")


def _clean_leftovers(db: Path) -> None:
    """Remove temporary files of loads that were killed (we hold the lock: none is running)."""
    for leftover in db.parent.glob(f".{db.name}.*.loading*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def writer(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a private copy of `db`; on success the copy replaces `db` atomically."""
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        lock = open(db.with_name(f".{db.name}.lock"), "w")
    except OSError as exc:
        raise UserError(f"{db}: cannot write the database here ({exc.strerror or exc})") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _clean_leftovers(db)
        temp = _temp_path(db)
        try:
            if db.exists():
                _copy(db, temp)
            con = duckdb.connect(str(temp))
            try:
                ensure_schema(con)
                con.execute("BEGIN TRANSACTION")
                yield con
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
            finally:
                con.close()
            _fsync(temp)
            os.replace(temp, db)
            _fsync(db.parent)
        finally:
            for leftover in (temp, Path(f"{temp}.wal")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()


def _copy(src: Path, dst: Path) -> None:
    try:
        with duckdb.connect(str(src), read_only=True) as con:
            con.execute("SELECT 1")  # refuse a file that is not a DuckDB database
    except duckdb.Error as exc:
        raise UserError(f"{src}: not an armsdash database ({str(exc).splitlines()[0]})") from None
    import shutil

    shutil.copyfile(src, dst)


def reader(db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection; UserError when nothing was loaded yet."""
    if not db.exists():
        raise UserError(f"{db}: no data loaded yet; run 'armsdash load FILE' or 'armsdash fetch' first")
    try:
        return duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise UserError(f"{db}: not an armsdash database ({str(exc).splitlines()[0]})") from None
