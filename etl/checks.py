"""Sanity checks on loaded deals: every violation is collected, none stops a load.

A check is a vectorised rule over the typed deals. Violations are stored and
summarised so a user sees where SIPRI's own figures disagree; a deal listed
in `data/check_exceptions.csv` with a reason is reported as excepted.

Scopes that are documented behaviour, not errors:
- SIPRI rounds "TIV per unit" to two decimals, so "TIV for total order" may
  differ from number x per-unit by up to number x 0.005 (+0.01 for its own rounding).
- Where "Number ordered" is empty, SIPRI writes 0 for the total order, so totals
  are only compared when the number ordered is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from etl.normalise.text import text_keys
from etl.reference import reference_table

EARLIEST_ORDER, EARLIEST_DELIVERY = 1930, 1950


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    rule: Callable[[pd.DataFrame, int], pd.Series]  # True where violated


CHECKS = (
    Check("order_year_in_range", f"order year between {EARLIEST_ORDER} and the data's year",
          lambda d, last: (d["order_year"] < EARLIEST_ORDER) | (d["order_year"] > last)),
    Check("delivery_years_in_range", f"delivery years between {EARLIEST_DELIVERY} and the data's year",
          lambda d, last: (d["first_delivery_year"] < EARLIEST_DELIVERY) | (d["last_delivery_year"] > last)),
    Check("delivery_not_before_order", "no delivery before the order year",
          lambda d, last: d["first_delivery_year"] < d["order_year"]),
    Check("total_matches_units", "TIV for total order = number ordered x TIV per unit, within rounding",
          lambda d, last: (d["tiv_total_order"] - d["number_ordered"] * d["tiv_per_unit"]).abs()
          > d["number_ordered"] * 0.005 + 0.01),
    Check("delivered_not_above_ordered", "number delivered <= number ordered",
          lambda d, last: d["number_delivered"] > d["number_ordered"]),
    Check("tiv_delivered_not_above_total", "TIV delivered <= TIV for total order (number ordered known)",
          lambda d, last: d["number_ordered"].notna() & (d["tiv_delivered"] > d["tiv_total_order"] + 0.01)),
    Check("deliveries_have_years", "a deal with deliveries has delivery years, and the other way round",
          lambda d, last: (d["number_delivered"].fillna(0) > 0) != (d["delivery_years"] != "")),
)


def _exception_keys(deals: pd.DataFrame) -> pd.Series:
    parts = [text_keys(deals[c].astype(str)) for c in ("supplier", "recipient", "order_year", "designation")]
    return parts[0].str.cat(parts[1:], sep="|")


def run_checks(deals: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """One row per violation: deal_id, check, detail, excepted, exception_reason."""
    exceptions = reference_table("check_exceptions.csv", ["check", "supplier", "recipient", "order_year", "designation", "reason"])
    exc_keys = exceptions["check"] + "#" + _exception_keys(exceptions)
    reasons = dict(zip(exc_keys, exceptions["reason"]))
    keys = _exception_keys(deals) if len(deals) else pd.Series(dtype=str)
    found = []
    for check in CHECKS:
        mask = check.rule(deals, last_year).fillna(False).astype(bool)
        if mask.any():
            hit = deals.loc[mask, ["deal_id", "source", "line"]].copy()
            hit["check"] = check.name
            hit["detail"] = check.description
            hit["exception_reason"] = (check.name + "#" + keys[mask]).map(reasons).fillna("")
            found.append(hit)
    cols = ["deal_id", "source", "line", "check", "detail", "exception_reason"]
    out = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=cols)
    out["excepted"] = out["exception_reason"] != ""
    return out[cols + ["excepted"]]
