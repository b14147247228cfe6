"""SIPRI's register with deliveries broken down by year (one row per deal and year).

It is the only SIPRI export with the exact TIV delivered in each year, SIPRI's
own deal id and SIPRI's armament category, so it is what replaces the even
split of the plain register. It lacks what the plain register has (numbers
ordered, comments, TIV of the total order), which is why it complements the
register rather than replacing it (see `etl.by_year`).

Two vintages: the 2025 export (comma, `SIPRI AT Database ID,Supplier,Recipient,...`)
and older ones (`;`, `Deal ID;Seller;Buyer;...`); column names live in
data/by_year_columns.csv. A deal is read whole or not at all: one unreadable
row quarantines every row of its deal, because a deal missing a year would put
a wrong total in print. A row that is an exact copy of another is dropped
(SIPRI's 2025 export repeats one); other rows sharing a deal and year are summed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd

from etl.deals import STATUSES, YEAR_MAX, YEAR_MIN, Reasons, _number, normalise
from etl.errors import UserError
from etl.normalise.sipri_categories import sipri_categories
from etl.normalise.text import text_key
from etl.reference import header_map
from etl.sources.sipri_register import _field_counts, generated_date
from etl.sources.text import TextFile, split_lines

REQUIRED = ("sipri_deal_id", "supplier", "recipient", "designation", "order_year", "year", "tiv")
FLAGS = ("order_year_estimated", "number_estimated", "year_estimated", "local_production")
TEXT = ("supplier", "recipient", "designation", "description", "category_sipri", "status")
IDENTITY = ("supplier", "recipient", "designation", "description", "category_sipri", "order_year")
_SCAN = 60


@dataclass
class ByYearRead:
    rows: pd.DataFrame  # one per SIPRI deal and delivery year: sipri_deal_id, year, number, tiv, ...
    deals: pd.DataFrame  # one per SIPRI deal, typed and normalised like register deals
    quarantine: pd.DataFrame  # line, reason, raw
    repairs: pd.DataFrame  # line, repair
    records: int
    generated: str | None
    generated_date: str | None
    delimiter: str
    columns: int
    notes: list[str] = field(default_factory=list)


def find_by_year_header(lines: list[str]) -> tuple[int, str, list[str | None]] | None:
    """(index, delimiter, column names) of the per-year header, or None."""
    import csv

    known = header_map("by_year_columns.csv")
    for index, line in enumerate(lines[:_SCAN]):
        for delimiter in (",", ";", "\t"):
            if delimiter not in line:
                continue
            cells = next(csv.reader([line], delimiter=delimiter))
            while cells and not cells[-1].strip():
                cells.pop()
            names = [known.get(text_key(c.strip().strip("\ufeff"))) for c in cells]
            if all(col in names for col in REQUIRED):
                return index, delimiter, names
    return None


def _split(source: TextFile) -> tuple[pd.DataFrame, pd.DataFrame, list[str | None], str, list[str]]:
    """(records as text, bad lines, names, delimiter, notes) after the header."""
    lines = split_lines(source.text)
    found = find_by_year_header(lines)
    if found is None:
        raise UserError(f"{source.path}: no header of SIPRI's per-delivery-year register "
                        f"(needs the columns {', '.join(REQUIRED)})")
    index, delimiter, names = found
    body = pd.Series(lines[index + 1:], dtype=object).str.replace("\r", " ", regex=False)
    frame = pd.DataFrame({"text": body, "line": range(index + 2, index + 2 + len(body))})
    frame["raw"] = frame["text"]
    frame = frame[~frame["text"].str.fullmatch(r"[\s,;\t]*")].reset_index(drop=True)
    notes: list[str] = []
    expected = len(names)
    counts = _field_counts(frame["text"], delimiter)
    padded = counts > expected
    if padded.any():  # spreadsheet padding: trailing empty fields only
        trimmed = frame.loc[padded, "text"].str.replace(rf"(?:\{delimiter}\s*)+$", "", regex=True)
        fits = _field_counts(trimmed, delimiter) <= expected
        fixed = fits[fits].index
        frame.loc[fixed, "text"] = trimmed[fits] + (expected - _field_counts(trimmed[fits], delimiter)).map(
            lambda n: delimiter * n)
        counts.loc[fixed] = expected
        if len(fixed):
            notes.append(f"trailing empty fields removed from {len(fixed)} lines")
    bad = counts != expected
    refused = frame[bad].assign(reason=counts[bad].astype(str) + f" fields where the header has {expected}")
    good = frame[~bad]
    columns = [n or f"_ignored_{i}" for i, n in enumerate(names)]
    records = pd.read_csv(io.StringIO("\n".join(good["text"])), sep=delimiter, header=None, names=columns,
                          dtype=str, keep_default_na=False, engine="c") if len(good) else pd.DataFrame(columns=columns)
    records = records.apply(lambda s: s.str.strip()).reset_index(drop=True)
    for col in set(REQUIRED) | set(FLAGS) | set(TEXT) | {"number", "tiv_per_unit", "tiv_unit_new"}:
        if col not in records:
            records[col] = ""
    records["line"] = good["line"].to_numpy()
    records["raw"] = good["raw"].to_numpy()
    return records, refused[["line", "reason", "raw"]], names, delimiter, notes


def _type(records: pd.DataFrame) -> tuple[pd.DataFrame, Reasons]:
    reasons = Reasons(records.index)
    out = records[["line", "raw", *TEXT]].copy()
    for col, label, integer in (("sipri_deal_id", "SIPRI deal id", True), ("order_year", "order date", True),
                                ("year", "delivery year", True), ("number", "numbers delivered", True),
                                ("tiv", "TIV delivery values", False), ("tiv_per_unit", "TIV deal unit", False),
                                ("tiv_unit_new", "SIPRI estimate", False)):
        out[col], _ = _number(records[col], label, reasons, integer)
    for col in ("sipri_deal_id", "order_year", "year"):
        reasons.add(out[col].isna().to_numpy() & (records[col] == "").to_numpy(), f"{col.replace('_', ' ')} is missing")
    for col in ("order_year", "year"):
        reasons.add(((out[col] < YEAR_MIN) | (out[col] > YEAR_MAX)).fillna(False).astype(bool),
                    f"{col.replace('_', ' ')} is outside {YEAR_MIN}-{YEAR_MAX}")
    for col in FLAGS:
        flag = records[col].str.casefold()
        reasons.add(~flag.isin(["yes", "no", ""]), f"{col.replace('_', ' ')} is '" + records[col] + "', not Yes/No")
        out[col] = flag == "yes"
    for col, label in (("supplier", "supplier"), ("recipient", "recipient")):
        reasons.add(records[col] == "", f"{label} is empty")
    reasons.add(~records["status"].isin(STATUSES), "status is not one of SIPRI's")
    return out, reasons


def _whole_deals(typed: pd.DataFrame, reasons: Reasons) -> pd.Series:
    """Reason per row why its deal cannot be read ("" where it can); one bad row spoils its deal."""
    why = reasons.text.copy()
    ids = typed["sipri_deal_id"]
    spread = typed.groupby(ids, dropna=False)[list(IDENTITY)].transform("nunique")
    disagree = (spread > 1).any(axis=1) & ids.notna()
    why[disagree & (why == "")] = "rows of SIPRI deal " + ids.astype(str) + " disagree on who, what or when"
    spoiled = ids.isin(ids[why != ""]) & ids.notna() & (why == "")
    why[spoiled] = "another row of SIPRI deal " + ids.astype(str) + " could not be read"
    return why


def read_by_year(source: TextFile) -> ByYearRead:
    records, refused, names, delimiter, notes = _split(source)
    typed, reasons = _type(records)
    why = _whole_deals(typed, reasons)
    bad = why != ""
    quarantine = pd.concat([refused, pd.DataFrame({"line": typed["line"][bad], "reason": why[bad],
                                                   "raw": typed["raw"][bad]})], ignore_index=True)
    good, dropped = _drop_repeats(typed[~bad].sort_values(["sipri_deal_id", "year", "line"]))
    rows, repairs = _per_year(good)
    written, iso = generated_date(source.text)
    repairs = pd.concat([dropped, repairs], ignore_index=True).sort_values("line", ignore_index=True)
    return ByYearRead(rows=rows, deals=_deals(good, rows), quarantine=quarantine.sort_values("line", ignore_index=True),
                      repairs=repairs, records=len(records) + len(refused), generated=written,
                      generated_date=iso, delimiter=delimiter, columns=len(names), notes=notes)


def _drop_repeats(good: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows identical to an earlier one in every field are dropped.

    The per-year export has one row per deal and year by construction, so an
    exact copy is a duplicated line, not a second delivery: SIPRI's 2025 file
    repeats deal 38486's 2004 row, and only dropping it gives the register's
    102 LAV-25 turrets (summing would give 153).
    """
    values = [c for c in good.columns if c not in ("line", "raw")]
    repeat = good.duplicated(subset=values, keep="first")
    first_line = good.groupby(values, dropna=False, sort=False)["line"].transform("min")
    repairs = pd.DataFrame({"line": good.loc[repeat, "line"],
                            "repair": "exact copy of line " + first_line[repeat].astype(str) + " dropped"})
    return good[~repeat], repairs


