"""Every SQL statement of the dashboard, with values as bound parameters.

Selections come from etl.filters (the CLI's own filter code), so a chart and
`armsdash export` with the same filters see the same deals. Only names from
fixed whitelists (roles, sort columns) are ever put into the SQL text.
Results are small aggregates or one page of rows: nothing here returns a
whole table.

Year semantics: aggregates of delivered TIV use the delivery year
(current_deliveries); deal lists use the order year (current_deals).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from etl.filters import Filters, bloc_membership, search_pattern, where
from etl.normalise.entities import blocs

ROLES = {"supplier": "recipient", "recipient": "supplier"}  # role -> partner role
GRID_COLUMNS = (
    "recipient", "supplier", "order_year", "number_ordered", "designation", "description", "category",
    "number_delivered", "delivery_years", "status", "tiv_total_order", "tiv_delivered",
    "reported_value_usd_m", "reported_value_scope", "comments",
)
DEFAULT_ORDER = "recipient, supplier, order_year, designation, deal_id"
BLOC_GROUPS = ("NATO members", "Russia/Soviet Union", "China", "Others")

Cur = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class Selection(Filters):
    """Filters whose designation search was already run: the matching deal ids.

    The search is a regular expression over every deal's text (~15 ms on the
    full register); a page asks up to six queries per view, so running it once
    per request and binding the ids instead saves most of a searched view's
    time. Anything that takes Filters (etl.export for the CSV) still sees
    `search` and runs the regex itself, so results are the same either way.
    """
    deal_ids: tuple[str, ...] | None = None


def matching_deal_ids(cur: Cur, search: str) -> tuple[str, ...]:
    pattern = search_pattern(search)
    if pattern is None:
        return ()
    row = cur.execute("SELECT list(deal_id ORDER BY deal_id) FROM current_deals WHERE regexp_matches(search_text, ?)",
                      [pattern]).fetchone()
    return tuple(row[0] or ())


# Bloc membership per year, (bloc, member, year) from etl.filters.bloc_membership, as a table
# of the connection's own in-memory catalog: binding the ~2,300 (member, year) pairs of
# NATO to every query cost ~4 ms a query, ~20 ms a view.
BLOC_TABLE = "memory.main.bloc_members"


def _bloc_clause(role: str, year_column: str) -> str:
    return f"({role}, {year_column}) IN (SELECT member, year FROM {BLOC_TABLE} WHERE bloc IN (SELECT unnest(?::VARCHAR[])))"


def _where(f: Filters, year_column: str, via_deal_id: bool):
    """etl.filters.where, with the search and bloc terms answered from this process's caches."""
    extra: list[tuple[str, list]] = []
    if isinstance(f, Selection) and f.search and f.deal_ids is not None:
        extra.append(("deal_id IN (SELECT unnest(?::VARCHAR[]))", list(f.deal_ids)))
        f = replace(f, search=None)
    for role, names in (("supplier", f.supplier_blocs), ("recipient", f.recipient_blocs)):
        if names:
            extra.append((_bloc_clause(role, year_column), list(names)))
    w = where(replace(f, supplier_blocs=(), recipient_blocs=()), year_column, search_via_deal_id=via_deal_id)
    for clause, param in extra:
        w.add(clause, param)
    return w


def _deliveries(f: Filters):
    return _where(f, "year", True)


def _deals(f: Filters):
    return _where(f, "order_year", False)


def _role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role {role!r}")
    return role


# --- connection ---------------------------------------------------------------------------

# One thread per connection: queries here take milliseconds, parallelism comes from the
# server's workers and threads, and each DuckDB thread keeps its own allocator caches
# (~10 MB of a worker's memory). The whole register is ~6 MB on disk: the limit only
# bounds what a pathological query could take.
DUCKDB_CONFIG = {"threads": 1, "memory_limit": "256MB"}


def open_read_only(path: str) -> Cur:
    """The database file attached read-only to a private in-memory instance.

    DuckDB shares one instance per path within a process, so connecting to the
    same path again after the ETL replaced the file would return the old data;
    an attachment opens whatever file is at the path now.
    """
    con = duckdb.connect(":memory:", config=DUCKDB_CONFIG)
    con.execute("ATTACH ? AS armsdash (READ_ONLY)", [path])
    con.execute("USE armsdash")
    con.execute("SELECT 1 FROM current_deals LIMIT 0")  # refuse a file that is not an armsdash database
    con.execute(f"CREATE TABLE {BLOC_TABLE} (bloc VARCHAR, member VARCHAR, year INTEGER)")
    for bloc in blocs():  # a handful of blocs: one INSERT each
        members, years = bloc_membership((bloc,))
        con.execute(f"INSERT INTO {BLOC_TABLE} SELECT ?, unnest(?::VARCHAR[]), unnest(?::INTEGER[])",
                    [bloc, members, years])
    return con


