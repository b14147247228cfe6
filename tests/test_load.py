"""Loading into DuckDB: atomic, idempotent, snapshots kept, provenance recorded."""

from __future__ import annotations

import duckdb
import pytest

from etl import db as store
from etl.errors import UserError
from etl.load import load
from tests.conftest import ROWS, register_text, write_register


def counts(db):
    with duckdb.connect(str(db), read_only=True) as con:
        snapshots = con.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        deals = con.execute("SELECT count(*) FROM current_deals").fetchone()[0]
        ids = sorted(r[0] for r in con.execute("SELECT deal_id FROM current_deals").fetchall())
    return snapshots, deals, ids


def test_load_records_deals_deliveries_and_provenance(tmp_path, db):
    path = write_register(tmp_path / "r.csv")
    report = load([path], db)
    assert report.snapshot_id == 1 and report.deals == len(ROWS)
    with duckdb.connect(str(db), read_only=True) as con:
        source = con.execute("SELECT source, sha256, generated, generated_date, encoding FROM current_sources").fetchone()
        assert source[0] == "r.csv" and len(source[1]) == 64
        assert source[2] == "02 Feb 2024 09:15:00 AM" and str(source[3]) == "2024-02-02"
        # even split: 12.75 TIV over 2020-2022
        rows = con.execute("SELECT year, tiv FROM current_deliveries d JOIN current_deals USING (deal_id) "
                           "WHERE designation = 'AS-365 Dauphin' ORDER BY year").fetchall()
        assert rows == [(2020, 4.25), (2021, 4.25), (2022, 4.25)]
        zero = con.execute("SELECT tiv FROM current_deliveries JOIN current_deals USING (deal_id) "
                           "WHERE designation = 'T-129B ATAK'").fetchall()
        assert zero == [(0.0,)]
        total = con.execute("SELECT sum(tiv) FROM current_deliveries").fetchone()[0]
        assert total == pytest.approx(sum(float(r[15] or 0) for r in ROWS))


def test_same_file_again_changes_nothing(tmp_path, db):
    path = write_register(tmp_path / "r.csv")
    load([path], db)
    before = db.read_bytes()
    report = load([path], db)
    assert report.unchanged and db.read_bytes() == before


def test_deals_are_stored_in_list_order_with_their_rank(tmp_path, db):
    """The dashboard's deal lists rely on list_rank being the position in etl.db.LIST_ORDER."""
    load([write_register(tmp_path / "r.csv")], db)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = [r[0] for r in con.execute("SELECT list_rank FROM current_deals").fetchall()]
        ranks = con.execute(f"SELECT list_rank, row_number() OVER (ORDER BY {store.LIST_ORDER}) FROM current_deals"
                            ).fetchall()
    assert stored == list(range(1, len(ROWS) + 1))  # stored in that order too
    assert all(a == b for a, b in ranks)


def test_a_snapshot_stored_by_an_older_schema_is_loaded_again(tmp_path, db):
    """Loading the same file again upgrades a database written before the current schema."""
    path = write_register(tmp_path / "r.csv")
    load([path], db)
    with duckdb.connect(str(db)) as con:  # what version 1 stored: no list_rank, a bare checksum
        con.execute("UPDATE deals SET list_rank = NULL")
        con.execute("UPDATE snapshots SET fingerprint = split_part(fingerprint, ':', 2)")
    report = load([path], db)
    assert not report.unchanged and report.snapshot_id == 2
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(list_rank) FROM current_deals").fetchone()[0] == len(ROWS)


def test_deal_ids_are_stable_across_variants_of_the_same_data(tmp_path, db):
    load([write_register(tmp_path / "a.csv")], db)
    first = counts(db)[2]
    load([write_register(tmp_path / "b.csv", encoding="utf-8", bom=True, newline="\r\n", pad=";;;")], db)
    snapshots, _, second = counts(db)
    assert snapshots == 2 and first == second


def test_new_load_keeps_the_previous_snapshot(tmp_path, db):
    load([write_register(tmp_path / "a.csv")], db)
    load([write_register(tmp_path / "b.csv", rows=ROWS[:2])], db)
    with duckdb.connect(str(db), read_only=True) as con:
        per_snapshot = con.execute("SELECT snapshot_id, count(*) FROM deals GROUP BY 1 ORDER BY 1").fetchall()
    assert per_snapshot == [(1, len(ROWS)), (2, 2)]
    assert counts(db)[1] == 2


def test_several_files_become_one_snapshot(tmp_path, db):
    a = write_register(tmp_path / "a.csv", rows=ROWS[:2])
    b = write_register(tmp_path / "b.csv", rows=ROWS[2:])
    report = load([a, b], db)
    assert report.deals == len(ROWS) and counts(db)[:2] == (1, len(ROWS))


def test_strict_refuses_and_leaves_data_untouched(tmp_path, db):
    load([write_register(tmp_path / "good.csv")], db)
    before = db.read_bytes()
    rows = [list(r) for r in ROWS]
    rows[0][2] = "two thousand"
    bad = write_register(tmp_path / "bad.csv", rows=rows)
    with pytest.raises(UserError, match="refused with --strict: 1 record"):
        load([bad], db, strict=True)
    assert db.read_bytes() == before
    report = load([bad], db)  # without --strict: loads the rest, quarantines one
    assert report.deals == len(ROWS) - 1 and len(report.quarantine) == 1
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT line, reason FROM current_quarantine").fetchall()[0][1].startswith("order year")


def test_a_file_with_no_readable_deal_changes_nothing(tmp_path, db):
    load([write_register(tmp_path / "good.csv")], db)
    before = db.read_bytes()
    garbage = tmp_path / "g.csv"
    garbage.write_text(register_text(rows=[]) + "just,some,words\n")
    with pytest.raises(UserError, match="no deal could be read"):
        load([garbage], db)
    assert db.read_bytes() == before


def test_one_bad_file_among_several_changes_nothing(tmp_path, db):
    load([write_register(tmp_path / "good.csv")], db)
    before = db.read_bytes()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match="empty"):
        load([write_register(tmp_path / "other.csv", rows=ROWS[:1]), empty], db)
    assert db.read_bytes() == before


def test_failure_inside_a_write_leaves_the_previous_file_and_no_leftovers(tmp_path, db):
    load([write_register(tmp_path / "good.csv")], db)
    before = db.read_bytes()
    with pytest.raises(duckdb.Error):
        with store.writer(db) as con:
            con.execute("DELETE FROM deals")
            con.execute("SELECT * FROM no_such_table")
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir() if p.name.startswith(f".{db.name}")) == [f".{db.name}.lock"]


def test_leftovers_of_a_killed_load_are_cleaned_on_the_next(tmp_path, db):
    load([write_register(tmp_path / "good.csv")], db)
    leftover = db.with_name(f".{db.name}.99999.loading")
    leftover.write_bytes(b"half a database")
    load([write_register(tmp_path / "other.csv", rows=ROWS[:2])], db)
    assert not leftover.exists() and counts(db)[1] == 2


def test_a_file_that_is_not_a_database_is_refused(tmp_path, db):
    db.write_text("not duckdb")
    with pytest.raises(UserError, match="not an armsdash database"):
        load([write_register(tmp_path / "r.csv")], db)
    assert db.read_text() == "not duckdb"
