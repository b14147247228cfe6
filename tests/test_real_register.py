"""The full real register, loaded through the CLI: SIPRI's own figures must come out.

Tolerances are the agreement measured and documented in docs/methodology.md;
a change that worsens them fails here.
"""

from __future__ import annotations

import io

import duckdb
import pandas as pd
import pytest

from etl.normalise.entities import resolve_entities
from etl.reference import reference_table
from tests.conftest import run_cli, sipri_file


@pytest.fixture(scope="module")
def con(real_db):
    with duckdb.connect(str(real_db), read_only=True) as connection:
        yield connection


def one(con, sql, params=()):
    return con.execute(sql, list(params)).fetchone()[0]


def test_deal_count_and_sums_match_the_data_readme(con):
    assert one(con, "SELECT count(*) FROM current_deals") == 29_515
    assert one(con, "SELECT round(sum(tiv_delivered), 2) FROM current_deals") == 2_092_211.45
    assert one(con, "SELECT round(sum(tiv_total_order), 2) FROM current_deals") == 2_270_626.85
    assert one(con, "SELECT count(*) FROM current_quarantine") == 0
    assert one(con, "SELECT count(*) FROM current_repairs") == 4  # records broken over two lines


def test_every_deal_has_a_named_supplier_and_recipient(con):
    assert one(con, "SELECT count(*) FROM current_deals WHERE supplier = '' OR recipient = '' "
                    "OR supplier IS NULL OR recipient IS NULL") == 0


def test_every_state_to_state_deal_has_iso3_codes(con):
    states = one(con, "SELECT count(*) FROM current_deals WHERE supplier_kind = 'state' AND recipient_kind = 'state'")
    assert states > 25_000
    assert one(con, "SELECT count(*) FROM current_deals WHERE supplier_kind = 'state' AND recipient_kind = 'state' "
                    "AND (length(supplier_iso3) <> 3 OR length(recipient_iso3) <> 3)") == 0
    assert one(con, "SELECT count(*) FROM current_deals WHERE supplier_kind <> 'state' AND supplier_iso3 <> ''") == 0


def test_fewer_than_one_percent_of_deals_lack_a_category(con):
    missing = one(con, "SELECT count(*) FROM current_deals WHERE category = '' OR category IS NULL")
    assert missing < 295  # 1% of 29,515; measured: 0


def test_provenance_is_recorded(con):
    source, sha, generated, date = con.execute(
        "SELECT source, sha256, generated, generated_date FROM current_sources").fetchone()
    assert source == "trade-register-2025-03.csv" and len(sha) == 64
    assert generated.startswith("13 Mar 2025") and str(date) == "2025-03-13"


def test_deliveries_add_up_to_each_deals_delivered_tiv(con):
    off = one(con, """
        SELECT count(*) FROM current_deals d
        LEFT JOIN (SELECT deal_id, sum(tiv) AS tiv FROM current_deliveries GROUP BY deal_id) x USING (deal_id)
        WHERE abs(coalesce(d.tiv_delivered, 0) - coalesce(x.tiv, 0)) > 1e-6""")
    assert off == 0


def test_sanity_checks_find_nothing_unexpected(con):
    assert one(con, "SELECT count(*) FROM current_violations WHERE NOT excepted") == 0


def test_s400_recipients_and_reported_values(con):
    rows = con.execute("""
        SELECT recipient, order_year, number_ordered, reported_value_usd_m, reported_value_scope
        FROM current_deals WHERE designation = 'S-400 Triumf' ORDER BY recipient""").fetchall()
    assert [r[0] for r in rows] == ["Belarus", "China", "India", "Turkiye"]
    by = {r[0]: r for r in rows}
    assert by["China"][1:] == (2015, 8, 3000.0, "deal")
    assert by["India"][3:] == (5400.0, "deal")


