"""Reference tables in `data/`: the source quirks live there, not in code.

Every table is a CSV with a header row and a `note` column saying where each
row comes from. They are read as text (no type guessing) and checked for the
columns the code relies on, so a bad edit fails loudly at load time.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class ReferenceError(RuntimeError):
    """A reference table in data/ is missing or malformed."""


@cache
def _read(name: str) -> pd.DataFrame:
    path = DATA_DIR / name
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, pd.errors.ParserError) as exc:
        raise ReferenceError(f"reference table {path}: {exc}") from exc


def reference_table(name: str, columns: list[str]) -> pd.DataFrame:
    """A copy of `data/<name>` with at least `columns` (plus `note`)."""
    table = _read(name)
    missing = [c for c in [*columns, "note"] if c not in table.columns]
    if missing:
        raise ReferenceError(f"reference table data/{name} lacks columns {missing}")
    return table.copy()


def header_map(name: str) -> dict[str, str]:
    """A `header,column` table as {matching key of SIPRI's header text: our column name}."""
    from etl.normalise.text import text_key

    table = reference_table(name, ["header", "column"])
    return dict(zip(table["header"].map(text_key), table["column"]))