def cursor(con: Cur) -> Cur:
    """A cursor for one callback (cursors start in the in-memory catalog)."""
    cur = con.cursor()
    cur.execute("USE armsdash")
    return cur


# --- reference and provenance -------------------------------------------------------------

def has_data(cur: Cur) -> bool:
    return cur.execute("SELECT count(*) > 0 FROM current_deals").fetchone()[0]


def provenance(cur: Cur) -> pd.DataFrame:
    """The loaded files: what users must be able to cite."""
    return cur.execute(
        "SELECT source, generated, strftime(generated_date, '%Y-%m-%d') AS generated_date, "
        "strftime(loaded_at, '%Y-%m-%d %H:%M') AS loaded_at, records, sha256 "
        "FROM current_sources ORDER BY source"
    ).df()


def year_range(cur: Cur) -> tuple[int, int]:
    row = cur.execute(
        "SELECT min(order_year), max(greatest(order_year, coalesce(last_delivery_year, order_year))) "
        "FROM current_deals"
    ).fetchone()
    return (row[0] or 1950, row[1] or 2024)


def entity_names(cur: Cur) -> list[str]:
    rows = cur.execute(
        "SELECT DISTINCT name FROM (SELECT supplier AS name FROM current_deals "
        "UNION ALL SELECT recipient FROM current_deals) ORDER BY lower(name)"
    ).fetchall()
    return [r[0] for r in rows]


def entity_info(cur: Cur, name: str) -> dict | None:
    row = cur.execute(
        "SELECT name, iso3, kind, region FROM ("
        " SELECT supplier AS name, supplier_iso3 AS iso3, supplier_kind AS kind, supplier_region AS region "
        " FROM current_deals WHERE supplier = ? UNION ALL "
        " SELECT recipient, recipient_iso3, recipient_kind, recipient_region FROM current_deals WHERE recipient = ?"
        ") LIMIT 1", [name, name]).fetchone()
    return dict(zip(("name", "iso3", "kind", "region"), row)) if row else None


# --- overview -------------------------------------------------------------------------------

def totals(cur: Cur, f: Filters) -> dict:
    d, w = _deliveries(f), _deals(f)
    row = cur.execute(
        f"SELECT sum(tiv), count(DISTINCT supplier), count(DISTINCT recipient), "
        f"(SELECT count(*) FROM current_deals WHERE {w.sql}) FROM current_deliveries WHERE {d.sql}",
        w.params + d.params).fetchone()
    return dict(zip(("tiv", "suppliers", "recipients", "deals"), row))


def by_entity(cur: Cur, f: Filters, role: str) -> pd.DataFrame:
    """Delivered TIV per supplier or recipient, with ISO3 and kind (for the map and its side list)."""
    r, d = _role(role), _deliveries(f)
    return cur.execute(
        f"WITH t AS (SELECT {r} AS name, any_value({r}_iso3) AS iso3, sum(tiv) AS tiv "
        f"  FROM current_deliveries WHERE {d.sql} GROUP BY 1), "
        f"k AS (SELECT {r} AS name, any_value({r}_kind) AS kind FROM current_deals GROUP BY 1) "
        f"SELECT t.name, coalesce(t.iso3, '') AS iso3, coalesce(k.kind, 'unknown') AS kind, t.tiv "
        f"FROM t LEFT JOIN k USING (name) ORDER BY t.tiv DESC NULLS LAST, t.name", d.params).df()


