"""From text records to typed, normalised deals.

Each field is parsed by a vectorised rule; a value that cannot be read makes
the whole record go to the quarantine with every reason found (not just the
first), because a half-read deal would put wrong numbers in print. The typed
frame then passes the record rules (`RULES`), whose failures are quarantined
the same way.

The rules are a table of vectorised masks rather than a pandera schema: pandera
(with the pydantic it pulls in) costs about 0.9 s per `armsdash load`, a
quarter of the whole load. pandera checks the exported tables against the
interface contract in the tests instead (tests/test_contract.py).
"""

from __future__ import annotations

import re

import pandas as pd

from etl.normalise.text import per_distinct
from etl.normalise.entities import resolve_entities
from etl.normalise.values import parse_reported_values
from etl.normalise.weapons import categorise
from etl.sources.sipri_register import FLAGGED

YEAR_MIN, YEAR_MAX = 1900, 2100
STATUSES = ("New", "Second hand", "Second hand but modernized", "")

# value, optional uncertainty marks: "1987", "1987?", "(1987)"
_INT = r"^\(?\s*(\d{1,3}(?:,\d{3})+|\d+)\s*\)?\s*(\?)?$"
_NUM = r"^\(?\s*(\d+(?:[.,]\d+)?)\s*\)?\s*(\?)?$"
_YEARS = r"^(?:\d{4}\??(?:\s*-\s*\d{4})?)(?:\s*[;,]\s*\d{4}\??(?:\s*-\s*\d{4})?)*\s*;?$"


class Reasons:
    """Every reason a record cannot be read, collected column by column."""

    def __init__(self, index: pd.Index):
        self.text = pd.Series("", index=index, dtype=object)

    def add(self, mask: pd.Series, message: pd.Series | str) -> None:
        if not mask.any():
            return
        new = pd.Series("", index=self.text.index, dtype=object)
        new[mask] = message if isinstance(message, str) else message[mask]
        both = (self.text != "") & mask
        self.text = self.text.where(~mask, new).where(~both, self.text + "; " + new)

    @property
    def bad(self) -> pd.Series:
        return self.text != ""


def _number(raw: pd.Series, label: str, reasons: Reasons, integer: bool):
    """(values, uncertainty mark) for one numeric column; empty means unknown."""
    values = pd.to_numeric(raw.where(raw != ""), errors="coerce")
    odd = (raw != "") & values.isna()
    marked = pd.Series(False, index=raw.index)
    if odd.any():  # marks and separators: only the few values that need them
        parts = raw[odd].str.extract(_INT if integer else _NUM)
        digits = parts[0].str.replace(",", "" if integer else ".", regex=False)
        values[odd] = pd.to_numeric(digits, errors="coerce")
        marked[odd] = (parts[1].fillna("") == "?") | raw[odd].str.startswith("(")
    if integer:
        reasons.add(values.notna() & (values % 1 != 0), label + " '" + raw + "' is not a whole number")
    reasons.add((raw != "") & values.isna(), label + " '" + raw + "' is not a number")
    return values.round().astype("Int64") if integer else values.astype("Float64"), marked


def _delivery_years(raw: pd.Series, reasons: Reasons) -> pd.Series:
    """Years as sorted lists; '2018-2020' spans expand; per-year '?' marks are not kept."""
    ok = per_distinct(raw, lambda u: u.str.fullmatch(_YEARS) | (u == "")).astype(bool)
    reasons.add(~ok, "delivery years '" + raw + "' are not a list of years")
    return per_distinct(raw.where(ok, ""), lambda u: u.map(_years))


def _years(text: str) -> list[int]:
    spans = re.findall(r"(\d{4})\??(?:\s*-\s*(\d{4}))?", text)
    return sorted({y for a, b in spans for y in range(int(a), int(b or a) + 1)})


