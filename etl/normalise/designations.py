"""How alike two weapon designations are, for pairing deals across SIPRI files.

SIPRI spells one system differently between its exports and its releases
("MIM-23B" / "MIM-23B HAWK", "TOW" / "BGM-71 TOW", "Hughes-500MDTOW" /
"Hughes-500MD-TOW", "ASV-150/M-1117" / "M-1117 Guardian", a trailing " -" in
the per-delivery-year export). A designation alone is therefore weak evidence;
callers combine the level computed here with what the deals say (years,
numbers, TIV). Everything is computed on whole columns of candidate pairs
(explode and merge on tokens), never pair by pair in Python.
"""

from __future__ import annotations

import pandas as pd

# Levels, strongest first.
SAME = 3  # equal once case, spaces and punctuation are ignored
RELATED = 2  # one's words are all among the other's, or the leading word is shared
NEAR = 1  # a shared model number or word of 4+ letters ('Scout'), or the same first 4 characters
UNLIKE = 0


def squash(values: pd.Series) -> pd.Series:
    """Letters and digits only, casefolded: 'Hughes-500MD-TOW' -> 'hughes500mdtow'."""
    return values.fillna("").astype(str).str.casefold().str.replace(r"[^0-9a-z]+", "", regex=True)


def _tokens(values: pd.Series) -> pd.DataFrame:
    """(row, token) pairs: words split at spaces and '/', squashed, empties dropped."""
    words = (values.fillna("").astype(str).str.casefold()
             .str.replace(r"\s+-\s*$", "", regex=True).str.split(r"[\s/,()]+", regex=True))
    frame = words.explode().to_frame("token")
    frame["token"] = squash(frame["token"])
    frame = frame[frame["token"] != ""]
    return frame.rename_axis("row").reset_index().drop_duplicates()


def designation_level(a: pd.Series, b: pd.Series) -> pd.Series:
    """Level (SAME..UNLIKE) for each pair (a[i], b[i]); a and b share one index."""
    assert a.index.equals(b.index)
    pairs = pd.DataFrame({"a": a.to_numpy(), "b": b.to_numpy()})
    sa, sb = squash(pairs["a"]), squash(pairs["b"])
    ta, tb = _tokens(pairs["a"]), _tokens(pairs["b"])
    shared = ta.merge(tb, on=["row", "token"])
    n_shared = shared.groupby("row").size().reindex(pairs.index, fill_value=0)
    n_a = ta.groupby("row").size().reindex(pairs.index, fill_value=0)
    n_b = tb.groupby("row").size().reindex(pairs.index, fill_value=0)
    first_a = ta.groupby("row")["token"].first().reindex(pairs.index)
    first_b = tb.groupby("row")["token"].first().reindex(pairs.index)
    telling = shared["token"].str.contains(r"\d", regex=True) | (shared["token"].str.len() >= 4)
    telling_shared = shared[telling].groupby("row").size().reindex(pairs.index, fill_value=0)

    same = (sa == sb) & (sa != "")
    subset = (n_shared > 0) & ((n_shared == n_a) | (n_shared == n_b))
    lead = first_a.notna() & (first_a == first_b)
    near = (telling_shared > 0) | ((sa.str[:4] == sb.str[:4]) & (sa.str.len() >= 4))
    level = pd.Series(UNLIKE, index=pairs.index)
    level[near] = NEAR
    level[subset | lead] = RELATED
    level[same] = SAME
    return pd.Series(level.to_numpy(), index=a.index)
