"""SIPRI's own category names, as its per-year register and TIV tables write them.

Those files spell categories slightly differently from each other and from the
list in `etl.normalise.weapons` ("Air-defence systems" / "Air defence
systems"), so a category is compared by a key that ignores case, accents,
hyphens and spacing, and mapped onto the one spelling the project uses.
"""

from __future__ import annotations

import pandas as pd

from etl.normalise.text import text_keys
from etl.normalise.weapons import CATEGORIES


def _key(values: pd.Series) -> pd.Series:
    return text_keys(values.fillna("").astype(str).str.replace("-", " ", regex=False))


def sipri_categories(values: pd.Series) -> pd.Series:
    """The project's spelling of each SIPRI category; "" where a value is not one."""
    known = dict(zip(_key(pd.Series(CATEGORIES)), CATEGORIES))
    return _key(values).map(known).fillna("").astype(str)
