"""Matching keys for free text that SIPRI spells differently between vintages.

Names and descriptions are compared by key, never by raw text, so that
"Côte d'Ivoire", "Cote d'Ivoire" and "cote  d'ivoire" meet, while the text
shown to users stays exactly as SIPRI wrote it.
"""

from __future__ import annotations

import unicodedata

import pandas as pd


def text_key(value: str) -> str:
    """Casefolded, accent-free, whitespace-collapsed form of one string."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def per_distinct(values: pd.Series, fn) -> pd.Series:
    """`fn(distinct values)` spread back over `values`.

    Register columns repeat a few thousand distinct texts over ~30,000 rows, so
    the work (and any Python-level string handling) is done once per text.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    result = fn(pd.Series(uniques, dtype=object))
    return pd.Series(result.to_numpy()[codes], index=values.index)


def text_keys(values: pd.Series) -> pd.Series:
    """`text_key` over a column, computed once per distinct value."""
    return per_distinct(values.fillna("").astype(str), lambda u: u.map(text_key))