def _per_year(good: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    grouped = good.groupby(["sipri_deal_id", "year"], sort=True)
    rows = grouped.agg(year_estimated=("year_estimated", "any"), line=("line", "min"), rows=("line", "size"))
    rows["number"] = grouped["number"].sum(min_count=1)
    rows["tiv"] = grouped["tiv"].sum(min_count=1).astype("Float64").round(6)
    rows = rows.reset_index()
    repeated = rows[rows["rows"] > 1]
    repairs = pd.DataFrame({"line": repeated["line"], "repair": (
        repeated["rows"].astype(str) + " rows for SIPRI deal " + repeated["sipri_deal_id"].astype(str)
        + " and delivery year " + repeated["year"].astype(str) + " summed")})
    return rows.drop(columns="rows"), repairs.reset_index(drop=True)


def _deals(good: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """One deal per SIPRI deal id, in the columns of register deals."""
    g = good.groupby("sipri_deal_id", sort=True)
    deals = g.agg(
        line=("line", "min"), raw=("raw", "first"), supplier=("supplier", "first"),
        recipient=("recipient", "first"), designation=("designation", "first"),
        description=("description", "first"), category_sipri=("category_sipri", "first"),
        status=("status", "first"), order_year=("order_year", "first"),
        order_year_estimated=("order_year_estimated", "any"),
        number_delivered_estimated=("number_estimated", "any"), tiv_per_unit=("tiv_per_unit", "first"),
    )
    per_year = rows.groupby("sipri_deal_id", sort=True)
    deals["number_delivered"] = per_year["number"].sum(min_count=1)
    deals["tiv_delivered"] = per_year["tiv"].sum(min_count=1).astype("Float64").round(6)
    deals["delivery_year_list"] = per_year["year"].agg(list)  # rows are sorted and unique per year
    deals["delivery_years"] = rows["year"].astype(str).groupby(rows["sipri_deal_id"]).agg(";".join)
    deals = deals.reset_index()
    deals["first_delivery_year"] = deals["delivery_year_list"].str[0].astype("Int64")
    deals["last_delivery_year"] = deals["delivery_year_list"].str[-1].astype("Int64")
    deals["number_ordered"] = pd.Series(pd.NA, index=deals.index, dtype="Int64")
    deals["tiv_total_order"] = pd.Series(pd.NA, index=deals.index, dtype="Float64")
    deals["number_ordered_estimated"] = False
    deals["comments"] = ""
    deals = normalise(deals)
    sipri = sipri_categories(deals["category_sipri"])
    deals["category"] = sipri.where(sipri != "", deals["category"])
    deals["category_source"] = deals["category_source"].where(sipri == "", "sipri")
    return deals