def test_shares_2020_24_match_sipris_fact_sheet(real_db):
    """Shares of global deliveries from the `deliveries` export vs SIPRI's published figures.

    Measured (2025-03 register, even split): largest gap 0.85 percentage points
    (USA 42.15% vs 43%); SIPRI computes with exact per-year deliveries.
    """
    done = run_cli("export", "--table", "deliveries", "--from", "2020", "--to", "2024", "--db", real_db, "-o", "-")
    assert done.returncode == 0, done.stderr.decode()
    deliveries = pd.read_csv(io.BytesIO(done.stdout), keep_default_na=False, na_values=[""])
    total = deliveries["tiv"].sum()
    published = reference_table("published_shares.csv", ["role", "entity", "share_percent"])
    assert len(published) >= 7
    for row in published.itertuples():
        column = "supplier" if row.role == "exporter" else "recipient"
        ours = 100 * deliveries.loc[deliveries[column] == row.entity, "tiv"].sum() / total
        assert ours == pytest.approx(float(row.share_percent), abs=1.0), row.entity


def _published_tiv(name: str) -> pd.DataFrame:
    """SIPRI's TIV table (2023 release) as entity, year, tiv: the reference to compare with."""
    table = pd.read_csv(sipri_file(name), skiprows=10, dtype=str, keep_default_na=False, on_bad_lines="skip")
    table = table.rename(columns={table.columns[0]: "entity"})
    table = table[~table["entity"].isin(["", "Total"])]
    long = table.melt(id_vars="entity", var_name="year", value_name="tiv")
    long = long[long["year"].str.fullmatch(r"\d{4}") & (long["tiv"] != "")]
    long["entity"] = resolve_entities(long["entity"])["name"].to_numpy()
    return long.astype({"year": int, "tiv": float})


@pytest.mark.parametrize("name, role, median_pct, total_pct", [
    ("tiv-exports-by-supplier-1950-2022.csv", "supplier", 2.0, 0.2),
    ("tiv-imports-by-recipient-1950-2022.csv", "recipient", 1.5, 0.2),
])
def test_totals_per_entity_agree_with_sipris_tiv_tables(con, name, role, median_pct, total_pct):
    """1950-2022 totals per supplier/recipient vs SIPRI's 2023 TIV tables.

    Measured: median gap 1.51% (suppliers) and 0.93% (recipients) over entities
    with at least 1,000 TIV; world total within 0.1%. The register is the 2025
    release, so revisions since 2023 (e.g. Ukraine's 2022 imports) remain.
    """
    published = _published_tiv(name)
    ours = con.execute(f"SELECT {role} AS entity, sum(tiv) AS tiv FROM current_deliveries "
                       "WHERE year <= 2022 GROUP BY 1").df()
    both = published.groupby("entity")["tiv"].sum().to_frame("published").join(
        ours.set_index("entity")["tiv"].rename("ours"), how="outer").fillna(0)
    assert both["ours"].sum() == pytest.approx(both["published"].sum(), rel=total_pct / 100)
    big = both[both["published"] >= 1000]
    gap = (big["ours"] - big["published"]).abs() / big["published"] * 100
    assert gap.median() < median_pct


@pytest.mark.parametrize("filters", [{}, {"year_from": 2015, "year_to": 2024}, {"recipients": ("Turkiye",)},
                                     {"search": "S-400"}, {"categories": ("Aircraft",)}])
def test_deals_export_in_rank_windows_equals_one_sorted_query(con, monkeypatch, filters):
    """The export reads many deals a window of list ranks at a time (memory); the bytes must be
    those of one query sorted in the contract's order, whatever the window."""
    from etl.export import CsvExport, csv_bytes, export_query
    from etl.filters import Filters

    f = Filters(**filters)
    frame = con.execute(*export_query("deals", f)).df()
    whole, rows = csv_bytes(frame), len(frame)
    assert rows > 0
    for window in (1_000, 4_096, 100_000):
        monkeypatch.setattr(CsvExport, "WINDOW", window)
        export = CsvExport(con, "deals", f)
        assert b"".join(export) == whole, (filters, window)
        assert export.rows == rows, (filters, window)