_NUMBERS = (
    ("order_year", "order year", True),
    ("number_ordered", "number ordered", True),
    ("number_delivered", "number delivered", True),
    ("tiv_per_unit", "TIV per unit", False),
    ("tiv_total_order", "TIV for total order", False),
    ("tiv_delivered", "TIV of delivered weapons", False),
)


def type_records(records: pd.DataFrame) -> tuple[pd.DataFrame, Reasons]:
    """Typed columns, and the reasons (if any) each record cannot be read."""
    reasons = Reasons(records.index)
    out = pd.DataFrame({"line": records["line"], "raw": records["raw"]})
    for col in ("supplier", "recipient", "designation", "description", "status", "comments"):
        text = records[col]
        spaced = text.str.contains(r"\s\s|[\t\r\n]", regex=True)  # rare: collapse only there
        out[col] = text.where(~spaced, text.str.replace(r"\s+", " ", regex=True)) if spaced.any() else text
    for col, label, integer in _NUMBERS:
        out[col], marked = _number(records[col], label, reasons, integer)
        if col in FLAGGED:
            flag = records[f"{col}_flag"]
            reasons.add(~flag.isin(["", "?"]), f"uncertainty flag for {label} is '" + flag + "', not '?'")
            out[f"{col}_estimated"] = marked | (flag == "?")
    out["delivery_year_list"] = _delivery_years(records["delivery_years"], reasons)
    out["delivery_years"] = per_distinct(records["delivery_years"], lambda u: u.map(lambda t: ";".join(map(str, _years(t)))))
    out.loc[reasons.bad, "delivery_years"] = ""
    out["first_delivery_year"] = out["delivery_year_list"].str[0].astype("Int64")
    out["last_delivery_year"] = out["delivery_year_list"].str[-1].astype("Int64")
    return out, reasons


# Record rules: (mask of bad records, reason). Values that could not be read at
# all were reported by the parsers above; these judge what was read.
RULES = (
    (lambda d, r: d["supplier"] == "", "supplier is empty"),
    (lambda d, r: d["recipient"] == "", "recipient is empty"),
    (lambda d, r: r["order_year"] == "", "order year is missing"),
    (lambda d, r: (d["order_year"] < YEAR_MIN) | (d["order_year"] > YEAR_MAX),
     f"order year is outside {YEAR_MIN}-{YEAR_MAX}"),
    (lambda d, r: ~d["status"].isin(STATUSES), "status is not one of SIPRI's"),
)


def rule_reasons(typed: pd.DataFrame, records: pd.DataFrame, reasons: Reasons) -> None:
    """Add every rule a record breaks (all rules run: every violation is reported)."""
    for rule, reason in RULES:
        reasons.add(rule(typed, records).fillna(False).astype(bool), reason)


def normalise(typed: pd.DataFrame) -> pd.DataFrame:
    """Entities, categories and reported values added beside SIPRI's text."""
    out = typed
    for role in ("supplier", "recipient"):
        resolved = resolve_entities(out[role])
        out[f"{role}_raw"] = out[role]
        out[role] = resolved["name"]
        out[f"{role}_iso3"] = resolved["iso3"]
        out[f"{role}_kind"] = resolved["kind"]
        out[f"{role}_region"] = resolved["region"]
        out[f"{role}_resolved"] = resolved["resolved"]
    cats = categorise(out["description"], out["designation"])
    out["category"] = cats["category"]
    out["category_source"] = cats["category_source"]
    values = parse_reported_values(out["comments"])
    for col in values.columns:
        out[col] = values[col]
    return out


def build_deals(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(deals, quarantined) from one file's text records."""
    typed, reasons = type_records(records)
    rule_reasons(typed, records, reasons)
    bad = reasons.bad
    quarantined = pd.DataFrame({"line": typed.loc[bad, "line"], "reason": reasons.text[bad], "raw": typed.loc[bad, "raw"]})
    deals = normalise(typed[~bad].copy())
    return deals, quarantined.reset_index(drop=True)
