"""What kind of SIPRI file this is, from its content (never from its name)."""

from __future__ import annotations

import re

from etl.errors import UserError
from etl.sources.sipri_register import find_header
from etl.sources.text import TextFile, split_lines

REGISTER = "register"
REGISTER_BY_YEAR = "register_by_year"
TIV_TABLE = "tiv_table"

_BY_YEAR = re.compile(r"^\W*(sipri at database id|deal id)\W.*tiv delivery values", re.IGNORECASE)
# TIV tables: a header row of years after an empty first cell (quoted in some spreadsheets' output)
_YEARS_ROW = re.compile(r'^\s*(?:"")?\s*[,;\t]\s*"?(19|20)\d\d"?\s*[,;\t]\s*"?(19|20)\d\d"?\s*[,;\t]')


def detect_kind(source: TextFile) -> str:
    lines = split_lines(source.text[:200_000])
    if find_header(lines) is not None:
        return REGISTER
    head = lines[:60]
    if any(_BY_YEAR.search(line) for line in head):
        return REGISTER_BY_YEAR
    if any(_YEARS_ROW.match(line) for line in head):
        return TIV_TABLE
    raise UserError(
        f"{source.path}: not a SIPRI trade register or TIV table "
        "(no 'Recipient,Supplier,...' header in its first 60 lines)"
    )
