"""CSV exports of the current data, the same for the CLI and the dashboard.

Columns follow the interface contract (docs/interface.md); extra columns come
after the contract's. Numbers are written as DuckDB prints them, without a
spurious ".0"; text that a spreadsheet would run as a formula gets a leading
apostrophe (the text itself is kept). Every row carries its source: file,
SIPRI's generation date, and the attribution SIPRI asks for.

`CsvExport` writes an export a few thousand rows at a time, straight from
DuckDB's result: the CLI and the dashboard's download route share it, so
they give the same bytes, and a whole-register export never holds the whole
table as Python objects (that left a server worker ~40 MB larger for good).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO

import duckdb
import numpy as np
import pandas as pd

from etl.db import LIST_ORDER
from etl.errors import UserError
from etl.filters import Filters, Where, where

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
TIV_COLUMNS = ["table", "entity", "year", "tiv",
               # beyond the contract
               "entity_iso3", "entity_kind", "entity_raw", "source"]
TABLES = {"deals": DEALS_COLUMNS, "deliveries": DELIVERIES_COLUMNS, "tiv": TIV_COLUMNS,
          "quarantine": QUARANTINE_COLUMNS}

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


def export_query(table: str, filters: Filters, ranks: tuple[int, int] | None = None) -> tuple[str, list]:
    """SQL and parameters for one export table under `filters`.

    `ranks` (deals only): just the deals whose list_rank r has lo < r <= hi,
    in list_rank order, which is the deals' export order (etl.db.LIST_ORDER).
    """
    columns = TABLES[table]
    if table == "tiv":
        return _tiv_query(filters)
    if table == "quarantine":
        cols = ", ".join(_select(c, "q") for c in columns)
        return f"SELECT {cols} FROM current_quarantine q ORDER BY q.source, q.line", []
    view, year = ("current_deals", "order_year") if table == "deals" else ("current_deliveries", "year")
    w = where(filters, year, search_via_deal_id=table == "deliveries")
    cols = ", ".join(_select(c, "t") for c in columns)
    order = (", ".join(f"t.{c.strip()}" for c in LIST_ORDER.split(",")) if table == "deals"
             else "t.recipient, t.supplier, t.year, t.deal_id")
    if ranks is not None:
        w.add("list_rank > ? AND list_rank <= ?", *ranks)
        order = "t.list_rank"
    source_join = "JOIN current_deals d USING (deal_id) " if table == "deliveries" else ""
    # exact per-year deliveries carry their own file; other delivery rows their deal's
    src = "coalesce(t.source, d.source)" if table == "deliveries" else "t.source"
    sql = (f"SELECT {cols} FROM (SELECT * FROM {view} WHERE {w.sql}) t {source_join}"
           f"LEFT JOIN current_sources s ON s.source = {src} ORDER BY {order}")
    return sql, w.params


def _tiv_query(filters: Filters) -> tuple[str, list]:
    """SIPRI's TIV-table cells: an entity filter selects its own table's rows.

    `--supplier` selects rows of exports_by_supplier, `--recipient` of
    imports_by_recipient, `--category` of exports_by_category (several: any
    of them); `--from`/`--to` are years. Other filters have no meaning here.
    """
    if filters.search or filters.statuses or filters.supplier_blocs or filters.recipient_blocs:
        raise UserError("--table tiv takes only --supplier, --recipient, --category, --from and --to")
    w = Where()
    chosen = [(table, names) for table, names in (("exports_by_supplier", filters.suppliers),
                                                  ("imports_by_recipient", filters.recipients),
                                                  ("exports_by_category", filters.categories)) if names]
    if chosen:
        w.add("(" + " OR ".join("(table_name = ? AND entity IN (SELECT unnest(?::VARCHAR[])))" for _ in chosen) + ")",
              *[v for table, names in chosen for v in (table, list(names))])
    if filters.year_from is not None:
        w.add("year >= ?", filters.year_from)
    if filters.year_to is not None:
        w.add("year <= ?", filters.year_to)
    cols = ", ".join(["t.table_name AS \"table\"", *(_select(c, "t") for c in TIV_COLUMNS[1:] if c != "source"),
                      f"{_SOURCE} AS source"])
    sql = (f"SELECT {cols} FROM (SELECT * FROM current_tiv WHERE {w.sql}) t "
           "LEFT JOIN sources s ON s.snapshot_id = t.snapshot_id AND s.source = t.source "
           "ORDER BY t.table_name, t.entity, t.year")
    return sql, w.params


def _has_tiv(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any TIV table was loaded (a database from before TIV support has no `tiv` table)."""
    try:
        return con.execute("SELECT count(*) FROM tiv").fetchone()[0] > 0
    except duckdb.CatalogException:
        return False


def csv_bytes(frame: pd.DataFrame, header: bool = True) -> bytes:
    """UTF-8, RFC 4180 quoting and CRLF line ends; the header row unless `header` is False."""
    text = io.StringIO()
    frame.to_csv(text, index=False, header=header, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n", na_rep="")
    return text.getvalue().encode("utf-8")


def write_csv(frame: pd.DataFrame, out: IO[bytes]) -> None:
    """A whole frame as CSV (csv_bytes)."""
    out.write(csv_bytes(frame))


class CsvExport:
    """One export table under `filters` as CSV bytes, produced a chunk of rows at a time.

    The first query runs when the object is made, so a bad request fails
    before any byte is sent; iterating yields the header, then each chunk of
    VECTORS DuckDB vectors (2,048 rows each) as CSV. Every column is text by
    then (export_query casts numbers), so chunks join into exactly the CSV of
    the whole table. `rows` counts the rows produced so far. Iterate once,
    with the connection open.

    More than WINDOW matching deals are read WINDOW at a time, one query per
    window of list ranks, in list order: sorting the whole register at once
    held ~60 MB in DuckDB while the download ran, pushing a dashboard worker
    over its 200 MB (docs/benchmarks.md); a window's sort holds a few MB. A
    database whose deals lack list_rank (stored before schema 2) is exported
    in one query.
    """
    VECTORS = 1
    WINDOW = 2048

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, filters: Filters):
        if table == "tiv" and not _has_tiv(con):
            raise UserError("no SIPRI TIV table loaded yet; load one with 'armsdash load tiv-table.csv'")
        self._con, self._table, self._filters = con, table, filters
        self._windows = iter(self._ranks())
        self._result = con.execute(*export_query(table, filters, next(self._windows, None)))
        self.rows = 0

    def _ranks(self) -> list[tuple[int, int] | None]:
        """(lo, hi] list-rank windows of at most WINDOW matching deals each; [None]: one query."""
        if self._table != "deals":
            return [None]
        w = where(self._filters, "order_year")
        ranks = self._con.execute(f"SELECT list_rank FROM current_deals WHERE {w.sql} ORDER BY list_rank",
                                  w.params).fetchnumpy()["list_rank"]
        if len(ranks) <= self.WINDOW or np.ma.is_masked(ranks):  # few, or stored without ranks
            return [None]
        ends = [int(r) for r in ranks[self.WINDOW - 1::self.WINDOW]]
        if ends[-1] != int(ranks[-1]):
            ends.append(int(ranks[-1]))
        return list(zip([0, *ends[:-1]], ends))

    def __iter__(self) -> Iterator[bytes]:
        header = True
        while True:
            frame = self._result.fetch_df_chunk(self.VECTORS)
            if header or len(frame):
                yield csv_bytes(frame, header)
                header = False
            self.rows += len(frame)
            if not len(frame):
                ranks = next(self._windows, None)
                if ranks is None:
                    return
                self._result = self._con.execute(*export_query(self._table, self._filters, ranks))
