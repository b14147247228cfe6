"""`armsdash` as users run it: exit statuses, one-line errors, exports per the interface."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from etl.export import DEALS_COLUMNS, DELIVERIES_COLUMNS
from tests.conftest import ROWS, run_cli, write_register

CONTRACT_DEALS = [
    "deal_id", "supplier", "supplier_iso3", "recipient", "recipient_iso3", "order_year",
    "order_year_estimated", "number_ordered", "number_ordered_estimated", "designation", "description",
    "category", "number_delivered", "number_delivered_estimated", "delivery_years", "status", "comments",
    "tiv_per_unit", "tiv_total_order", "tiv_delivered", "reported_value_usd_m", "reported_value_scope", "source",
]
CONTRACT_DELIVERIES = ["deal_id", "supplier", "supplier_iso3", "recipient", "recipient_iso3", "category", "year", "tiv"]


def export(db, *args) -> pd.DataFrame:
    done = run_cli("export", "--db", db, "-o", "-", *args)
    assert done.returncode == 0, done.stderr.decode()
    return pd.read_csv(io.BytesIO(done.stdout), dtype=str, keep_default_na=False)


def assert_one_line_error(done, *needles):
    assert done.returncode != 0
    err = done.stderr.decode()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


# --- on the full real register ------------------------------------------------------

def test_export_columns_follow_the_interface(real_db):
    deals = export(real_db)
    assert list(deals.columns[: len(CONTRACT_DEALS)]) == CONTRACT_DEALS
    assert list(deals.columns) == DEALS_COLUMNS
    assert len(deals) == 29_515 and deals["deal_id"].is_unique
    deliveries = export(real_db, "--table", "deliveries")
    assert list(deliveries.columns[: len(CONTRACT_DELIVERIES)]) == CONTRACT_DELIVERIES
    assert list(deliveries.columns) == DELIVERIES_COLUMNS
    assert deals["source"].str.startswith("SIPRI Arms Transfers Database; trade-register-2025-03.csv; "
                                          "data generated 2025-03-13").all()


def test_recipient_by_name_alias_or_iso3_selects_the_same_deals(real_db):
    by = {term: export(real_db, "--recipient", term, "--supplier", "Russia")["deal_id"].tolist()
          for term in ("Turkey", "TUR", "turkiye", "Türkiye")}
    assert len(by["Turkey"]) > 0
    assert all(ids == by["Turkey"] for ids in by.values())


def test_search_s400_finds_the_systems_but_never_fcs_4008(real_db):
    found = export(real_db, "--search", "S-400")
    text = found["designation"] + " " + found["comments"]
    assert not text.str.contains("FCS-4008").any()
    systems = found[found["designation"] == "S-400 Triumf"]
    assert set(systems["recipient"]) == {"Belarus", "China", "India", "Turkiye"}
    assert (found["designation"] != "S-400 Triumf").any()  # deals whose comments mention them
    fcs = export(real_db, "--search", "FCS-4008")
    assert len(fcs) > 0  # the designation exists; S-400 just must not find it


def test_search_runs_on_into_letters_not_digits(real_db):
    t129 = export(real_db, "--search", "T-129")
    assert t129["designation"].str.contains("T-129B ATAK").any()
    f16 = export(real_db, "--search", "F-16")
    assert f16["designation"].str.contains("F-16C").any()
    f1 = export(real_db, "--search", "F-1")
    assert not (f1["designation"] + " " + f1["comments"]).str.contains(r"(?<![\w])F-16").any()


def test_year_and_category_filters(real_db):
    deals = export(real_db, "--from", "2020", "--to", "2021", "--category", "aircraft")
    assert set(deals["order_year"]) == {"2020", "2021"} and set(deals["category"]) == {"Aircraft"}
    deliveries = export(real_db, "--table", "deliveries", "--from", "2024", "--recipient", "UKR")
    assert set(deliveries["year"]) == {"2024"} and set(deliveries["recipient"]) == {"Ukraine"}


def test_unknown_filter_values_are_clear_errors(real_db):
    assert_one_line_error(run_cli("export", "--db", real_db, "-o", "-", "--recipient", "Atlantis"), "Atlantis")
    assert_one_line_error(run_cli("export", "--db", real_db, "-o", "-", "--category", "Lasers"), "Lasers")
    assert_one_line_error(run_cli("export", "--db", real_db, "-o", "-", "--table", "nope"), "nope")


# --- small files ------------------------------------------------------------------

def test_load_prints_a_summary_and_exports_to_a_file(tmp_path, db):
    done = run_cli("load", write_register(tmp_path / "r.csv"), "--db", db)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert f"{len(ROWS)} records read: {len(ROWS)} deals" in out and "Source: SIPRI Arms Transfers Database" in out
    target = tmp_path / "deals.csv"
    assert run_cli("export", "--db", db, "-o", target).returncode == 0
    assert target.read_bytes().startswith(b"deal_id,supplier,") and b"\r\n" in target.read_bytes()


def test_quarantined_records_exit_zero_and_export(tmp_path, db):
    rows = [list(r) for r in ROWS]
    rows[1][2] = "19x9"
    done = run_cli("load", write_register(tmp_path / "r.csv", rows=rows), "--db", db)
    assert done.returncode == 0 and "1 quarantined" in done.stdout.decode()
    quarantine = export(db, "--table", "quarantine")
    assert list(quarantine.columns) == ["source", "line", "reason", "raw"]
    assert quarantine.loc[0, "reason"] == "order year '19x9' is not a number"
    assert "19x9" in quarantine.loc[0, "raw"]


def test_strict_exits_non_zero_and_changes_nothing(tmp_path, db):
    assert run_cli("load", write_register(tmp_path / "good.csv"), "--db", db).returncode == 0
    before = db.read_bytes()
    rows = [list(r) for r in ROWS]
    rows[0][14] = "n/a"
    done = run_cli("load", "--strict", write_register(tmp_path / "bad.csv", rows=rows), "--db", db)
    assert_one_line_error(done, "bad.csv", "--strict")
    assert db.read_bytes() == before


@pytest.mark.parametrize("content, needle", [
    (b"", "empty"),
    (b"\x00\x01\x02binary\x00" * 50, "binary"),
    (b"id,name\n1,x\n", "not a SIPRI trade register"),
])
def test_bad_files_exit_non_zero_with_one_line(tmp_path, db, content, needle):
    assert run_cli("load", write_register(tmp_path / "good.csv"), "--db", db).returncode == 0
    before = db.read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    assert_one_line_error(run_cli("load", bad, "--db", db), str(bad), needle)
    assert db.read_bytes() == before


def test_missing_path_and_no_database(tmp_path, db):
    assert_one_line_error(run_cli("load", tmp_path / "missing.csv", "--db", db), "missing.csv", "no such file")
    assert not db.exists()
    assert_one_line_error(run_cli("export", "--db", db, "-o", "-"), "no data loaded yet")


def test_debug_shows_the_traceback(tmp_path, db):
    done = run_cli("load", tmp_path / "missing.csv", "--db", db, "--debug")
    assert done.returncode != 0 and "Traceback" in done.stderr.decode()


def test_formula_injection_is_neutralised(tmp_path, db):
    rows = [list(r) for r in ROWS]
    rows[0][12] = "=HYPERLINK(\"http://x\")"
    rows[1][6] = "@SUM(A1)"
    rows[2][12] = "-2+3"
    assert run_cli("load", write_register(tmp_path / "r.csv", rows=rows), "--db", db).returncode == 0
    deals = export(db).set_index("designation")
    assert deals.loc["Doorman", "comments"] == "'=HYPERLINK(\"http://x\")"
    assert "'@SUM(A1)" in deals.index
    assert deals.loc["S-400 Triumf", "comments"] == "'-2+3"


def test_db_from_environment(tmp_path):
    db = tmp_path / "env.duckdb"
    done = run_cli("load", write_register(tmp_path / "r.csv"), env={"ARMSDASH_DB": str(db)})
    assert done.returncode == 0 and db.exists()


def test_usage_error_exits_2():
    assert run_cli("export").returncode == 2


def test_cut_off_file_loads_the_rest_and_says_what_was_lost(tmp_path, db):
    text = (tmp_path / "full.csv")
    write_register(text)
    data = text.read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(data[: data.rindex(b"New,Part of") + 6])
    done = run_cli("load", cut, "--db", db)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert f"{len(ROWS) - 1} deals" in out and "1 quarantined" in out and "fields where the header has 16" in out
