"""CSV exports of the current data, the same for the CLI and the dashboard.

Columns follow the interface contract (docs/interface.md); extra columns come
after the contract's. Numbers are written as DuckDB prints them, without a
spurious ".0"; text that a spreadsheet would run as a formula gets a leading
apostrophe (the text itself is kept). Every row carries its source: file,
SIPRI's generation date, and the attribution SIPRI asks for.
"""

from __future__ import annotations

import csv
import io
from typing import IO

import duckdb
import pandas as pd

from etl.filters import Filters, where

DEALS_COLUMNS = [
    "deal_id", "supplier", "supplier_iso3", "recipient", "recipient_iso3", "order_year",
    "order_year_estimated", "number_ordered", "number_ordered_estimated", "designation",
    "description", "category", "number_delivered", "number_delivered_estimated", "delivery_years",
    "status", "comments", "tiv_per_unit", "tiv_total_order", "tiv_delivered", "reported_value_usd_m",
    "reported_value_scope", "source",
    # beyond the contract
    "reported_value_usd_m_max", "reported_value_amount", "reported_value_currency",
    "reported_value_text", "supplier_kind", "recipient_kind", "supplier_region", "recipient_region",
]
DELIVERIES_COLUMNS = [
    "deal_id", "supplier", "supplier_iso3", "recipient", "recipient_iso3", "category", "year", "tiv",
    "method", "source",
]
QUARANTINE_COLUMNS = ["source", "line", "reason", "raw"]
TABLES = {"deals": DEALS_COLUMNS, "deliveries": DELIVERIES_COLUMNS, "quarantine": QUARANTINE_COLUMNS}

_SOURCE = (
    "'SIPRI Arms Transfers Database; ' || s.source || coalesce('; data generated ' || "
    "strftime(s.generated_date, '%Y-%m-%d'), '')"
)
_NUMERIC = {"order_year", "number_ordered", "number_delivered", "year", "line"}
_FLOAT = {"tiv_per_unit", "tiv_total_order", "tiv_delivered", "tiv", "reported_value_usd_m",
          "reported_value_usd_m_max", "reported_value_amount"}
_BOOL = {"order_year_estimated", "number_ordered_estimated", "number_delivered_estimated"}


def _select(column: str, alias: str) -> str:
    if column == "source" and alias != "q":
        return f"{_SOURCE} AS source"
    ref = f"{alias}.{column}"
    if column in _FLOAT:
        return f"regexp_replace(CAST({ref} AS VARCHAR), '\\.0$', '') AS {column}"
    if column in _NUMERIC or column in _BOOL:
        return f"CAST({ref} AS VARCHAR) AS {column}"
    # neutralise spreadsheet formulas: =, +, -, @, tab, CR at the start
    return (f"CASE WHEN regexp_matches({ref}, '^[=+\\-@\\t\\r]') THEN '''' || {ref} ELSE {ref} END "
            f"AS {column}")


def export_query(table: str, filters: Filters) -> tuple[str, list]:
    """SQL and parameters for one export table under `filters`."""
    columns = TABLES[table]
    if table == "quarantine":
        cols = ", ".join(_select(c, "q") for c in columns)
        return f"SELECT {cols} FROM current_quarantine q ORDER BY q.source, q.line", []
    view, year = ("current_deals", "order_year") if table == "deals" else ("current_deliveries", "year")
    w = where(filters, year, search_via_deal_id=table == "deliveries")
    cols = ", ".join(_select(c, "t") for c in columns)
    order = ("t.recipient, t.supplier, t.order_year, t.designation, t.deal_id" if table == "deals"
             else "t.recipient, t.supplier, t.year, t.deal_id")
    source_join = "JOIN current_deals d USING (deal_id) " if table == "deliveries" else ""
    src = "d" if table == "deliveries" else "t"
    sql = (f"SELECT {cols} FROM (SELECT * FROM {view} WHERE {w.sql}) t {source_join}"
           f"LEFT JOIN current_sources s ON s.source = {src}.source ORDER BY {order}")
    return sql, w.params


def export_frame(con: duckdb.DuckDBPyConnection, table: str, filters: Filters) -> pd.DataFrame:
    sql, params = export_query(table, filters)
    return con.execute(sql, params).df()


def write_csv(frame: pd.DataFrame, out: IO[bytes]) -> None:
    """UTF-8, header row, RFC 4180 quoting and CRLF line ends."""
    text = io.StringIO()
    frame.to_csv(text, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n", na_rep="")
    out.write(text.getvalue().encode("utf-8"))
