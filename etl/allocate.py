"""Deliveries per year: each deal's delivered TIV spread over its delivery years.

SIPRI's trade register gives one TIV for all deliveries of a deal and the list
of years they happened in, not the split. We divide evenly across those years.
Against SIPRI's exact per-year figures (US exports) this is off by a median 9%
per recipient and year but about 2% per recipient over five years: use
multi-year windows for comparisons. A TIV of 0 (under 0.5 million) stays 0; an
empty TIV stays unknown (NULL), never 0.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["deal_id", "supplier", "supplier_iso3", "recipient", "recipient_iso3", "category", "year", "tiv"]


def allocate_even(deals: pd.DataFrame) -> pd.DataFrame:
    """One row per deal and delivery year (vectorised explode)."""
    base = deals[["deal_id", "supplier", "supplier_iso3", "recipient", "recipient_iso3", "category",
                  "delivery_year_list", "tiv_delivered"]]
    years = base["delivery_year_list"].map(len)
    base = base[years > 0]
    share = base["tiv_delivered"] / years[years > 0]
    rows = base.assign(tiv=share).explode("delivery_year_list").rename(columns={"delivery_year_list": "year"})
    rows["year"] = rows["year"].astype("int32")
    rows["tiv"] = rows["tiv"].astype("Float64")
    return rows[COLUMNS].reset_index(drop=True)
