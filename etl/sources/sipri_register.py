"""SIPRI trade register (one row per deal) as users really have it.

The reader accepts every variant in ../shared/data/README.md: with or without
the preamble, 16 columns (with the `?` flag columns) or 13, comma, semicolon
or tab delimited, trailing `;;;;` padding from a spreadsheet round-trip, and
records broken over several physical lines by a stray line break in Comments.
It repairs what is unambiguous, says so, and hands everything else to the
quarantine with the physical line and the reason: it never guesses silently.

Output is text only; typing and normalising happen in `etl.deals`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from etl.normalise.text import text_key
from etl.reference import header_map
from etl.sources.text import TextFile, split_lines

# Columns a record must have for it to be a register at all.
REQUIRED = ("recipient", "supplier", "order_year", "designation")
# Named columns SIPRI follows with a blank-named `?` flag column.
FLAGGED = ("order_year", "number_ordered", "number_delivered")
TEXT_COLUMNS = (
    "recipient", "supplier", "order_year", "order_year_flag", "number_ordered",
    "number_ordered_flag", "designation", "description", "number_delivered",
    "number_delivered_flag", "delivery_years", "status", "comments",
    "tiv_per_unit", "tiv_total_order", "tiv_delivered",
)
_HEADER_SCAN_LINES = 60
_GENERATED = re.compile(r"^\W*(?:data\s+)?generated\s*:\s*(.+?)[\s,;]*$", re.IGNORECASE)


@dataclass
class RegisterRead:
    """What one file yielded: records as text, and what was repaired or refused."""

    records: pd.DataFrame  # TEXT_COLUMNS + line, last_line
    quarantine: pd.DataFrame  # line, reason, raw
    repairs: pd.DataFrame  # line, repair
    generated: str | None  # SIPRI's "Data generated" text as written
    generated_date: str | None  # the same as ISO date
    delimiter: str
    columns: int
    notes: list[str] = field(default_factory=list)


def _split_header(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter))


def find_header(lines: list[str]) -> tuple[int, str, list[str | None]] | None:
    """(index, delimiter, column names) of the register header, or None.

    Blank-named cells after a flagged column become `<column>_flag`; other
    unknown cells become None (kept as fields, ignored). Trailing empty cells
    (spreadsheet padding) are dropped from the header.
    """
    known = header_map("register_columns.csv")
    for index, line in enumerate(lines[:_HEADER_SCAN_LINES]):
        for delimiter in (",", ";", "\t"):
            if delimiter not in line:
                continue
            cells = _split_header(line.rstrip(";") if delimiter != ";" else line, delimiter)
            while cells and not cells[-1].strip():
                cells.pop()
            names: list[str | None] = []
            for cell in cells:
                key = text_key(cell.strip().strip("\ufeff"))
                if key in known:
                    names.append(known[key])
                elif not key and names and names[-1] in FLAGGED:
                    names.append(f"{names[-1]}_flag")
                else:
                    names.append(None)
            if all(col in names for col in REQUIRED):
                return index, delimiter, names
    return None


def generated_date(text: str) -> tuple[str | None, str | None]:
    """SIPRI's preamble line 'Data generated: <day> <Mon> <year> <time>' as written and as ISO date."""
    for line in split_lines(text)[:_HEADER_SCAN_LINES]:
        first = line.split(",")[0].strip().strip('"')
        match = _GENERATED.match(first)
        if match:
            written = match.group(1).strip()
            for fmt in ("%d %b %Y", "%d %B %Y", "%Y-%m-%d", "%d/%m/%Y", "%b %d %Y", "%B %d %Y"):
                words = " ".join(written.replace(",", " ").split()[:3])
                try:
                    return written, datetime.strptime(words, fmt).date().isoformat()
                except ValueError:
                    continue
            return written, None
    return None, None


def _split(line: str, delimiter: str) -> list[str]:
    """Fields of one line with RFC 4180 quoting (a stray quote mid-field is literal)."""
    return next(csv.reader([line], delimiter=delimiter), [""])


