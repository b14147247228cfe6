"""Exact deliveries per year: the per-delivery-year export applied to register deals.

The two exports share no key (the plain register has no SIPRI deal id) and
spell designations differently ("MIM-23B" / "MIM-23B HAWK", "TOW" / "BGM-71
TOW", "T-6 Texan-2 -"), so a per-year deal is paired with a register deal by
evidence (docs/methodology.md, "Exact deliveries per year"):

1. candidates: same supplier, recipient (canonical names) and order year;
2. evidence: how alike the designations are (`etl.normalise.designations`),
   and whether the delivered number, the delivery years and the TIV delivered
   (within 1% or 0.05) agree, plus description and status as tie-breakers;
3. accepted: the same designation; or a related/near designation with two of
   the three delivery facts; or all three facts with the same description;
4. a second pass for what is left allows the order year to differ by up to
   two years, with a related designation and two of the three facts;
5. one to one, best evidence first (`etl.pairing`).

A paired register deal keeps every field of the register (its deal id too)
but takes SIPRI's category and, where both files agree on its delivery years
and TIV delivered, the exact per-year TIV; other register deals keep the even
split. An unpaired per-year deal is quarantined rather than
added: it most likely is a register deal we failed to recognise, and adding it
would count its deliveries twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.normalise.designations import NEAR, RELATED, SAME, designation_level, squash
from etl.pairing import candidates, one_to_one

_FIELDS = ["supplier", "recipient", "order_year", "designation", "description", "status",
           "number_delivered", "delivery_years", "tiv_delivered"]


@dataclass
class Matching:
    pairs: pd.DataFrame  # l (per-year deal position), r (register deal position), level, facts, order_gap
    per_year_deals: int

    @property
    def matched(self) -> int:
        return len(self.pairs)

    @property
    def rate(self) -> float:
        return self.matched / self.per_year_deals if self.per_year_deals else 1.0


def _evidence(pairs: pd.DataFrame) -> pd.DataFrame:
    level = designation_level(pairs["designation_l"], pairs["designation_r"])
    years = pairs["delivery_years_l"] == pairs["delivery_years_r"]
    number = (pairs["number_delivered_l"] == pairs["number_delivered_r"]).fillna(False).astype(bool)
    a, b = pairs["tiv_delivered_l"].astype(float), pairs["tiv_delivered_r"].astype(float)
    tiv = ((a - b).abs() <= np.maximum(0.05, 0.01 * b.abs())).fillna(False).astype(bool)
    described = squash(pairs["description_l"]) == squash(pairs["description_r"])
    status = pairs["status_l"] == pairs["status_r"]
    facts = years.astype(int) + number.astype(int) + tiv.astype(int)
    return pairs.assign(level=level, facts=facts,
                        score=level * 3 + facts * 2 + described.astype(int) + status.astype(int),
                        described=described)


def match(per_year: pd.DataFrame, register: pd.DataFrame) -> Matching:
    """Pairs of (per-year deal, register deal) positions, one to one."""
    left = per_year[_FIELDS].reset_index(drop=True)
    right = register[_FIELDS].reset_index(drop=True)
    for frame in (left, right):
        frame["order_year"] = frame["order_year"].astype("Int64")
    first = _evidence(candidates(left, right, ["supplier", "recipient", "order_year"]))
    ok = (first["level"] == SAME) | ((first["level"] >= NEAR) & (first["facts"] >= 2)) | (
        (first["facts"] == 3) & first["described"])
    kept = one_to_one(first[ok]).assign(order_gap=0)
    rest_l = left.assign(l=range(len(left)))[lambda f: ~f["l"].isin(kept["l"])]
    rest_r = right.assign(r=range(len(right)))[lambda f: ~f["r"].isin(kept["r"])]
    second = rest_l.merge(rest_r, on=["supplier", "recipient"], suffixes=("_l", "_r"))
    second = second[(second["order_year_l"] - second["order_year_r"]).abs() <= 2]
    if len(second):
        second = _evidence(second)
        second = second[(second["level"] >= RELATED) & (second["facts"] >= 2)]
        more = one_to_one(second).assign(order_gap=lambda f: (f["order_year_l"] - f["order_year_r"]).abs())
        kept = pd.concat([kept, more], ignore_index=True)
    columns = ["l", "r", "level", "facts", "order_gap"]
    return Matching(kept[columns].reset_index(drop=True), len(left))


def _same_history(per_year: pd.DataFrame, register: pd.DataFrame) -> np.ndarray:
    """Pairs whose files agree on the delivery years and, within rounding, on the TIV delivered.

    Only those take the exact figures: elsewhere the two files tell the deal
    differently, and exact rows that do not add up to the deal's own TIV
    delivered would make the deliveries disagree with the deal beside them.
    """
    a = per_year["tiv_delivered"].astype(float).to_numpy()
    b = register["tiv_delivered"].astype(float).to_numpy()
    tiv = (np.abs(a - b) <= np.maximum(0.05, 0.01 * np.abs(b))) | (np.isnan(a) & np.isnan(b))
    years = per_year["delivery_years"].to_numpy() == register["delivery_years"].to_numpy()
    return tiv & years


def apply_exact(deals: pd.DataFrame, deliveries: pd.DataFrame, per_year_deals: pd.DataFrame,
                per_year_rows: pd.DataFrame, matching: Matching) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(deals, deliveries, unpaired per-year deals) with SIPRI's category and exact years where paired."""
    deals = deals.copy()
    pairs = matching.pairs
    target = deals.index[pairs["r"].to_numpy()]
    source = per_year_deals.iloc[pairs["l"].to_numpy()]
    if "sipri_deal_id" not in deals:
        deals["sipri_deal_id"] = pd.Series(pd.NA, index=deals.index, dtype="Int64")
    deals.loc[target, "sipri_deal_id"] = source["sipri_deal_id"].to_numpy()
    has_category = (source["category"] != "").to_numpy()
    deals.loc[target[has_category], "category"] = source["category"].to_numpy()[has_category]
    deals.loc[target[has_category], "category_source"] = "sipri"
    agree = _same_history(source, deals.loc[target])
    ids = pd.Series(deals.loc[target[agree], "deal_id"].to_numpy(), index=source["sipri_deal_id"].to_numpy()[agree])
    exact = per_year_rows[per_year_rows["sipri_deal_id"].isin(ids.index)]
    exact = exact.assign(deal_id=exact["sipri_deal_id"].map(ids).to_numpy())
    who = deals.loc[target[agree], ["deal_id", "supplier", "supplier_iso3", "recipient", "recipient_iso3", "category"]]
    exact = exact[["deal_id", "year", "tiv", "source"]].merge(who, on="deal_id").assign(method="exact")
    kept = deliveries[~deliveries["deal_id"].isin(who["deal_id"])]
    out = pd.concat([kept, exact[kept.columns]], ignore_index=True)
    out["year"] = out["year"].astype("int32")
    unpaired = per_year_deals[~np.isin(np.arange(len(per_year_deals)), pairs["l"].to_numpy())]
    return deals, out, unpaired