def tiv_by_year(cur: Cur, f: Filters, stack: str, top: int = 6) -> pd.DataFrame:
    """Delivered TIV per year and key: weapon category, or the top suppliers and 'Others'."""
    d = _deliveries(f)
    if stack == "category":
        sql = (f"SELECT year, coalesce(nullif(category, ''), 'Unknown') AS key, sum(tiv) AS tiv "
               f"FROM current_deliveries WHERE {d.sql} GROUP BY ALL ORDER BY year, key")
        return cur.execute(sql, d.params).df()
    r = _role(stack)
    sql = (f"WITH d AS MATERIALIZED (SELECT year, {r} AS key, tiv FROM current_deliveries WHERE {d.sql}), "
           f"top AS (SELECT key FROM d GROUP BY key ORDER BY sum(tiv) DESC NULLS LAST, key LIMIT ?) "
           f"SELECT year, CASE WHEN key IN (SELECT key FROM top) THEN key ELSE 'Others' END AS key, "
           f"sum(tiv) AS tiv FROM d GROUP BY ALL ORDER BY year, key")
    return cur.execute(sql, d.params + [top]).df()


def top_entities(cur: Cur, f: Filters, role: str, n: int = 10) -> pd.DataFrame:
    r, d = _role(role), _deliveries(f)
    return cur.execute(
        f"SELECT {r} AS name, sum(tiv) AS tiv, sum(tiv) / nullif(sum(sum(tiv)) OVER (), 0) AS share "
        f"FROM current_deliveries WHERE {d.sql} GROUP BY 1 ORDER BY tiv DESC NULLS LAST, name LIMIT ?",
        d.params + [n]).df()


# --- deals ----------------------------------------------------------------------------------

def deal_count(cur: Cur, f: Filters) -> int:
    w = _deals(f)
    return cur.execute(f"SELECT count(*) FROM current_deals WHERE {w.sql}", w.params).fetchone()[0]


def deals_page(cur: Cur, f: Filters, sort: list[tuple[str, str]], offset: int, limit: int) -> pd.DataFrame:
    """One page of the deal table; sort columns and directions come from whitelists only."""
    w = _deals(f)
    order = ", ".join(f"{c} {'DESC' if d == 'desc' else 'ASC'} NULLS LAST"
                      for c, d in sort if c in GRID_COLUMNS)
    order = f"{order}, {DEFAULT_ORDER}" if order else DEFAULT_ORDER
    cols = ", ".join(("deal_id",) + GRID_COLUMNS)
    return cur.execute(
        f"SELECT {cols} FROM current_deals WHERE {w.sql} ORDER BY {order} LIMIT ? OFFSET ?",
        w.params + [limit, offset]).df()


def deal(cur: Cur, deal_id: str) -> dict | None:
    frame = cur.execute(
        "SELECT d.* EXCLUDE (search_text), s.generated AS source_generated "
        "FROM current_deals d LEFT JOIN current_sources s USING (source) WHERE d.deal_id = ?",
        [deal_id]).df()
    return None if frame.empty else frame.iloc[0].to_dict()


# --- weapon systems -------------------------------------------------------------------------

WEAPON_COLUMNS = (
    "deal_id", "recipient", "recipient_iso3", "supplier", "designation", "description", "order_year",
    "order_year_estimated", "number_ordered", "number_delivered", "delivery_years", "first_delivery_year",
    "last_delivery_year", "status", "reported_value_usd_m", "reported_value_usd_m_max",
    "reported_value_scope", "reported_value_text", "tiv_total_order", "comments",
)


_MONEY = "regexp_replace(format('{{:,.3f}}', {0}), '\\.?0+$', '')"
REPORTED_VALUE = (  # '3,000', '300–500', '2,700 (part of larger deal)'
    "CASE WHEN reported_value_usd_m IS NULL THEN '' ELSE " + _MONEY.format("reported_value_usd_m")
    + " || CASE WHEN reported_value_usd_m_max > reported_value_usd_m THEN '–' || "
    + _MONEY.format("reported_value_usd_m_max") + " ELSE '' END"
    + " || CASE WHEN reported_value_scope = 'part of' THEN ' (part of larger deal)' ELSE '' END END"
)


def weapon_deals(cur: Cur, f: Filters, limit: int = 500) -> pd.DataFrame:
    w = _deals(f)
    return cur.execute(
        f"SELECT {', '.join(WEAPON_COLUMNS)}, {REPORTED_VALUE} AS reported_value FROM current_deals WHERE {w.sql} "
        f"ORDER BY order_year NULLS LAST, recipient, designation, deal_id LIMIT ?", w.params + [limit]).df()


def weapon_recipients(cur: Cur, f: Filters) -> pd.DataFrame:
    w = _deals(f)
    return cur.execute(
        f"SELECT recipient AS name, any_value(recipient_iso3) AS iso3, any_value(recipient_kind) AS kind, "
        f"count(*) AS deals, min(order_year) AS first_order, max(order_year) AS last_order "
        f"FROM current_deals WHERE {w.sql} GROUP BY recipient ORDER BY deals DESC, name", w.params).df()