def _field_counts(lines: pd.Series, delimiter: str) -> pd.Series:
    """Fields per line: delimiters counted in C, except the few lines with quotes."""
    counts = lines.str.count(re.escape(delimiter)) + 1
    quoted = lines.str.contains('"', regex=False)
    if quoted.any():
        counts[quoted] = [len(_split(line, delimiter)) for line in lines[quoted]]
    return counts


def _join_quoted_lines(frame: pd.DataFrame, delimiter: str, expected: int) -> tuple[pd.DataFrame, list]:
    """Join a quoted field that spans lines (RFC 4180), only when it closes soon and makes a record.

    A lone stray quote must not swallow the lines after it, so a join is kept
    only if the quote closes within five lines and the result has exactly the
    header's number of fields. Visits only lines with an odd number of quotes.
    """
    texts, raws, lasts = frame["text"].tolist(), frame["raw"].tolist(), frame["last_line"].tolist()
    odd = [i for i, t in enumerate(texts) if t.count('"') % 2]
    consumed, repairs = set(), []
    for i in odd:
        if i in consumed:
            continue
        for j in range(i + 1, min(i + 6, len(texts))):
            joined = " ".join(texts[i : j + 1])
            if joined.count('"') % 2 == 0:
                if len(_split(joined, delimiter)) == expected:
                    texts[i], raws[i], lasts[i] = joined, "\n".join(raws[i : j + 1]), lasts[j]
                    consumed.update(range(i + 1, j + 1))
                    repairs.append((frame["line"].iat[i], f"quoted field over lines {frame['line'].iat[i]}-{lasts[j]} joined"))
                break
    keep = [k for k in range(len(texts)) if k not in consumed]
    out = pd.DataFrame({"text": [texts[k] for k in keep], "line": frame["line"].to_numpy()[keep],
                        "last_line": [lasts[k] for k in keep], "raw": [raws[k] for k in keep]})
    return out, repairs


def _parse_records(good: pd.DataFrame, delimiter: str, columns: list[str]) -> pd.DataFrame:
    """Quote-free lines through pandas' C parser; the few quoted ones through csv."""
    quoted = good["text"].str.contains('"', regex=False).to_numpy()
    parts = []
    plain = good.loc[~quoted, "text"]
    if len(plain):
        frame = pd.read_csv(
            io.StringIO("\n".join(plain)), sep=delimiter, header=None, names=columns, dtype=str,
            keep_default_na=False, skip_blank_lines=False, engine="c", quoting=csv.QUOTE_NONE,
        )
        frame.index = plain.index
        parts.append(frame)
    if quoted.any():
        rows = [_split(line, delimiter) for line in good.loc[quoted, "text"]]
        parts.append(pd.DataFrame(rows, columns=columns, index=good.index[quoted], dtype=str))
    if not parts:
        return pd.DataFrame(columns=columns, dtype=object)
    return pd.concat(parts).sort_index() if len(parts) > 1 else parts[0]


