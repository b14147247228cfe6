"""SIPRI's TIV tables: volumes per supplier, recipient or weapon category and year.

These are SIPRI's published aggregates, the figures journalists check the
register against, so they are stored cell for cell as SIPRI wrote them: a
number is kept exactly, `0` stays 0 ("under 0.5 million"), and a blank cell
(no deliveries) is no row at all rather than a 0 or an unknown. SIPRI's own
`Total` row and `Total` column are kept apart (`totals`) and used only to
check the reading; they are never entities.

Which table it is cannot be read from the title alone: the imports table's
title also reads "TIV of arms exports to all". Rows that are SIPRI weapon
categories make it `exports_by_category`; otherwise the rows are entities,
suppliers when the title says "from all", recipients when it says "to all".
Both shapes SIPRI has used are read: comma-separated UTF-8/Latin-1 with
`,,,,` padding, and the older semicolon-separated Latin-1 one.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import pandas as pd

from etl.errors import UserError
from etl.normalise.entities import resolve_entities
from etl.normalise.sipri_categories import sipri_categories
from etl.normalise.text import text_keys
from etl.sources.sipri_register import _field_counts, generated_date
from etl.sources.text import TextFile, split_lines

TABLES = ("exports_by_supplier", "imports_by_recipient", "exports_by_category")
_YEARS_ROW = re.compile(r'^\s*(?:"")?\s*([,;\t])\s*"?(?:19|20)\d\d"?\s*\1')
_TITLE = re.compile(r"\bTIV of arms (?P<flow>exports|imports)\s+(?P<dir>from|to)\s+(?P<who>[^,;]+?)\s*(?:,|;|$)",
                    re.IGNORECASE)
_SCAN = 60


@dataclass
class TivRead:
    table: str
    title: str
    cells: pd.DataFrame  # entity_raw, entity, entity_iso3, entity_kind, resolved, year, tiv, line
    totals: pd.DataFrame  # SIPRI's Total row per year (entity None) and Total column per row (year None)
    generated: str | None
    generated_date: str | None
    delimiter: str
    records: int
    notes: list[str] = field(default_factory=list)


def _header(lines: list[str]) -> tuple[int, str]:
    for index, line in enumerate(lines[:_SCAN]):
        match = _YEARS_ROW.match(line)
        if match:
            return index, match.group(1)
    raise ValueError("no row of years")


def _frame(lines: list[str], index: int, delimiter: str) -> pd.DataFrame:
    """Header and body as text cells; columns 'name', the years, 'Total'; padding columns dropped."""
    text = pd.Series(lines[index:], dtype=object)
    width = int(_field_counts(text, delimiter).max())
    frame = pd.read_csv(io.StringIO("\n".join(text)), sep=delimiter, header=None, names=range(width), dtype=str,
                        keep_default_na=False, engine="c", skip_blank_lines=True)
    frame = frame.apply(lambda s: s.str.strip())
    header = frame.iloc[0].tolist()
    named = [i for i, h in enumerate(header) if h]
    frame = frame.iloc[:, : named[-1] + 1]
    frame.columns = ["name", *header[1: named[-1] + 1]]
    return frame.iloc[1:]


def _kind(title: str, names: pd.Series, path) -> str:
    categories = sipri_categories(names)
    if len(names) and (categories != "").mean() >= 0.8:
        return "exports_by_category"
    match = _TITLE.search(title)
    if match and match.group("who").strip().casefold() == "all":
        return "exports_by_supplier" if match.group("dir").casefold() == "from" else "imports_by_recipient"
    raise UserError(f"{path}: TIV table whose title ({title.strip() or 'none'!s}) does not say whether its rows "
                    "are suppliers ('from all') or recipients ('to all')")


def read_tiv(source: TextFile) -> TivRead:
    lines = split_lines(source.text)
    try:
        index, delimiter = _header(lines)
    except ValueError:
        raise UserError(f"{source.path}: not a SIPRI TIV table (no header row of years)") from None
    title = next((next(csv.reader([line], delimiter=delimiter))[0].strip() for line in lines[:index]
                  if _TITLE.search(line)), "")
    frame = _frame(lines, index, delimiter)
    frame = frame[(frame != "").any(axis=1)]
    numbered = _line_numbers(lines, index, delimiter, frame)
    years = [c for c in frame.columns if re.fullmatch(r"(19|20)\d\d", str(c))]
    total_col = next((c for c in frame.columns if str(c).casefold() == "total"), None)
    is_total = text_keys(frame["name"]).isin(["total", "totals"])
    rows = frame[~is_total & (frame["name"] != "")]
    if rows.empty:
        raise UserError(f"{source.path}: SIPRI TIV table without any supplier, recipient or category row")
    table = _kind(title, rows["name"], source.path)

    long = rows.assign(line=numbered[~is_total & (frame["name"] != "")]).melt(
        id_vars=["name", "line"], value_vars=years, var_name="year", value_name="text")
    long = long[long["text"] != ""]
    values = pd.to_numeric(long["text"].str.replace(r"[\s\u00a0]", "", regex=True), errors="coerce")
    if values.isna().any():
        odd = long[values.isna()].iloc[0]
        raise UserError(f"{source.path}: line {odd['line']}: '{odd['text']}' for {odd['name']} in {odd['year']} "
                        "is not a number")
    cells = long.assign(year=long["year"].astype(int), tiv=values.astype(float))
    cells = _entities(cells, table).sort_values(["entity", "year"], ignore_index=True)
    totals = _totals(frame, is_total, years, total_col)
    written, iso = generated_date(source.text)
    return TivRead(table=table, title=title, cells=cells, totals=totals, generated=written, generated_date=iso,
                   delimiter=delimiter, records=len(rows), notes=_check(cells, totals))


def _line_numbers(lines: list[str], index: int, delimiter: str, frame: pd.DataFrame) -> pd.Series:
    """Physical line of each body row: the n-th non-blank line after the header."""
    after = pd.Series(lines[index + 1:])
    filled = after[after.str.replace(rf"[\s{re.escape(delimiter)}\"]", "", regex=True) != ""]
    numbers = (filled.index + index + 2).to_numpy()
    return pd.Series(numbers[: len(frame)], index=frame.index)


def _entities(cells: pd.DataFrame, table: str) -> pd.DataFrame:
    cells = cells.rename(columns={"name": "entity_raw"})
    if table == "exports_by_category":
        category = sipri_categories(cells["entity_raw"])
        return cells.assign(entity=category.where(category != "", cells["entity_raw"]), entity_iso3="",
                            entity_kind="category", resolved=category != "")
    resolved = resolve_entities(cells["entity_raw"])
    return cells.assign(entity=resolved["name"], entity_iso3=resolved["iso3"], entity_kind=resolved["kind"],
                        resolved=resolved["resolved"])


def _totals(frame: pd.DataFrame, is_total: pd.Series, years: list, total_col) -> pd.DataFrame:
    parts = []
    if is_total.any():
        row = frame[is_total].iloc[0]
        parts.append(pd.DataFrame({"entity_raw": None, "year": [int(y) for y in years],
                                   "tiv": pd.to_numeric(row[years], errors="coerce").to_numpy()}))
    if total_col is not None:
        rows = frame[~is_total & (frame["name"] != "")]
        parts.append(pd.DataFrame({"entity_raw": rows["name"].to_numpy(), "year": None,
                                   "tiv": pd.to_numeric(rows[total_col], errors="coerce").to_numpy()}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["entity_raw", "year", "tiv"])


def _check(cells: pd.DataFrame, totals: pd.DataFrame) -> list[str]:
    """SIPRI's totals against the cells: SIPRI rounds each cell, so sums drift by rounding only.

    Also says where two rows resolve to one entity in the same year (cells
    kept apart, told apart by `entity_raw`), so nobody sums them unawares.
    """
    notes = []
    shared = cells[cells.duplicated(["entity", "year"], keep=False)]
    if len(shared):
        names = shared.groupby("entity")["entity_raw"].unique()
        notes.append("rows naming one entity with figures in the same year (kept apart): " + "; ".join(
            f"{entity} ({', '.join(raw)})" for entity, raw in names.items()))
    by_year = totals[totals["entity_raw"].isna()].set_index("year")["tiv"]
    if len(by_year):
        gap = (cells.groupby("year")["tiv"].sum() - by_year).abs()
        notes.append(f"Total row: sums of the cells differ from SIPRI's by at most {gap.max():.0f} "
                     f"(median {gap.median():.0f}) per year, SIPRI rounding each cell")
    by_row = totals[totals["entity_raw"].notna()].set_index("entity_raw")["tiv"]
    if len(by_row):
        gap = (cells.groupby("entity_raw")["tiv"].sum() - by_row).abs()
        notes.append(f"Total column: row sums differ from SIPRI's by at most {gap.max():.0f} per row")
    return notes
