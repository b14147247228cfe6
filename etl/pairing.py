"""Pairing deals of two SIPRI files one to one, by evidence rather than by line.

Used where no shared key exists: the per-delivery-year export against the
register (SIPRI's deal id is not in the register) and one release against the
next (`armsdash diff`). Candidates are the deals that agree on a block of
fields that do not get revised (supplier, recipient, order year); each pair
gets a score from the caller; pairs are then taken best first, each deal at
most once.

The assignment runs in rounds of mutual best choices: a pair is taken when
it is the best remaining pair of both its deals (ties broken by position, so
the result is deterministic). The best remaining pair overall is always
mutual, so every round takes at least one pair; rounds are bounded by the
size of the largest block, not by the number of deals.
"""

from __future__ import annotations

import pandas as pd


def candidates(left: pd.DataFrame, right: pd.DataFrame, block: list[str]) -> pd.DataFrame:
    """Every (left row, right row) agreeing on `block`, columns suffixed _l and _r.

    `left` and `right` are indexed 0..n-1; their positions come back as `l` and `r`.
    """
    lhs = left.assign(l=range(len(left)))
    rhs = right.assign(r=range(len(right)))
    return lhs.merge(rhs, on=block, suffixes=("_l", "_r"))


def one_to_one(pairs: pd.DataFrame, score: str = "score") -> pd.DataFrame:
    """The pairs kept: best first, each `l` and each `r` at most once."""
    remaining = pairs.sort_values([score, "l", "r"], ascending=[False, True, True], kind="stable")
    kept = []
    while len(remaining):
        best_l = ~remaining["l"].duplicated()
        best_r = ~remaining["r"].duplicated()
        mutual = remaining[best_l & best_r]
        kept.append(mutual)
        remaining = remaining[~remaining["l"].isin(mutual["l"]) & ~remaining["r"].isin(mutual["r"])]
    return pd.concat(kept) if kept else pairs.iloc[0:0]
