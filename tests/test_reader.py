"""The register reader on every variant users really have (inline fixtures)."""

from __future__ import annotations

import pandas as pd
import pytest

from etl.deals import build_deals
from etl.errors import UserError
from etl.load import deal_ids
from etl.sources.detect import REGISTER, REGISTER_BY_YEAR, TIV_TABLE, detect_kind
from etl.sources.sipri_register import read_register
from etl.sources.text import read_text
from tests.conftest import HEADER_16, PREAMBLE, ROWS, register_text, write_register

VALUE_COLUMNS = ["supplier", "recipient", "order_year", "number_ordered", "designation", "description",
                 "number_delivered", "delivery_years", "status", "comments", "tiv_per_unit",
                 "tiv_total_order", "tiv_delivered"]


def read(path):
    source = read_text(path)
    register = read_register(source)
    deals, quarantined = build_deals(register.records)
    deals["deal_id"] = deal_ids(deals)
    return register, deals, quarantined


@pytest.fixture
def baseline(tmp_path):
    _, deals, quarantined = read(write_register(tmp_path / "base.csv"))
    assert quarantined.empty
    return deals


VARIANTS = {
    "no preamble": dict(preamble=False),
    "utf-8 with BOM": dict(encoding="utf-8", bom=True),
    "utf-8": dict(encoding="utf-8"),
    "windows-1252": dict(encoding="cp1252"),
    "CRLF": dict(newline="\r\n"),
    "13 columns": dict(columns=13),
    "spreadsheet ;;;; padding": dict(pad=";;;;"),
    "years without spaces": dict(year_sep=";"),
    "semicolon-delimited": dict(delimiter=";"),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_every_variant_yields_the_same_deals(tmp_path, baseline, variant):
    register, deals, quarantined = read(write_register(tmp_path / "v.csv", **VARIANTS[variant]))
    assert quarantined.empty
    assert len(deals) == len(ROWS)
    pd.testing.assert_frame_equal(deals[VALUE_COLUMNS + ["deal_id"]], baseline[VALUE_COLUMNS + ["deal_id"]])
    assert deals.loc[1, "recipient"] == "Cote d'Ivoire"  # SIPRI's spelling, whatever the encoding
    assert deals.loc[1, "recipient_raw"] == "Côte d'Ivoire"


def test_preamble_gives_sipri_generation_date(tmp_path):
    register, _, _ = read(write_register(tmp_path / "r.csv"))
    assert register.generated == "02 Feb 2024 09:15:00 AM"
    assert register.generated_date == "2024-02-02"
    register, _, _ = read(write_register(tmp_path / "n.csv", preamble=False))
    assert register.generated is None


def test_uncertainty_flags_become_booleans(baseline):
    row = baseline.loc[1]
    assert row["order_year_estimated"] and row["number_ordered_estimated"] and row["number_delivered_estimated"]
    assert not baseline.loc[0, ["order_year_estimated", "number_ordered_estimated"]].any()


def test_13_column_variant_reads_marks_inside_values(tmp_path):
    rows = [list(ROWS[0])]
    rows[0][2], rows[0][4] = "2005?", "(2)"
    _, deals, quarantined = read(write_register(tmp_path / "r.csv", rows=rows, columns=13))
    assert quarantined.empty
    assert deals.loc[0, "order_year"] == 2005 and deals.loc[0, "order_year_estimated"]
    assert deals.loc[0, "number_ordered"] == 2 and deals.loc[0, "number_ordered_estimated"]


def test_tiv_zero_is_kept_apart_from_empty(baseline):
    helicopter = baseline[baseline["designation"] == "T-129B ATAK"].iloc[0]
    missile = baseline[baseline["designation"] == "48N6"].iloc[0]
    assert helicopter["tiv_delivered"] == 0  # "under 0.5 million"
    assert pd.isna(missile["tiv_delivered"])  # no deliveries identified
    assert missile["delivery_years"] == "" and pd.isna(missile["number_delivered"])


def test_delivery_years_are_a_list(baseline):
    assert baseline.loc[1, "delivery_year_list"] == [2020, 2021, 2022]
    assert baseline.loc[1, "delivery_years"] == "2020;2021;2022"


def test_record_broken_over_lines_is_rejoined(tmp_path):
    text = register_text()
    line = ",".join(ROWS[0])
    broken = line.replace("; modernized before delivery,", "; modernized\nbefore delivery,")
    register, deals, quarantined = read(write_register(tmp_path / "r.csv", text.replace(line, broken)))
    assert quarantined.empty and len(deals) == len(ROWS)
    assert deals.loc[0, "comments"] == "$95 m deal; modernized before delivery"
    assert register.repairs["repair"].str.contains("rejoined").sum() == 1
    assert register.repairs.loc[0, "line"] == len(PREAMBLE) + 2


def test_break_before_the_numbers_is_rejoined_like_sipris_own(tmp_path):
    """SIPRI's 2025 file itself has comments ending in a line break before the TIV fields."""
    line = ",".join(ROWS[0])
    broken = line.replace("before delivery,150", "before delivery\r\n,150")
    _, deals, quarantined = read(write_register(tmp_path / "r.csv", register_text().replace(line, broken)))
    assert quarantined.empty and deals.loc[0, "tiv_per_unit"] == 150


def test_quoted_fields_with_delimiters_and_newlines(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][12] = '"Deal worth $95 m, incl training\nand spares"'
    _, deals, quarantined = read(write_register(tmp_path / "r.csv", rows=rows))
    assert quarantined.empty
    assert deals.loc[0, "comments"] == "Deal worth $95 m, incl training and spares"
    assert deals.loc[0, "reported_value_usd_m"] == 95


def test_cut_off_file_quarantines_only_the_cut_record(tmp_path):
    text = register_text()
    cut = text[: text.rindex("New,Part of") + 6]
    register, deals, quarantined = read(write_register(tmp_path / "r.csv", cut))
    assert len(deals) == len(ROWS) - 1
    assert len(register.quarantine) == 1
    assert "fields where the header has 16" in register.quarantine.loc[0, "reason"]
    assert register.quarantine.loc[0, "line"] == len(PREAMBLE) + 1 + len(ROWS)


def test_unreadable_values_are_quarantined_with_every_reason(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][2] = "20O5"  # letter O
    rows[0][14] = "lots"
    rows[1][0] = ""
    _, deals, quarantined = read(write_register(tmp_path / "r.csv", rows=rows))
    assert len(deals) == len(ROWS) - 2
    reasons = dict(zip(quarantined["line"], quarantined["reason"]))
    first = reasons[len(PREAMBLE) + 2]
    assert "order year '20O5' is not a number" in first and "TIV for total order 'lots'" in first
    assert "recipient is empty" in reasons[len(PREAMBLE) + 3]
    assert quarantined["raw"].str.contains("20O5").any()


def test_blank_and_delimiter_only_lines_are_not_records(tmp_path):
    text = register_text().replace("\nChile", "\n,,,,,,\n\nChile")
    register, deals, quarantined = read(write_register(tmp_path / "r.csv", text))
    assert len(deals) == len(ROWS) and quarantined.empty and register.quarantine.empty


@pytest.mark.parametrize("content, message", [
    (b"", "file is empty"),
    (b"\n  \n", "file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "binary file"),
    (b"name,age\nalice,3\nbob,4\n", "not a SIPRI trade register or TIV table"),
])
def test_bad_files_get_one_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as caught:
        detect_kind(read_text(path))
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_missing_path_and_directory(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_text(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="is a directory"):
        read_text(tmp_path)


def test_kinds_are_recognised_by_content_not_name(tmp_path):
    register = write_register(tmp_path / "tiv-table.csv")
    assert detect_kind(read_text(register)) == REGISTER
    tiv = tmp_path / "register.csv"
    tiv.write_text("TIV of arms exports from all\n\n,2020,2021,2022,Total\nAircraft,1,2,3,6\nTotal,1,2,3,6\n")
    assert detect_kind(read_text(tiv)) == TIV_TABLE
    by_year = tmp_path / "x.csv"
    by_year.write_text("SIPRI AT Database ID,Supplier,Recipient,Designation,Description,Armament category,"
                       "Order date,Order date is estimate,Numbers delivered,Numbers delivered is estimate,"
                       "Delivery year,Delivery year is estimate,Status,SIPRI estimate,TIV deal unit,"
                       "TIV delivery values,Local production\n")
    assert detect_kind(read_text(by_year)) == REGISTER_BY_YEAR


def test_header_only_register_has_no_records(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER_16 + "\n")
    register = read_register(read_text(path))
    assert register.records.empty and register.quarantine.empty


def test_older_vintage_names_and_abbreviations_normalise(tmp_path, baseline):
    """Turkey/Turkiye, Czech Republic/Czechia, spelled-out descriptions: one entity, one category."""
    rows = [list(r) for r in ROWS]
    rows[2][0] = "Turkey"
    rows[4][1] = "Czech Republic"
    rows[3][7] = "surface-to-air missile"
    _, deals, quarantined = read(write_register(tmp_path / "old.csv", rows=rows))
    assert quarantined.empty
    assert deals.loc[2, "recipient"] == "Turkiye" and deals.loc[2, "recipient_iso3"] == "TUR"
    assert deals.loc[2, "recipient_raw"] == "Turkey"
    assert deals.loc[4, "supplier"] == "Czechia" and deals.loc[4, "supplier_iso3"] == "CZE"
    assert deals.loc[3, "category"] == baseline.loc[3, "category"] == "Missiles"


def test_markers_historical_and_unknown_entities_keep_their_kind(tmp_path):
    rows = [list(ROWS[0]) for _ in range(4)]
    rows[0][0], rows[1][0], rows[2][1], rows[3][0] = "Hezbollah (Lebanon)*", "United Nations**", "Soviet Union", "unknown recipient(s)"
    _, deals, _ = read(write_register(tmp_path / "r.csv", rows=rows))
    assert deals["recipient_kind"].tolist()[:2] == ["non_state", "organisation"]
    assert deals.loc[2, "supplier_kind"] == "historical_state" and deals.loc[2, "supplier_iso3"] == ""
    assert deals.loc[3, "recipient_kind"] == "unknown" and deals.loc[3, "recipient_iso3"] == ""
