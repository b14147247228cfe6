"""SIPRI's register with deliveries per year: read, matched to register deals, exact deliveries."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from etl.by_year import match
from etl.errors import UserError
from etl.load import load
from etl.sources.detect import REGISTER_BY_YEAR, detect_kind
from etl.sources.sipri_by_year import read_by_year
from etl.sources.text import read_text
from tests.conftest import ROWS, run_cli, sipri_file, write_register

BY_YEAR = "us-exports-by-delivery-year-2025-04.csv"
HEADER = ("SIPRI AT Database ID,Supplier,Recipient,Designation,Description,Armament category,Order date,"
          "Order date is estimate,Numbers delivered,Numbers delivered is estimate,Delivery year,"
          "Delivery year is estimate,Status,SIPRI estimate,TIV deal unit,TIV delivery values,Local production")
OLD_HEADER = ("Deal ID;Seller;Buyer;Designation;Description;Armament category;Order date;Order date is estimate;"
              "Numbers delivered;Numbers delivered is estimate;Delivery year;Delivery year is estimate;Status;"
              "SIPRI estimate;TIV deal unit;TIV delivery values;Local production")
# Invented per-year rows for the deals of conftest.ROWS, spelled as the per-year export spells them.
PER_YEAR = [
    ["101", "Netherlands", "Chile", "Doorman -", "frigate", "Ships", "2005", "No", "1", "No", "2006", "No",
     "Second hand", "375", "150", "100", "No"],
    ["101", "Netherlands", "Chile", "Doorman -", "frigate", "Ships", "2005", "No", "1", "No", "2007", "No",
     "Second hand", "375", "150", "200", "No"],
    ["102", "France", "Côte d'Ivoire", "AS-365", "light helicopter", "Aircraft", "2019", "Yes", "1", "Yes", "2020",
     "No", "New", "4.25", "4.25", "4.25", "No"],
    ["102", "France", "Côte d'Ivoire", "AS-365", "light helicopter", "Aircraft", "2019", "Yes", "1", "Yes", "2021",
     "No", "New", "4.25", "4.25", "2", "No"],
    ["102", "France", "Côte d'Ivoire", "AS-365", "light helicopter", "Aircraft", "2019", "Yes", "1", "Yes", "2022",
     "No", "New", "4.25", "4.25", "6.5", "No"],
    ["103", "Russia", "Turkey", "S-400", "SAM system", "Air-defence systems", "2017", "No", "2", "No", "2019", "No",
     "New", "65", "65", "130", "No"],
    ["104", "Italy", "Turkiye", "T-129B", "combat helicopter", "Aircraft", "2007", "No", "50", "No", "2014", "No",
     "New", "0.2", "0.2", "0", "Yes"],
    ["105", "Russia", "India", "Su-30MKI", "FGA aircraft", "Aircraft", "2018", "No", "1", "No", "2020", "No",
     "New", "50", "50", "50", "Yes"],
]
PREAMBLE = ["Transfers of major conventional arms (test fixture written for armsdash)", "",
            "Data generated: 28 Apr 2025 8:41:00 PM"]


def per_year_text(rows=None, old=False) -> str:
    rows = PER_YEAR if rows is None else rows
    sep = ";" if old else ","
    return "\n".join([*PREAMBLE, OLD_HEADER if old else HEADER, *(sep.join(r) for r in rows)]) + "\n"


def write_per_year(path, rows=None, old=False, encoding="utf-8"):
    path.write_bytes(per_year_text(rows, old).encode(encoding))
    return path


def deliveries(db, designation):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT year, tiv, method, l.source FROM current_deliveries l "
                           "JOIN current_deals d USING (deal_id) WHERE designation = ? ORDER BY year",
                           [designation]).fetchall()


def deal_ids(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return sorted(r[0] for r in con.execute("SELECT deal_id FROM current_deals").fetchall())


# --- reading -----------------------------------------------------------------------------

def test_both_vintages_are_recognised_and_read_alike(tmp_path):
    new = read_text(write_per_year(tmp_path / "new.csv"))
    old = read_text(write_per_year(tmp_path / "old.csv", old=True, encoding="latin-1"))
    assert detect_kind(new) == detect_kind(old) == REGISTER_BY_YEAR
    a, b = read_by_year(new), read_by_year(old)
    assert a.delimiter == "," and b.delimiter == ";" and a.generated_date == "2025-04-28"
    columns = ["sipri_deal_id", "supplier", "recipient", "designation", "order_year", "delivery_years",
               "number_delivered", "tiv_delivered", "category"]
    pd.testing.assert_frame_equal(a.deals[columns], b.deals[columns])
    deal = a.deals.set_index("sipri_deal_id").loc[102]
    assert deal["recipient"] == "Cote d'Ivoire" and deal["recipient_iso3"] == "CIV"
    assert deal["delivery_years"] == "2020;2021;2022" and deal["tiv_delivered"] == 12.75
    assert deal["number_delivered"] == 3 and deal["order_year_estimated"] and deal["number_delivered_estimated"]
    assert a.deals.set_index("sipri_deal_id").loc[103, "category"] == "Air defence systems"
    assert (a.deals["category_source"] == "sipri").all()


def test_one_unreadable_row_quarantines_its_whole_deal(tmp_path):
    rows = [list(r) for r in PER_YEAR]
    rows[1][15] = "two hundred"
    read = read_by_year(read_text(write_per_year(tmp_path / "p.csv", rows)))
    assert 101 not in set(read.deals["sipri_deal_id"])
    reasons = read.quarantine.set_index("line")["reason"]
    assert reasons[6].startswith("TIV delivery values 'two hundred' is not a number")
    assert reasons[5] == "another row of SIPRI deal 101 could not be read"
    assert len(read.deals) == 4


def test_an_exact_copy_is_dropped_and_other_rows_of_one_year_are_summed(tmp_path):
    rows = [list(r) for r in PER_YEAR]
    rows.insert(2, list(rows[1]))  # SIPRI's 2025 file repeats one row like this
    other = list(rows[0])
    other[8], other[15] = "1", "50"  # a second, different row for 2006
    rows.insert(1, other)
    read = read_by_year(read_text(write_per_year(tmp_path / "p.csv", rows)))
    deal = read.deals.set_index("sipri_deal_id").loc[101]
    assert deal["tiv_delivered"] == 350 and deal["number_delivered"] == 3
    per_year = read.rows[read.rows["sipri_deal_id"] == 101].set_index("year")["tiv"].to_dict()
    assert per_year == {2006: 150, 2007: 200}
    assert sorted(read.repairs["repair"]) == ["2 rows for SIPRI deal 101 and delivery year 2006 summed",
                                              "exact copy of line 7 dropped"]


def test_the_real_file(tmp_path):
    read = read_by_year(read_text(sipri_file(BY_YEAR)))
    assert read.records == 18_677 and len(read.deals) == 9_048 and read.quarantine.empty
    assert len(read.rows) == 18_676  # one exact copy (deal 38486, 2004) dropped
    assert list(read.repairs["repair"]) == ["exact copy of line 10756 dropped"]
    assert read.deals["tiv_delivered"].sum() == pytest.approx(752_930.37 - 30.6)
    assert read.deals["recipient_resolved"].all() and (read.deals["category"] != "").all()
    assert read.generated_date == "2025-04-28"


# --- matching and exact deliveries on inline fixtures -----------------------------------

def test_loaded_with_a_register_the_deals_it_covers_get_exact_years(tmp_path, db):
    register = write_register(tmp_path / "r.csv")
    per_year = write_per_year(tmp_path / "p.csv")
    alone = tmp_path / "alone.duckdb"
    load([register], alone)
    report = load([register, per_year], db)
    assert report.deals == len(ROWS) and deal_ids(db) == deal_ids(alone)
    assert deliveries(db, "Doorman") == [(2006, 100.0, "exact", "p.csv"), (2007, 200.0, "exact", "p.csv")]
    assert deliveries(alone, "Doorman") == [(2006, 150.0, "even", None), (2007, 150.0, "even", None)]
    assert [r[1] for r in deliveries(db, "AS-365 Dauphin")] == [4.25, 2.0, 6.5]
    e = report.exact
    assert (e.per_year_deals, e.paired, e.unpaired, e.history_differs) == (5, 4, 1, 0)
    assert e.same_designation == 1 and e.other_designation == 3  # "Doorman -" is "Doorman"
    assert list(report.quarantine["reason"]) == [
        "SIPRI deal 105 (Su-30MKI to India, ordered 2018): no register deal matches it, "
        "so its exact deliveries are not used"]
    with duckdb.connect(str(db), read_only=True) as con:
        sipri_ids = con.execute("SELECT designation, sipri_deal_id FROM current_deals "
                                "WHERE sipri_deal_id IS NOT NULL ORDER BY 2").fetchall()
        kinds = con.execute("SELECT source, kind FROM current_sources ORDER BY 1").fetchall()
    assert [i for _, i in sipri_ids] == [101, 102, 103, 104]
    assert kinds == [("p.csv", "register_by_year"), ("r.csv", "register")]


def test_strict_refuses_an_unmatched_per_year_deal(tmp_path, db):
    with pytest.raises(UserError, match="refused with --strict: 1 record"):
        load([write_register(tmp_path / "r.csv"), write_per_year(tmp_path / "p.csv")], db, strict=True)
    assert not db.exists()
    load([write_register(tmp_path / "r.csv"), write_per_year(tmp_path / "p.csv", PER_YEAR[:-1])], db, strict=True)


def test_where_the_files_disagree_on_a_deal_the_even_split_stays(tmp_path, db):
    rows = [list(r) for r in PER_YEAR[:-1]]
    rows[1][15] = "180"  # 100 + 180 != the register's 300
    report = load([write_register(tmp_path / "r.csv"), write_per_year(tmp_path / "p.csv", rows)], db)
    assert report.exact.paired == 4 and report.exact.history_differs == 1
    assert [r[1:3] for r in deliveries(db, "Doorman")] == [(150.0, "even"), (150.0, "even")]


def test_loaded_alone_its_deals_are_the_register(tmp_path, db):
    report = load([write_per_year(tmp_path / "p.csv")], db)
    assert report.deals == len(PER_YEAR) - 3 and report.exact.alone and report.quarantine.empty
    assert deliveries(db, "Doorman -") == [(2006, 100.0, "exact", "p.csv"), (2007, 200.0, "exact", "p.csv")]
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT number_ordered, tiv_total_order, comments, category, sipri_deal_id "
                          "FROM current_deals WHERE designation = 'S-400'").fetchone()
    assert row == (None, None, "", "Air defence systems", 103)


def test_matching_across_spellings_one_to_one(tmp_path):
    register = load_register_deals(tmp_path)
    per_year = read_by_year(read_text(write_per_year(tmp_path / "p.csv"))).deals
    pairs = match(per_year, register).pairs
    got = {per_year.iloc[l]["designation"]: register.iloc[r]["designation"] for l, r in zip(pairs["l"], pairs["r"])}
    assert got == {"Doorman -": "Doorman", "AS-365": "AS-365 Dauphin", "S-400": "S-400 Triumf",
                   "T-129B": "T-129B ATAK"}


def load_register_deals(tmp_path):
    from etl.deals import build_deals
    from etl.sources.sipri_register import read_register

    return build_deals(read_register(read_text(write_register(tmp_path / "r.csv"))).records)[0]


# --- on the real files --------------------------------------------------------------------

@pytest.fixture(scope="module")
def exact_db(tmp_path_factory, real_register):
    db = tmp_path_factory.mktemp("exact") / "armsdash.duckdb"
    done = run_cli("load", real_register, sipri_file(BY_YEAR), "--db", db)
    assert done.returncode == 0, done.stderr.decode()
    assert "Exact deliveries per year: 9,048 of 9,048 SIPRI per-year deals matched" in done.stdout.decode()
    return db


def test_real_match_rate(register_deals):
    per_year = read_by_year(read_text(sipri_file(BY_YEAR))).deals
    matching = match(per_year, register_deals)
    assert matching.rate >= 0.995  # measured: 9,048 of 9,048
    pairs = matching.pairs
    assert (pairs["facts"] == 3).mean() >= 0.999  # numbers, years and TIV agree: few false pairs possible
    assert pairs["l"].is_unique and pairs["r"].is_unique


def test_real_exact_deliveries_are_sipris_figures(exact_db, real_db):
    per_year = read_by_year(read_text(sipri_file(BY_YEAR)))
    with duckdb.connect(str(exact_db), read_only=True) as con:
        got = con.execute("SELECT d.sipri_deal_id, l.year, l.tiv FROM current_deliveries l JOIN current_deals d "
                          "USING (deal_id) WHERE l.method = 'exact'").df()
        methods = dict(con.execute("SELECT method, count(DISTINCT deal_id) FROM current_deliveries "
                                   "GROUP BY 1").fetchall())
        non_us = con.execute("SELECT count(*) FROM current_deliveries WHERE method = 'exact' "
                             "AND supplier <> 'United States'").fetchone()[0]
        total = con.execute("SELECT sum(tiv) FROM current_deliveries").fetchone()[0]
    expected = per_year.rows[["sipri_deal_id", "year", "tiv"]]
    merged = got.merge(expected, on=["sipri_deal_id", "year"], suffixes=("", "_sipri"))
    assert len(merged) == len(got) >= 18_600
    assert (merged["tiv"] - merged["tiv_sipri"].astype(float)).abs().max() < 1e-9
    assert methods["exact"] == 9_047 and non_us == 0  # one deal: the two files disagree (even split kept)
    assert total == pytest.approx(2_092_211.45, abs=1.0)  # the deliveries still add up to the register
    assert deal_ids(exact_db) == deal_ids(real_db)


def test_even_split_against_exact_figures_as_documented(exact_db, real_db):
    """The figures in docs/methodology.md ("Exact deliveries per year"), US exports, cells >= 10 TIV."""
    from etl.by_year import allocation_errors

    query = ("SELECT recipient, year, sum(tiv) AS tiv FROM current_deliveries "
             "WHERE supplier = 'United States' AND tiv IS NOT NULL GROUP BY ALL")
    with duckdb.connect(str(real_db), read_only=True) as con:
        even = con.execute(query).df()
    with duckdb.connect(str(exact_db), read_only=True) as con:
        exact = con.execute(query).df()
    per_year = allocation_errors(even, exact, 1, 10)
    per_period = allocation_errors(even, exact, 5, 10)
    assert per_year.median() == pytest.approx(8.3, abs=0.1) and per_year.quantile(0.9) == pytest.approx(40.3, abs=0.1)
    assert per_period.median() == pytest.approx(0.9, abs=0.1) and per_period.quantile(0.9) == pytest.approx(12.6, abs=0.1)
