"""The filters users give (`--recipient Turkey --search S-400 ...`), as SQL.

One implementation serves the CLI's export and the dashboard, so a view on
screen and `armsdash export` with the same filters select the same deals.
Every value reaches DuckDB as a bound parameter; only fixed column names are
ever put into the SQL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import duckdb

from etl.errors import UserError
from etl.normalise.entities import bloc_members, blocs, match_entities
from etl.normalise.text import text_key
from etl.normalise.weapons import CATEGORIES

MAX_SEARCH_LENGTH = 200

# User terms for a deal's status: "second-hand" covers SIPRI's two second-hand statuses.
STATUSES = {
    "new": ("New",),
    "second-hand": ("Second hand", "Second hand but modernized"),
    "second hand": ("Second hand", "Second hand but modernized"),
    "second hand but modernized": ("Second hand but modernized",),
}
# Years for which bloc membership is spelled out as (name, year) pairs for SQL.
BLOC_YEARS = range(1945, 2051)


@dataclass(frozen=True)
class Filters:
    suppliers: tuple[str, ...] = ()  # canonical names
    recipients: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    categories: tuple[str, ...] = ()
    search: str | None = None
    statuses: tuple[str, ...] = ()  # SIPRI's status values
    supplier_blocs: tuple[str, ...] = ()  # member of any, as of the row's year
    recipient_blocs: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self == Filters()


@dataclass
class Where:
    clauses: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)

    def add(self, clause: str, *params) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "TRUE"


def search_pattern(term: str) -> str | None:
    """RE2 pattern for a designation search, None when the term has no letters or digits.

    A term matches at the start of a word and may run on into letters but not
    digits: "S-400" finds "S-400 Triumf" but not "FCS-4008"; "T-129" finds
    "T-129B ATAK"; "F-1" does not find "F-16". Spaces and hyphens in the term
    match either, so "Leopard 2" also finds "Leopard-2A4".
    """
    parts = [p for p in re.split(r"[\s\-]+", term.strip()) if p]
    if not parts or not any(ch.isalnum() for ch in term):
        return None
    body = r"[\s\-]?".join(re.escape(p) for p in parts)
    return r"(?i)(^|[^\p{L}\p{N}])" + body + r"([^\p{N}]|$)"


def search_digits(term: str) -> str:
    """The longest run of digits the search's match must contain ("" if none): a cheap pre-filter.

    `contains(search_text, '400')` is exact (digits have no case) and about
    five times cheaper than the regular expression, which then runs only on
    the rows that contain it.
    """
    runs = [run for part in re.split(r"[\s\-]+", term) for run in re.findall(r"[0-9]+", part)]
    return max(runs, key=len, default="")


def resolve_entities_terms(con: duckdb.DuckDBPyConnection, terms: list[str], role: str) -> tuple[str, ...]:
    """Canonical names for user terms (SIPRI name, alias or ISO3, any case); unknown term -> UserError."""
    assert role in ("supplier", "recipient")
    names: list[str] = []
    loaded: dict[str, list[str]] | None = None
    for term in terms:
        found = match_entities(term)
        if not found:  # a name in the data but absent from the reference table
            if loaded is None:
                loaded = {}
                for (name,) in con.execute(f"SELECT DISTINCT {role} FROM current_deals").fetchall():
                    loaded.setdefault(text_key(name), []).append(name)
            found = loaded.get(text_key(term), [])
        if not found:
            raise UserError(f"--{role} {term!r}: no such supplier or recipient (use a SIPRI name, an alias or an ISO3 code)")
        names.extend(found)
    return tuple(dict.fromkeys(names))


def resolve_categories(terms: list[str]) -> tuple[str, ...]:
    by_key = {text_key(c): c for c in CATEGORIES}
    out = []
    for term in terms:
        if text_key(term) not in by_key:
            raise UserError(f"--category {term!r}: not a SIPRI weapon category (one of: {', '.join(CATEGORIES)})")
        out.append(by_key[text_key(term)])
    return tuple(out)


def resolve_statuses(terms: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for term in terms:
        found = STATUSES.get(text_key(term).replace("_", " ")) or STATUSES.get(term.strip().lower())
        if not found:
            raise UserError(f"--status {term!r}: not a deal status (one of: new, second-hand)")
        out.extend(found)
    return tuple(dict.fromkeys(out))


def resolve_blocs(terms: list[str]) -> tuple[str, ...]:
    by_key = {text_key(b): b for b in blocs()}
    out = []
    for term in terms:
        if text_key(term) not in by_key:
            raise UserError(f"--bloc {term!r}: not a known bloc (one of: {', '.join(blocs())})")
        out.append(by_key[text_key(term)])
    return tuple(dict.fromkeys(out))


@cache
def bloc_membership(names: tuple[str, ...]) -> tuple[list[str], list[int]]:
    """(member, year) pairs of any of the blocs, as two parallel lists for bound parameters.

    Spelled out per year so SQL needs no date logic: the rule of membership
    (joined, left) lives in one place, `bloc_members`.
    """
    pairs = sorted({(m, y) for bloc in names for y in BLOC_YEARS for m in bloc_members(bloc, y)})
    return [m for m, _ in pairs], [y for _, y in pairs]


def build_filters(con, suppliers=(), recipients=(), year_from=None, year_to=None, categories=(), search=None,
                  statuses=(), supplier_blocs=(), recipient_blocs=()) -> Filters:
    if search is not None and len(search) > MAX_SEARCH_LENGTH:
        raise UserError(f"--search: longer than {MAX_SEARCH_LENGTH} characters")
    if year_from is not None and year_to is not None and year_from > year_to:
        raise UserError(f"--from {year_from} is after --to {year_to}")
    return Filters(
        suppliers=resolve_entities_terms(con, list(suppliers), "supplier"),
        recipients=resolve_entities_terms(con, list(recipients), "recipient"),
        year_from=year_from, year_to=year_to,
        categories=resolve_categories(list(categories)),
        search=search or None,
        statuses=resolve_statuses(list(statuses)),
        supplier_blocs=resolve_blocs(list(supplier_blocs)),
        recipient_blocs=resolve_blocs(list(recipient_blocs)),
    )


def where(filters: Filters, year_column: str, search_via_deal_id: bool = False) -> Where:
    """WHERE clause over a table with supplier, recipient, category and `year_column`."""
    w = Where()
    if filters.suppliers:
        w.add("supplier IN (SELECT unnest(?::VARCHAR[]))", list(filters.suppliers))
    if filters.recipients:
        w.add("recipient IN (SELECT unnest(?::VARCHAR[]))", list(filters.recipients))
    if filters.year_from is not None:
        w.add(f"{year_column} >= ?", filters.year_from)
    if filters.year_to is not None:
        w.add(f"{year_column} <= ?", filters.year_to)
    if filters.categories:
        w.add("category IN (SELECT unnest(?::VARCHAR[]))", list(filters.categories))
    if filters.search:
        pattern = search_pattern(filters.search)
        if pattern is None:
            w.add("FALSE")
        else:
            match = "contains(search_text, ?) AND regexp_matches(search_text, ?)"
            if search_via_deal_id:
                match = f"deal_id IN (SELECT deal_id FROM current_deals WHERE {match})"
            w.add(match, search_digits(filters.search), pattern)
    if filters.statuses:
        clause = "status IN (SELECT unnest(?::VARCHAR[]))"
        if search_via_deal_id:  # deliveries carry no status
            clause = f"deal_id IN (SELECT deal_id FROM current_deals WHERE {clause})"
        w.add(clause, list(filters.statuses))
    for role, names in (("supplier", filters.supplier_blocs), ("recipient", filters.recipient_blocs)):
        if names:  # membership as of the order year (deals) or delivery year (deliveries)
            members, years = bloc_membership(names)
            w.add(f"({role}, {year_column}) IN (SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]))",
                  members, years)
    return w