def read_register(source: TextFile) -> RegisterRead:
    """Split a register file into text records, repairs and quarantined lines."""
    text = source.text
    physical = split_lines(text)
    found = find_header(physical)
    if found is None:
        raise ValueError("no register header")
    header_index, delimiter, names = found
    expected = len(names)
    written, iso = generated_date(text)
    repairs: list[tuple[int, str]] = []
    quarantine: list[tuple[int, int, str, str]] = []

    body = physical[header_index + 1 :]
    numbers = range(header_index + 2, header_index + 2 + len(body))
    lines = pd.Series(body, dtype=object).str.replace("\r", " ", regex=False)
    frame = pd.DataFrame({"text": lines, "line": numbers, "last_line": numbers})
    frame["raw"] = frame["text"]
    blank = frame["text"].str.fullmatch(r"[\s,;\t]*")
    frame = frame[~blank].reset_index(drop=True)
    if frame["text"].str.count('"').mod(2).any():
        frame, joined = _join_quoted_lines(frame, delimiter, expected)
        repairs += joined

    notes: list[str] = []
    if delimiter != ";" and len(frame):
        padded = frame["text"].str.contains(r";+\s*$", regex=True)
        if padded.mean() >= 0.5:
            frame["text"] = frame["text"].str.replace(r";+\s*$", "", regex=True)
            notes.append(f"trailing ';' padding removed from {int(padded.sum())} lines")

    counts = _field_counts(frame["text"], delimiter)
    too_many = counts > expected
    if too_many.any():
        trimmed = frame.loc[too_many, "text"].str.replace(rf"(?:{re.escape(delimiter)}\s*)+$", "", regex=True)
        trimmed_counts = _field_counts(trimmed, delimiter)
        fits = trimmed_counts <= expected
        pad = (expected - trimmed_counts[fits]).map(lambda n: delimiter * n)
        frame.loc[fits[fits].index, "text"] = trimmed[fits] + pad
        counts.loc[fits[fits].index] = expected
        if fits.any():
            notes.append(f"trailing empty fields removed from {int(fits.sum())} lines")

    # Records broken over lines: a short line followed by short lines that add up.
    short = counts[counts < expected].index
    if len(short):
        frame, counts, joined = _rejoin(frame, counts, short, expected)
        repairs += joined

    bad = counts != expected
    for row in frame[bad].itertuples():
        quarantine.append((row.line, row.last_line, f"{counts[row.Index]} fields where the header has {expected}",
                           row.raw))
    good = frame[~bad]

    columns = [name or f"_ignored_{i}" for i, name in enumerate(names)]
    records = _parse_records(good, delimiter, columns)
    for col in TEXT_COLUMNS:
        if col not in records.columns:
            records[col] = ""
    records = records[list(TEXT_COLUMNS)].astype(str)
    records = records.apply(lambda s: s.str.strip())
    records["line"] = good["line"].to_numpy()
    records["last_line"] = good["last_line"].to_numpy()
    records["raw"] = good["raw"].to_numpy()
    if expected == 13 or not any(n and n.endswith("_flag") for n in names):
        notes.append(f"{expected}-column variant without '?' flag columns")

    return RegisterRead(
        records=records.reset_index(drop=True),
        quarantine=pd.DataFrame(quarantine, columns=["line", "last_line", "reason", "raw"]),
        repairs=pd.DataFrame(repairs, columns=["line", "repair"]),
        generated=written,
        generated_date=iso,
        delimiter=delimiter,
        columns=expected,
        notes=notes,
    )


def _rejoin(frame: pd.DataFrame, counts: pd.Series, short: pd.Index, expected: int):
    """Rejoin runs of consecutive short lines whose fields add up to a record.

    Joining two lines merges the last field of one with the first of the next,
    so n lines with f1..fn fields make sum(f) - (n - 1) fields. Only the few
    short lines are visited; the loop is over anomalies, not over rows.
    """
    texts = frame["text"].tolist()
    raws = frame["raw"].tolist()
    lines = frame["line"].tolist()
    lasts = frame["last_line"].tolist()
    n = counts.tolist()
    consumed: set[int] = set()
    joined = []
    for i in short:
        if i in consumed:
            continue
        total, j = n[i], i
        while total < expected and j + 1 < len(texts) and n[j + 1] < expected and j + 1 - i < 8:
            if total + n[j + 1] - 1 > expected:
                break
            j += 1
            total += n[j] - 1
        if total == expected and j > i:
            texts[i] = " ".join(texts[k] for k in range(i, j + 1))
            raws[i] = "\n".join(raws[k] for k in range(i, j + 1))
            lasts[i] = lasts[j]
            n[i] = expected
            consumed.update(range(i + 1, j + 1))
            joined.append((lines[i], f"record broken over lines {lines[i]}-{lasts[j]} rejoined"))
    keep = [k for k in range(len(texts)) if k not in consumed]
    out = pd.DataFrame({
        "text": [texts[k] for k in keep], "line": [lines[k] for k in keep],
        "last_line": [lasts[k] for k in keep], "raw": [raws[k] for k in keep],
    })
    return out, pd.Series([n[k] for k in keep]), joined