def top_designations(cur: Cur, f: Filters, n: int = 20) -> pd.DataFrame:
    """The most widely sold systems: a starting point before any search."""
    w = _deals(f)
    return cur.execute(
        f"SELECT designation, any_value(description) AS description, count(DISTINCT recipient) AS recipients, "
        f"count(*) AS deals, sum(tiv_total_order) AS tiv FROM current_deals WHERE {w.sql} AND designation <> '' "
        f"GROUP BY designation ORDER BY recipients DESC, tiv DESC NULLS LAST, designation LIMIT ?",
        w.params + [n]).df()


# --- country profile ------------------------------------------------------------------------

def partners_by_year(cur: Cur, f: Filters, entity: str, role: str, top: int = 6) -> pd.DataFrame:
    """Delivered TIV per year and partner for `entity` in `role`; partners beyond `top` are 'Others'."""
    r, d = _role(role), _deliveries(f)
    p = ROLES[r]
    return cur.execute(
        f"WITH d AS MATERIALIZED (SELECT year, {p} AS key, tiv FROM current_deliveries WHERE {r} = ? AND {d.sql}), "
        f"top AS (SELECT key FROM d GROUP BY key ORDER BY sum(tiv) DESC NULLS LAST, key LIMIT ?) "
        f"SELECT year, CASE WHEN key IN (SELECT key FROM top) THEN key ELSE 'Others' END AS key, "
        f"sum(tiv) AS tiv FROM d GROUP BY ALL ORDER BY year, key", [entity] + d.params + [top]).df()


def partner_shares(cur: Cur, f: Filters, entity: str, role: str) -> pd.DataFrame:
    r, d = _role(role), _deliveries(f)
    p = ROLES[r]
    return cur.execute(
        f"SELECT {p} AS name, sum(tiv) AS tiv, sum(tiv) / nullif(sum(sum(tiv)) OVER (), 0) AS share "
        f"FROM current_deliveries WHERE {r} = ? AND {d.sql} GROUP BY 1 ORDER BY tiv DESC NULLS LAST, name",
        [entity] + d.params).df()


def bloc_shares(cur: Cur, f: Filters, entity: str) -> pd.DataFrame:
    """Imports of `entity` per year by supplier group, NATO membership as of each delivery year."""
    d = _deliveries(f)
    nato, russia, china, others = BLOC_GROUPS
    return cur.execute(
        f"SELECT year, CASE "
        f" WHEN (supplier, year) IN (SELECT member, year FROM {BLOC_TABLE} WHERE bloc = ?) THEN ? "
        f" WHEN supplier IN ('Russia', 'Soviet Union') THEN ? WHEN supplier = 'China' THEN ? ELSE ? END AS grp, "
        f"sum(tiv) AS tiv FROM current_deliveries WHERE recipient = ? AND {d.sql} GROUP BY ALL ORDER BY year",
        ["NATO", nato, russia, china, others, entity] + d.params).df()


def entity_deals(cur: Cur, f: Filters, entity: str, limit: int = 300) -> pd.DataFrame:
    w = _deals(f)
    cols = ", ".join(("deal_id",) + GRID_COLUMNS)
    return cur.execute(
        f"SELECT {cols} FROM current_deals WHERE (supplier = ? OR recipient = ?) AND {w.sql} "
        f"ORDER BY order_year DESC NULLS LAST, tiv_total_order DESC NULLS LAST, deal_id LIMIT ?",
        [entity, entity] + w.params + [limit]).df()


# --- flows ----------------------------------------------------------------------------------

def flows(cur: Cur, f: Filters, n: int) -> tuple[pd.DataFrame, float | None]:
    """The n largest supplier->recipient flows of delivered TIV, and the selection's total."""
    d = _deliveries(f)
    frame = cur.execute(
        f"SELECT supplier, recipient, sum(tiv) AS tiv, sum(sum(tiv)) OVER () AS total FROM current_deliveries "
        f"WHERE {d.sql} GROUP BY supplier, recipient QUALIFY sum(tiv) > 0 ORDER BY tiv DESC, supplier, recipient LIMIT ?",
        d.params + [n]).df()
    total = float(frame["total"].iloc[0]) if len(frame) else None
    return frame.drop(columns="total"), total
