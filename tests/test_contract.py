"""The export contract (docs/interface.md) as pandera schemas, checked on the real exports.

These schemas are what scripts downstream rely on: column names, types, which
cells may be empty. A change that breaks them breaks newsroom scripts.
"""

from __future__ import annotations

import io

import pandas as pd
import pandera.pandas as pa
import pytest

from tests.conftest import run_cli

FLAG = pa.Column(str, pa.Check.isin(["true", "false"]))
YEAR = pa.Column("Int64", pa.Check.in_range(1900, 2100))
COUNT = pa.Column("Int64", pa.Check.ge(0), nullable=True)
TIV = pa.Column(float, pa.Check.ge(0), nullable=True)
ISO3 = pa.Column(str, pa.Check.str_matches(r"^([A-Z]{3})?$"))
NAME = pa.Column(str, pa.Check.str_length(min_value=1))
SOURCE = pa.Column(str, pa.Check.str_startswith("SIPRI Arms Transfers Database; "))

DEALS = pa.DataFrameSchema({
    "deal_id": pa.Column(str, pa.Check.str_matches(r"^[0-9a-f]{16}$"), unique=True),
    "supplier": NAME, "supplier_iso3": ISO3, "recipient": NAME, "recipient_iso3": ISO3,
    "order_year": YEAR, "order_year_estimated": FLAG,
    "number_ordered": COUNT, "number_ordered_estimated": FLAG,
    "designation": pa.Column(str), "description": pa.Column(str),
    "category": pa.Column(str, pa.Check.isin([
        "Aircraft", "Air defence systems", "Armoured vehicles", "Artillery", "Engines", "Missiles",
        "Naval weapons", "Satellites", "Sensors", "Ships", "Other", ""])),
    "number_delivered": COUNT, "number_delivered_estimated": FLAG,
    "delivery_years": pa.Column(str, pa.Check.str_matches(r"^(\d{4}(;\d{4})*)?$")),
    "status": pa.Column(str), "comments": pa.Column(str),
    "tiv_per_unit": TIV, "tiv_total_order": TIV, "tiv_delivered": TIV,
    "reported_value_usd_m": pa.Column(float, pa.Check.gt(0), nullable=True),
    "reported_value_scope": pa.Column(str, pa.Check.isin(["deal", "part of", ""])),
    "source": SOURCE,
}, strict=False, ordered=True)

DELIVERIES = pa.DataFrameSchema({
    "deal_id": pa.Column(str, pa.Check.str_matches(r"^[0-9a-f]{16}$")),
    "supplier": NAME, "supplier_iso3": ISO3, "recipient": NAME, "recipient_iso3": ISO3,
    "category": pa.Column(str), "year": YEAR, "tiv": TIV,
}, strict=False, ordered=True, unique=["deal_id", "year"])



def read_export(db, table):
    done = run_cli("export", "--table", table, "--db", db, "-o", "-")
    assert done.returncode == 0, done.stderr.decode()
    frame = pd.read_csv(io.BytesIO(done.stdout), dtype=str, keep_default_na=False)
    for column in frame.columns:
        if column in ("order_year", "number_ordered", "number_delivered", "year"):
            frame[column] = pd.to_numeric(frame[column].replace("", None)).astype("Int64")
        elif column.startswith("tiv") or column.startswith("reported_value_usd") or column == "reported_value_amount":
            frame[column] = pd.to_numeric(frame[column].replace("", None)).astype(float)
    return frame


@pytest.mark.parametrize("table, schema", [("deals", DEALS), ("deliveries", DELIVERIES)])
def test_real_exports_follow_the_contract(real_db, table, schema):
    frame = read_export(real_db, table)
    schema.validate(frame, lazy=True)
    assert len(frame) > 29_000


def test_export_is_utf8_with_crlf_and_rfc4180_quoting(real_db):
    raw = run_cli("export", "--db", real_db, "-o", "-", "--recipient", "Cote d'Ivoire").stdout
    text = raw.decode("utf-8")
    assert text.count("\r\n") == text.count("\n") and text.startswith("deal_id,supplier,")
    assert len(pd.read_csv(io.StringIO(text))) > 0