@dataclass
class ExactReport:
    per_year_deals: int
    paired: int
    same_designation: int  # paired with the same designation once spelling is ignored
    other_designation: int  # paired with a designation spelled otherwise, on the evidence of the deal
    order_year_differs: int
    unpaired: int
    history_differs: int  # paired, but the files disagree on delivery years or TIV: even split kept
    category_changed: int  # register deals whose category SIPRI files elsewhere than our mapping
    deliveries: int  # delivery rows with SIPRI's exact figures
    alone: bool  # deals built from the per-year files (no plain register loaded with them)


class Exact:
    """Per-year files of one load, paired with its register deals, ready to apply."""

    def __init__(self, deals: pd.DataFrame, rows: pd.DataFrame, register: pd.DataFrame | None):
        self.per_year_deals, self.rows = deals, rows
        self.alone = register is None
        if self.alone:
            n = len(deals)
            identity = pd.DataFrame({"l": range(n), "r": range(n), "level": SAME, "facts": 3, "order_gap": 0})
            self.matching = Matching(identity, n)
        else:
            self.matching = match(deals, register)
        self.report: ExactReport | None = None

    @classmethod
    def prepare(cls, reads: list, register: pd.DataFrame | None) -> "Exact":
        """From the per-year reads of a load (first file wins where a SIPRI deal id repeats)."""
        deals = pd.concat([r.deals.assign(source=r.name, source_generated=r.parsed.generated_date) for r in reads],
                          ignore_index=True)
        rows = pd.concat([r.parsed.rows.assign(source=r.name) for r in reads], ignore_index=True)
        first = deals.drop_duplicates("sipri_deal_id")
        rows = rows.merge(first[["sipri_deal_id", "source"]], on=["sipri_deal_id", "source"])
        return cls(first.reset_index(drop=True), rows, register)

    @property
    def unpaired_quarantine(self) -> pd.DataFrame:
        paired = np.isin(np.arange(len(self.per_year_deals)), self.matching.pairs["l"].to_numpy())
        lost = self.per_year_deals[~paired]
        reason = ("SIPRI deal " + lost["sipri_deal_id"].astype(str) + " (" + lost["designation"] + " to "
                  + lost["recipient"] + ", ordered " + lost["order_year"].astype(str)
                  + "): no register deal matches it, so its exact deliveries are not used")
        return pd.DataFrame({"source": lost["source"], "line": lost["line"], "reason": reason, "raw": lost["raw"]})

    def deals_alone(self) -> pd.DataFrame:
        return self.per_year_deals.copy()

    def apply(self, deals: pd.DataFrame, deliveries: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        before = deals["category"].copy()
        deals, deliveries, unpaired = apply_exact(deals, deliveries, self.per_year_deals, self.rows, self.matching)
        pairs = self.matching.pairs
        exact = deliveries["method"] == "exact"
        self.report = ExactReport(
            per_year_deals=len(self.per_year_deals), paired=len(pairs),
            same_designation=int((pairs["level"] == SAME).sum()), other_designation=int((pairs["level"] < SAME).sum()),
            order_year_differs=int((pairs["order_gap"] > 0).sum()), unpaired=len(unpaired),
            history_differs=len(pairs) - deliveries.loc[exact, "deal_id"].nunique(),
            category_changed=0 if self.alone else int((deals["category"] != before).sum()),
            deliveries=int(exact.sum()), alone=self.alone)
        return deals, deliveries


def allocation_errors(even: pd.DataFrame, exact: pd.DataFrame, period: int, minimum: float,
                      rolling: bool = False) -> pd.Series:
    """|even - exact| / exact in %, per recipient and `period`-year window where exact >= `minimum`.

    `even` and `exact` hold recipient, year, tiv (one supplier's deliveries
    under each method). Windows are SIPRI's fixed periods (1950-54, ...,
    2020-24), or with `rolling` every run of `period` consecutive years. This
    is the measure quoted in docs/methodology.md.
    """
    both = even.merge(exact, on=["recipient", "year"], how="outer", suffixes=("_even", "_exact")).fillna(0)
    parts = []
    for offset in range(period) if rolling else [0]:  # a handful of window alignments, not rows
        bucket = (both["year"] - 1950 - offset) // period
        parts.append(both.assign(bucket=bucket, offset=offset).groupby(["recipient", "offset", "bucket"])[
            ["tiv_even", "tiv_exact"]].sum())
    grouped = pd.concat(parts)
    grouped = grouped[grouped["tiv_exact"] >= minimum]
    return (grouped["tiv_even"] - grouped["tiv_exact"]).abs() / grouped["tiv_exact"] * 100
