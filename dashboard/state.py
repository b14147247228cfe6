"""The view's state lives in the URL query string, so every view is a link.

Keys mirror the CLI's export options (docs/interface.md) so a link and a
command line read alike: `supplier`, `recipient` and `category` repeat,
`from`/`to` are years, `search` is the designation search; the dashboard adds
`status`, `sbloc`/`rbloc` (supplier/recipient bloc) and page keys such as
`entity`. Anything hostile is cut down here before it reaches the query
layer: at most a few values per key, short strings, years as integers.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlencode

import duckdb

from etl.errors import UserError
from etl.filters import MAX_SEARCH_LENGTH, Filters, build_filters

GLOBAL_KEYS = ("from", "to", "search", "supplier", "recipient", "category", "status", "sbloc", "rbloc")
LIST_KEYS = {"supplier", "recipient", "category", "status", "sbloc", "rbloc"}
MAX_QUERY = 4000
MAX_VALUES = 30
MAX_VALUE = 200
YEARS = (1900, 2100)

Params = dict[str, list[str]]


def parse(search: object) -> Params:
    """Query string -> {key: [values]}; never raises, whatever the browser sends."""
    if not isinstance(search, str) or not search:
        return {}
    text = search[1:] if search.startswith("?") else search
    try:
        raw = parse_qs(text[:MAX_QUERY], keep_blank_values=False, max_num_fields=200)
    except ValueError:
        return {}
    out: Params = {}
    for key, values in raw.items():
        vals = [v.strip()[:MAX_VALUE + 1] for v in values if v.strip()][:MAX_VALUES]
        if vals and len(key) <= 20:
            out[key] = vals
    return out


def encode(params: dict[str, object]) -> str:
    """{key: value or list} -> "?a=1&b=x" (empty values dropped; "" when nothing is left)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((key, str(v)) for v in values if v is not None and str(v).strip() != "")
    return "?" + urlencode(pairs) if pairs else ""


def one(params: Params, key: str, default: str | None = None) -> str | None:
    values = params.get(key)
    return values[0] if values else default


def choice(params: Params, key: str, allowed: tuple[str, ...]) -> str:
    """A page option from a fixed set; anything else falls back to the first."""
    value = one(params, key)
    return value if value in allowed else allowed[0]


def year(params: Params, key: str) -> int | None:
    value = one(params, key)
    if value is None:
        return None
    if not value.lstrip("-").isdigit() or not YEARS[0] <= int(value) <= YEARS[1]:
        raise UserError(f"{key}={value[:20]!r}: not a year between {YEARS[0]} and {YEARS[1]}")
    return int(value)


def filters(con: duckdb.DuckDBPyConnection, params: Params) -> Filters:
    """The same Filters the CLI builds from the same terms; UserError names a bad term."""
    search = one(params, "search")
    if search is not None and len(search) > MAX_SEARCH_LENGTH:
        raise UserError(f"search: longer than {MAX_SEARCH_LENGTH} characters")
    return build_filters(
        con,
        suppliers=params.get("supplier", []), recipients=params.get("recipient", []),
        year_from=year(params, "from"), year_to=year(params, "to"),
        categories=params.get("category", []), search=search,
        statuses=params.get("status", []),
        supplier_blocs=params.get("sbloc", []), recipient_blocs=params.get("rbloc", []),
    )


def without_parties(f: Filters) -> Filters:
    """Filters for a country profile: the profiled entity replaces supplier/recipient filters."""
    return replace(f, suppliers=(), recipients=(), supplier_blocs=(), recipient_blocs=())


def status_terms(f: Filters) -> list[str]:
    """Status values as the filter bar shows them."""
    if not f.statuses:
        return []
    return ["new"] if f.statuses == ("New",) else ["second-hand"] if "New" not in f.statuses else []


def query_string(query: dict) -> str:
    """The keyword arguments of a page's layout(**query) back as the query string its callbacks read."""
    return encode(from_query(query))


def from_query(query: dict) -> Params:
    """The keyword arguments of a page's layout(**query) (str, or list when repeated) -> Params."""
    pairs = [(k, v) for k, vals in query.items()
             for v in (vals if isinstance(vals, list) else [vals]) if isinstance(v, str)]
    return parse("?" + urlencode(pairs))
