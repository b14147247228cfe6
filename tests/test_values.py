"""Deal values read from SIPRI comments: inline fixtures, then the full register."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from etl.normalise.values import CURRENCY_CODES, parse_reported_values

NaN = math.nan

# comment -> (usd, usd_max, scope, amount, currency, text)
CASES = {
    # the three examples of the spec
    "$3 b deal": (3000, 3000, "deal", 3000, "USD", "$3 b deal"),
    "INR390 b ($5.4 b) deal": (5400, 5400, "deal", 390000, "INR", "INR390 b ($5.4 b) deal"),
    "Part of $2.7 b programme": (2700, 2700, "part of", 2700, "USD", "Part of $2.7 b programme"),
    # dollars, with deal wording
    "$41 m deal; XYZ-2 version": (41, 41, "deal", 41, "USD", "$41 m deal"),
    "Second-hand; $0.33 m deal": (0.33, 0.33, "deal", 0.33, "USD", "$0.33 m deal"),
    "$58 m aid; for police": (58, 58, "deal", 58, "USD", "$58 m aid"),
    "$12.5 m 'MAP' aid": (12.5, 12.5, "deal", 12.5, "USD", "$12.5 m 'MAP' aid"),
    "$88 m 'Building Partner Capacity' aid": (
        88, 88, "deal", 88, "USD", "$88 m 'Building Partner Capacity' aid"),
    "$2 b 'LUH' programme; delivery planned": (
        2000, 2000, "deal", 2000, "USD", "$2 b 'LUH' programme"),
    "$310 m 'LAS' deal": (310, 310, "deal", 310, "USD", "$310 m 'LAS' deal"),
    "$45 m contract": (45, 45, "deal", 45, "USD", "$45 m contract"),
    "Deal worth $19.4 m": (19.4, 19.4, "deal", 19.4, "USD", "Deal worth $19.4 m"),
    "Possibly $55 m deal": (55, 55, "deal", 55, "USD", "Possibly $55 m deal"),
    "$35 m 4-year lease; for training": (35, 35, "deal", 35, "USD", "$35 m 4-year lease"),
    "Ordered for $70 m dealmodernization of 12 APC": (70, 70, "deal", 70, "USD", "$70 m deal"),
    "Second-hand; $25000 deal": (0.025, 0.025, "deal", 0.025, "USD", "$25000 deal"),
    "EUR 0.7 m deal": (NaN, NaN, "deal", 0.7, "EUR", "EUR 0.7 m deal"),
    "KRW1.5tr deal": (NaN, NaN, "deal", 1.5e6, "KRW", "KRW1.5tr deal"),
    "$40 k deal": (0.04, 0.04, "deal", 0.04, "USD", "$40 k deal"),
    "USD6.1 m. deal; VIP version": (6.1, 6.1, "deal", 6.1, "USD", "USD6.1 m. deal"),
    "US$ 12 m deal": (12, 12, "deal", 12, "USD", "US$ 12 m deal"),
    # part of
    "Part of deal worth $410 m": (410, 410, "part of", 410, "USD", "Part of deal worth $410 m"),
    "Second-hand; part of $1 b 'Peace Range' programme": (
        1000, 1000, "part of", 1000, "USD", "part of $1 b 'Peace Range' programme"),
    "Part $64 m deal; for F-16": (64, 64, "part of", 64, "USD", "Part $64 m deal"),
    "Part of NZP2 m; Sioux version": (NaN, NaN, "part of", 2, "NZP", "Part of NZP2 m"),
    "$150 m deal (part of $2 b emergency deal)": (150, 150, "deal", 150, "USD", "$150 m deal"),
    # ranges and alternatives
    "$15-18 m deal": (15, 18, "deal", 15, "USD", "$15-18 m deal"),
    "$1.5-2 b deal (financed by US 'FMF' aid; offsets $1 b)": (
        1500, 2000, "deal", 1500, "USD", "$1.5-2 b deal"),
    "$50 m or $65 m deal": (50, 65, "deal", 50, "USD", "$50 m or $65 m deal"),
    "GBP600 m-GBP1.2 b ($1-2 b) 'Hawkeye' programme": (
        1000, 2000, "deal", 600, "GBP", "GBP600 m-GBP1.2 b ($1-2 b) 'Hawkeye' programme"),
    # other currencies, with and without a dollar figure
    "GBP3.1 m deal": (NaN, NaN, "deal", 3.1, "GBP", "GBP3.1 m deal"),
    "EUR7.5 m. deal": (NaN, NaN, "deal", 7.5, "EUR", "EUR7.5 m. deal"),
    "SEK3 b deal ($410 m; offsets 100% incl assembly)": (
        410, 410, "deal", 3000, "SEK", "SEK3 b deal ($410 m"),
    "NZD90 m deal ($60 m)": (60, 60, "deal", 90, "NZD", "NZD90 m deal ($60 m)"),
    "Part of GBP30 m/EUR40 m ($50 m) deal": (
        50, 50, "part of", 30, "GBP", "Part of GBP30 m/EUR40 m ($50 m) deal"),
    "KRW2 tr ($1.6 b) deal": (1600, 1600, "deal", 2e6, "KRW", "KRW2 tr ($1.6 b) deal"),
    "Part of THB5b ($150 m) deal": (
        150, 150, "part of", 5000, "THB", "Part of THB5b ($150 m) deal"),
    "CNY20 m ($3 m) aid": (3, 3, "deal", 20, "CNY", "CNY20 m ($3 m) aid"),
    "CHF90 m (USD95 m) deal": (95, 95, "deal", 90, "CHF", "CHF90 m (USD95 m) deal"),
    "DM300 m deal": (NaN, NaN, "deal", 300, "DEM", "DM300 m deal"),
    "HFL20 m ($11 m deal); Dutch-built": (11, 11, "deal", 20, "NLG", "HFL20 m ($11 m deal)"),
    "Deal worth Rs 3 crores": (NaN, NaN, "deal", 30, "INR", "Deal worth Rs 3 crores"),
    "AUD120 m 'Project Sea-9999'; for frigates": (
        NaN, NaN, "deal", 120, "AUD", "AUD120 m 'Project Sea-9999'"),
    # an amount that is a whole clause
    "$210 m; incl 2 trainer version": (210, 210, "deal", 210, "USD", "$210 m"),
    "Second-hand; EUR0.4 m; Mk-9 version": (NaN, NaN, "deal", 0.4, "EUR", "EUR0.4 m"),
    # not this deal's value
    "Aid; offsets $300 m": (NaN, NaN, "", NaN, "", ""),
    "Rebuilt before delivery (paid with $800 m US 'SAP' aid)": (NaN, NaN, "", NaN, "", ""),
    "Financed with part of Russian $2 b credit": (NaN, NaN, "", NaN, "", ""),
    "Modernized for $9 m before delivery": (NaN, NaN, "", NaN, "", ""),
    "Original SEK9 b deal for 8 reduced to SEK6 b deal for 5": (
        NaN, NaN, "deal", 6000, "SEK", "SEK6 b deal"),
    "$30 m deal (incl $20 m 'FMF' aid; offsets $5 m)": (30, 30, "deal", 30, "USD", "$30 m deal"),
    "Deal worth $12 (symbolic price)": (NaN, NaN, "", NaN, "", ""),
    "Part of $700 b deal": (NaN, NaN, "", NaN, "", ""),
    # no money
    "Second-hand; Mk-2 version; for 35mm guns": (NaN, NaN, "", NaN, "", ""),
    "MTU 3000hp diesel engine": (NaN, NaN, "", NaN, "", ""),
    "": (NaN, NaN, "", NaN, "", ""),
}
COLUMNS = ["reported_value_usd_m", "reported_value_usd_m_max", "reported_value_scope",
           "reported_value_amount", "reported_value_currency", "reported_value_text"]


@pytest.mark.parametrize("comment", list(CASES))
def test_reads_value(comment: str) -> None:
    got = parse_reported_values(pd.Series([comment])).iloc[0]
    expected = dict(zip(COLUMNS, CASES[comment]))
    for column in ("reported_value_scope", "reported_value_currency", "reported_value_text"):
        assert got[column] == expected[column], column
    for column in ("reported_value_usd_m", "reported_value_usd_m_max", "reported_value_amount"):
        assert got[column] == pytest.approx(expected[column], nan_ok=True), column


def test_keeps_index_and_columns_for_missing_input() -> None:
    comments = pd.Series([None, np.nan, "$5 m deal", ""], index=["a", "b", "c", "a"])
    got = parse_reported_values(comments)
    assert list(got.columns) == COLUMNS
    assert list(got.index) == ["a", "b", "c", "a"]
    assert got["reported_value_usd_m"].tolist()[2] == 5
    assert got["reported_value_text"].tolist() == ["", "", "$5 m deal", ""]
    assert got["reported_value_usd_m"].dtype == float


def test_empty_and_moneyless_series() -> None:
    assert parse_reported_values(pd.Series([], dtype=object)).empty
    got = parse_reported_values(pd.Series(["no money", "incl 4 trainers"]))
    assert got["reported_value_usd_m"].isna().all()
    assert (got["reported_value_scope"] == "").all()


def test_currency_codes_are_iso_or_kept_as_written() -> None:
    assert CURRENCY_CODES["$"] == "USD" and CURRENCY_CODES["DM"] == "DEM"
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_CODES.values())


# --- the real register --------------------------------------------------------


@pytest.fixture(scope="module")
def register(register_deals) -> pd.DataFrame:
    comments = register_deals["comments"]
    return pd.concat([comments, parse_reported_values(comments)], axis=1)


def test_register_coverage(register: pd.DataFrame) -> None:
    found = register["reported_value_text"].ne("")
    assert found.sum() >= 4050  # 4,109 measured on 2025-03 (of 4,144 mentioning money)
    assert register["reported_value_usd_m"].notna().sum() >= 3380  # 3,430 measured


def test_register_values_are_sane(register: pd.DataFrame) -> None:
    found = register[register["reported_value_text"].ne("")]
    usd = found["reported_value_usd_m"].dropna()
    usd_max = found["reported_value_usd_m_max"].dropna()
    assert (usd > 0).all() and (found["reported_value_amount"].dropna() > 0).all()
    assert (usd_max >= usd).all()
    assert usd_max.max() <= 100_000
    assert found["reported_value_scope"].isin(["deal", "part of"]).all()
    assert found["reported_value_currency"].isin(set(CURRENCY_CODES.values())).all()


def test_register_part_of_follows_part_of_wording(register: pd.DataFrame) -> None:
    part = register.loc[register["reported_value_scope"].eq("part of"), "reported_value_text"]
    assert len(part) > 900
    assert part.str.match(r"(?i)part\b").all()


def test_register_text_is_taken_from_comment(register: pd.DataFrame) -> None:
    found = register[register["reported_value_text"].ne("")]
    comments = found["comments"].to_numpy(str)
    where = np.char.find(comments, found["reported_value_text"].to_numpy(str))
    assert (where >= 0).all()
