"""Every SQL statement of the dashboard, with values as bound parameters.

Selections come from etl.filters (the CLI's own filter code), so a chart and
`armsdash export` with the same filters see the same deals. Only names from
fixed whitelists (roles, sort columns) are ever put into the SQL text.
Results are small aggregates or one page of rows: nothing here returns a
whole table. Aggregates read in-memory cubes built when the file is opened
(prepare), so their cost follows the number of distinct combinations rather
than the number of deals (docs/benchmarks.md, scale).

Year semantics: aggregates of delivered TIV use the delivery year
(current_deliveries); deal lists use the order year (current_deals).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from etl.filters import Filters, Where, bloc_membership, where
from etl.normalise.entities import blocs

ROLES = {"supplier": "recipient", "recipient": "supplier"}  # role -> partner role
GRID_COLUMNS = (
    "recipient", "supplier", "order_year", "number_ordered", "designation", "description", "category",
    "number_delivered", "delivery_years", "status", "tiv_total_order", "tiv_delivered",
    "reported_value_usd_m", "reported_value_scope", "comments",
)
DEFAULT_ORDER = "list_rank"  # etl.db.LIST_ORDER, stored as each deal's position
BLOC_GROUPS = ("NATO members", "Russia/Soviet Union", "China", "Others")

Cur = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class Selection(Filters):
    """Filters whose designation search was already run: `hits` names its tables.

    The search is a regular expression over every deal's text (~15 ms on the
    full register, ~450 ms at 30 times its size); a view asks up to six
    queries. The first view with a term copies the matching deals, and their
    deliveries, into two small tables of the connection's in-memory catalog
    (see create_hits); every query of that and later views reads those
    instead of scanning the register. Anything that takes Filters (etl.export
    for the CSV) still sees `search` and runs the regex itself, so results are
    the same either way.
    """
    hits: str | None = None


# In-memory tables built when the file is opened (prepare) or a search first runs (create_hits).
# Their names are fixed here or made by store.py from a counter: never from user input.
BLOC_TABLE = "memory.main.bloc_members"  # (bloc, member, year): binding NATO's ~2,300 pairs cost ~4 ms a query
DELIVERY_CUBE = "memory.main.delivery_cube"  # year, supplier, recipient, category, status: tiv
FLOW_CUBE = "memory.main.flow_cube"  # year, supplier, recipient: tiv (2-2.5 times fewer rows)
DEAL_CUBE = "memory.main.deal_cube"
ENTITIES = "memory.main.entities"
YEARS = "memory.main.years"
HITS = "memory.main.{name}_{kind}"


@dataclass
class Scan(Where):
    """A WHERE clause and the table it applies to (a cube, a search's hits, or a current_* view)."""
    table: str = "current_deals"


def _bloc_clause(role: str, year_column: str) -> str:
    return f"({role}, {year_column}) IN (SELECT member, year FROM {BLOC_TABLE} WHERE bloc IN (SELECT unnest(?::VARCHAR[])))"


def _scan(f: Filters, kind: str, aggregate: bool, by_category: bool = False) -> Scan:
    """etl.filters.where over the smallest table that answers `f` exactly.

    Deliveries (kind "deliveries", year = delivery year) and deals ("deals",
    year = order year). Without a search, sums and counts come from the cubes:
    the register summed per supplier, recipient, category, status and year
    (or only per supplier, recipient and year when neither category nor
    status matters), whose size grows with the combinations that exist, not
    with the deals. Lists of deals (aggregate=False) read current_deals. With
    a cached search, everything reads that search's hit tables; a search too
    broad to cache falls back to the regex on the current_* views.
    """
    year_column = "year" if kind == "deliveries" else "order_year"
    hits = f.hits if isinstance(f, Selection) and f.search else None
    via_deal_id = False
    if hits:
        table, f = HITS.format(name=hits, kind=kind), replace(f, search=None)
    elif f.search or not aggregate:
        table, via_deal_id = f"current_{kind}", kind == "deliveries"
    elif kind == "deals":
        table = DEAL_CUBE
    else:
        table = DELIVERY_CUBE if by_category or f.categories or f.statuses else FLOW_CUBE
    w = where(replace(f, supplier_blocs=(), recipient_blocs=()), year_column, search_via_deal_id=via_deal_id)
    for role, names in (("supplier", f.supplier_blocs), ("recipient", f.recipient_blocs)):
        if names:
            w.add(_bloc_clause(role, year_column), list(names))
    return Scan(w.clauses, w.params, table)


def _deliveries(f: Filters, by_category: bool = False) -> Scan:
    return _scan(f, "deliveries", aggregate=True, by_category=by_category)


def _deal_count(f: Filters) -> Scan:
    return _scan(f, "deals", aggregate=True)


def _deals(f: Filters) -> Scan:
    return _scan(f, "deals", aggregate=False)


def _count(table: str) -> str:
    """How a scan counts deals: the deal cube holds counts, the other tables a row per deal."""
    return "coalesce(sum(deals), 0)" if table == DEAL_CUBE else "count(*)"


def _role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role {role!r}")
    return role


# --- connection ---------------------------------------------------------------------------

# One thread per connection: queries here take milliseconds, parallelism comes from the
# server's workers and threads, and each DuckDB thread keeps its own allocator caches
# (~10 MB of a worker's memory). The whole register is ~6 MB on disk: the limit only
# bounds what a pathological query could take. DuckDB's allocator (jemalloc) keeps what a query
# frees unless its background threads hand it back: a large sort's memory otherwise stayed in
# the worker for good (docs/benchmarks.md).
DUCKDB_CONFIG = {"threads": 1, "memory_limit": "256MB", "allocator_background_threads": True}


def open_read_only(path: str) -> Cur:
    """The database file attached read-only to a private in-memory instance, with its cubes built.

    DuckDB shares one instance per path within a process, so connecting to the
    same path again after the ETL replaced the file would return the old data;
    an attachment opens whatever file is at the path now.
    """
    con = duckdb.connect(":memory:", config=DUCKDB_CONFIG)
    con.execute("ATTACH ? AS armsdash (READ_ONLY)", [path])
    con.execute("USE armsdash")
    # refuse a file that is not an armsdash database, or one stored by a version before list_rank
    # (the dashboard then explains how to load data: loading the same file again upgrades it)
    con.execute("SELECT list_rank FROM current_deals LIMIT 0")
    prepare(con)
    return con


def prepare(con: Cur) -> None:
    """The in-memory tables every view reads: bloc membership, the two cubes, the entities.

    Built once per opened file (~25 ms for the real register, ~0.5 s at 30
    times its size) so that no chart scans every delivery: a chart's cost
    then follows the number of (supplier, recipient, category, status, year)
    combinations, ~41,000 for 60,000 deliveries, ~400,000 for 1.8 million.
    Built in one transaction, so the cubes and the views show one snapshot.
    """
    con.execute(f"CREATE TABLE {BLOC_TABLE} (bloc VARCHAR, member VARCHAR, year INTEGER)")
    for bloc in blocs():  # a handful of blocs: one INSERT each
        members, years = bloc_membership((bloc,))
        con.execute(f"INSERT INTO {BLOC_TABLE} SELECT ?, unnest(?::VARCHAR[]), unnest(?::INTEGER[])",
                    [bloc, members, years])
    con.execute("BEGIN TRANSACTION")
    con.execute(
        f"CREATE TABLE {DELIVERY_CUBE} AS SELECT d.year, d.supplier, d.recipient, d.category, x.status, "
        f"sum(d.tiv) AS tiv FROM current_deliveries d LEFT JOIN current_deals x USING (deal_id) "
        f"GROUP BY ALL ORDER BY ALL")
    con.execute(f"CREATE TABLE {FLOW_CUBE} AS SELECT year, supplier, recipient, sum(tiv) AS tiv "
                f"FROM {DELIVERY_CUBE} GROUP BY ALL ORDER BY ALL")
    con.execute(
        f"CREATE TABLE {DEAL_CUBE} AS SELECT order_year, supplier, recipient, category, status, count(*) AS deals "
        f"FROM current_deals GROUP BY ALL ORDER BY ALL")
    con.execute(
        f"CREATE TABLE {ENTITIES} AS SELECT name, role, any_value(iso3) AS iso3, any_value(kind) AS kind, "
        f"any_value(region) AS region FROM ("
        f" SELECT supplier AS name, 'supplier' AS role, supplier_iso3 AS iso3, supplier_kind AS kind, "
        f" supplier_region AS region FROM current_deals UNION ALL "
        f" SELECT recipient, 'recipient', recipient_iso3, recipient_kind, recipient_region FROM current_deals"
        f") GROUP BY name, role ORDER BY name, role")
    con.execute(
        f"CREATE TABLE {YEARS} AS SELECT min(order_year) AS first, "
        f"max(greatest(order_year, coalesce(last_delivery_year, order_year))) AS last FROM current_deals")
    con.execute("COMMIT")


def create_hits(cur: Cur, name: str, search: str, limit: int) -> int | None:
    """Copy the deals matching `search`, and their deliveries, into `name`'s hit tables.

    Returns the number of deals, or None (nothing created) when more than
    `limit` match: a search that broad is answered by the regex in each query
    rather than by holding a large copy in every server process.
    """
    deals, deliveries = HITS.format(name=name, kind="deals"), HITS.format(name=name, kind="deliveries")
    cur.execute("BEGIN TRANSACTION")
    try:
        w = where(Filters(search=search), "order_year")
        cur.execute(f"CREATE TABLE {deals} AS SELECT * EXCLUDE (search_text) FROM current_deals "
                    f"WHERE {w.sql} LIMIT ?", w.params + [limit + 1])
        n = cur.execute(f"SELECT count(*) FROM {deals}").fetchone()[0]
        if n > limit:
            cur.execute("ROLLBACK")
            return None
        cur.execute(f"CREATE TABLE {deliveries} AS SELECT d.*, x.status FROM current_deliveries d "
                    f"JOIN {deals} x USING (deal_id)")
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return n


def drop_hits(cur: Cur, name: str) -> None:
    for kind in ("deals", "deliveries"):
        cur.execute(f"DROP TABLE IF EXISTS {HITS.format(name=name, kind=kind)}")


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
    row = cur.execute(f"SELECT first, last FROM {YEARS}").fetchone()
    return (row[0] or 1950, row[1] or 2024)


def entity_names(cur: Cur) -> list[str]:
    rows = cur.execute(f"SELECT DISTINCT name FROM {ENTITIES} ORDER BY lower(name), name").fetchall()
    return [r[0] for r in rows]


def entity_info(cur: Cur, name: str) -> dict | None:
    row = cur.execute(f"SELECT name, iso3, kind, region FROM {ENTITIES} WHERE name = ? ORDER BY role DESC LIMIT 1",
                      [name]).fetchone()
    return dict(zip(("name", "iso3", "kind", "region"), row)) if row else None


# --- overview -------------------------------------------------------------------------------

def totals(cur: Cur, f: Filters) -> dict:
    d, w = _deliveries(f), _deal_count(f)
    row = cur.execute(
        f"SELECT sum(tiv), count(DISTINCT supplier), count(DISTINCT recipient), "
        f"(SELECT {_count(w.table)} FROM {w.table} WHERE {w.sql}) FROM {d.table} WHERE {d.sql}",
        w.params + d.params).fetchone()
    return dict(zip(("tiv", "suppliers", "recipients", "deals"), row))


def by_entity(cur: Cur, f: Filters, role: str) -> pd.DataFrame:
    """Delivered TIV per supplier or recipient, with ISO3 and kind (for the map and its side list)."""
    r, d = _role(role), _deliveries(f)
    return cur.execute(
        f"WITH t AS (SELECT {r} AS name, sum(tiv) AS tiv FROM {d.table} WHERE {d.sql} GROUP BY 1) "
        f"SELECT t.name, coalesce(e.iso3, '') AS iso3, coalesce(e.kind, 'unknown') AS kind, t.tiv "
        f"FROM t LEFT JOIN {ENTITIES} e ON e.name = t.name AND e.role = ? "
        f"ORDER BY t.tiv DESC NULLS LAST, t.name", d.params + [r]).df()


def _stacked(d: Scan, key: str, extra: tuple[str, list] = ("TRUE", [])) -> tuple[str, list]:
    """Delivered TIV per year and `key`, keys beyond the `top` largest (a parameter, last) as 'Others'."""
    clause, params = extra
    return (f"WITH d AS MATERIALIZED (SELECT year, {key} AS key, sum(tiv) AS tiv FROM {d.table} "
            f"WHERE {clause} AND {d.sql} GROUP BY ALL), "
            f"top AS (SELECT key FROM d GROUP BY key ORDER BY sum(tiv) DESC NULLS LAST, key LIMIT ?) "
            f"SELECT year, CASE WHEN key IN (SELECT key FROM top) THEN key ELSE 'Others' END AS key, "
            f"sum(tiv) AS tiv FROM d GROUP BY ALL ORDER BY year, key"), params + d.params


def tiv_by_year(cur: Cur, f: Filters, stack: str, top: int = 6) -> pd.DataFrame:
    """Delivered TIV per year and key: weapon category, or the top suppliers and 'Others'."""
    d = _deliveries(f, by_category=stack == "category")
    if stack == "category":
        sql = (f"SELECT year, coalesce(nullif(category, ''), 'Unknown') AS key, sum(tiv) AS tiv "
               f"FROM {d.table} WHERE {d.sql} GROUP BY ALL ORDER BY year, key")
        return cur.execute(sql, d.params).df()
    sql, params = _stacked(d, _role(stack))
    return cur.execute(sql, params + [top]).df()


def top_of(by_entity_frame: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """top_entities from a by_entity answer for the same filters and role (same order, same shares)."""
    total = by_entity_frame["tiv"].sum()
    top = by_entity_frame.head(n)[["name", "tiv"]]
    return top.assign(share=top["tiv"] / total if total else float("nan"))


def top_entities(cur: Cur, f: Filters, role: str, n: int = 10) -> pd.DataFrame:
    r, d = _role(role), _deliveries(f)
    return cur.execute(
        f"SELECT {r} AS name, sum(tiv) AS tiv, sum(tiv) / nullif(sum(sum(tiv)) OVER (), 0) AS share "
        f"FROM {d.table} WHERE {d.sql} GROUP BY 1 ORDER BY tiv DESC NULLS LAST, name LIMIT ?",
        d.params + [n]).df()


# --- deals ----------------------------------------------------------------------------------

def deal_count(cur: Cur, f: Filters) -> int:
    w = _deal_count(f)
    return int(cur.execute(f"SELECT {_count(w.table)} FROM {w.table} WHERE {w.sql}", w.params).fetchone()[0])


def deals_page(cur: Cur, f: Filters, sort: list[tuple[str, str]], offset: int, limit: int) -> pd.DataFrame:
    """One page of the deal table; sort columns and directions come from whitelists only."""
    w = _deals(f)
    order = ", ".join(f"{c} {'DESC' if d == 'desc' else 'ASC'} NULLS LAST"
                      for c, d in sort if c in GRID_COLUMNS)
    order = f"{order}, {DEFAULT_ORDER}" if order else DEFAULT_ORDER
    cols = ", ".join(("deal_id",) + GRID_COLUMNS)
    return cur.execute(
        f"SELECT {cols} FROM {w.table} WHERE {w.sql} ORDER BY {order} LIMIT ? OFFSET ?",
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
        f"SELECT {', '.join(WEAPON_COLUMNS)}, {REPORTED_VALUE} AS reported_value FROM {w.table} WHERE {w.sql} "
        f"ORDER BY order_year NULLS LAST, recipient, designation, deal_id LIMIT ?", w.params + [limit]).df()


def weapon_recipients(cur: Cur, f: Filters) -> pd.DataFrame:
    w = _deals(f)
    return cur.execute(
        f"SELECT recipient AS name, any_value(recipient_iso3) AS iso3, any_value(recipient_kind) AS kind, "
        f"count(*) AS deals, min(order_year) AS first_order, max(order_year) AS last_order "
        f"FROM {w.table} WHERE {w.sql} GROUP BY recipient ORDER BY deals DESC, name", w.params).df()


def top_designations(cur: Cur, f: Filters, n: int = 20) -> pd.DataFrame:
    """The most widely sold systems: a starting point before any search."""
    w = _deals(f)
    return cur.execute(
        f"SELECT designation, any_value(description) AS description, count(DISTINCT recipient) AS recipients, "
        f"count(*) AS deals, sum(tiv_total_order) AS tiv FROM {w.table} WHERE {w.sql} AND designation <> '' "
        f"GROUP BY designation ORDER BY recipients DESC, tiv DESC NULLS LAST, designation LIMIT ?",
        w.params + [n]).df()


# --- country profile ------------------------------------------------------------------------

def partners_by_year(cur: Cur, f: Filters, entity: str, role: str, top: int = 6) -> pd.DataFrame:
    """Delivered TIV per year and partner for `entity` in `role`; partners beyond `top` are 'Others'."""
    r, d = _role(role), _deliveries(f)
    sql, params = _stacked(d, ROLES[r], (f"{r} = ?", [entity]))
    return cur.execute(sql, params + [top]).df()


def partner_shares(cur: Cur, f: Filters, entity: str, role: str) -> pd.DataFrame:
    r, d = _role(role), _deliveries(f)
    p = ROLES[r]
    return cur.execute(
        f"SELECT {p} AS name, sum(tiv) AS tiv, sum(tiv) / nullif(sum(sum(tiv)) OVER (), 0) AS share "
        f"FROM {d.table} WHERE {r} = ? AND {d.sql} GROUP BY 1 ORDER BY tiv DESC NULLS LAST, name",
        [entity] + d.params).df()


def bloc_shares(cur: Cur, f: Filters, entity: str) -> pd.DataFrame:
    """Imports of `entity` per year by supplier group, NATO membership as of each delivery year."""
    d = _deliveries(f)
    nato, russia, china, others = BLOC_GROUPS
    return cur.execute(
        f"SELECT year, CASE "
        f" WHEN (supplier, year) IN (SELECT member, year FROM {BLOC_TABLE} WHERE bloc = ?) THEN ? "
        f" WHEN supplier IN ('Russia', 'Soviet Union') THEN ? WHEN supplier = 'China' THEN ? ELSE ? END AS grp, "
        f"sum(tiv) AS tiv FROM {d.table} WHERE recipient = ? AND {d.sql} GROUP BY ALL ORDER BY year",
        ["NATO", nato, russia, china, others, entity] + d.params).df()


def entity_deals(cur: Cur, f: Filters, entity: str, limit: int = 300) -> pd.DataFrame:
    w = _deals(f)
    cols = ", ".join(("deal_id",) + GRID_COLUMNS)
    return cur.execute(
        f"SELECT {cols} FROM {w.table} WHERE (supplier = ? OR recipient = ?) AND {w.sql} "
        f"ORDER BY order_year DESC NULLS LAST, tiv_total_order DESC NULLS LAST, deal_id LIMIT ?",
        [entity, entity] + w.params + [limit]).df()


# --- flows ----------------------------------------------------------------------------------

def flows(cur: Cur, f: Filters, n: int) -> tuple[pd.DataFrame, float | None]:
    """The n largest supplier->recipient flows of delivered TIV, and the selection's total."""
    d = _deliveries(f)
    frame = cur.execute(
        f"SELECT supplier, recipient, sum(tiv) AS tiv, sum(sum(tiv)) OVER () AS total FROM {d.table} "
        f"WHERE {d.sql} GROUP BY supplier, recipient QUALIFY sum(tiv) > 0 ORDER BY tiv DESC, supplier, recipient LIMIT ?",
        d.params + [n]).df()
    total = float(frame["total"].iloc[0]) if len(frame) else None
    return frame.drop(columns="total"), total
