"""What every callback needs: the database, the parsed URL, and a safety net.

The database object sits in the Flask app's config, so several apps (tests)
can live in one process. `view()` turns a query string into a cursor and the
CLI's Filters, or into the reason there is nothing to show. `safe()` makes a
callback answer with a message instead of an HTTP 500 whatever happens.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import duckdb
import flask
from dash.exceptions import PreventUpdate

from dashboard import queries, state
from dashboard.store import Database
from etl.errors import UserError
from etl.filters import Filters

log = logging.getLogger("armsdash.dashboard")
INTERNAL = "Something went wrong while preparing this view; it has been logged. Try other filters."


def database() -> Database:
    return flask.current_app.config["ARMSDASH_DATABASE"]


def upload_allowed() -> bool:
    return not flask.current_app.config.get("ARMSDASH_READ_ONLY", False)


@dataclass
class View:
    params: state.Params
    cur: duckdb.DuckDBPyConnection | None = None
    filters: Filters | None = None
    problem: str | None = None  # a filter the data cannot answer, in words

    @property
    def no_data(self) -> bool:
        return self.cur is None

    @property
    def ok(self) -> bool:
        return self.cur is not None and self.filters is not None


def view(search: object) -> View:
    params = state.parse(search)
    ws = database().workspace()
    cur = ws.cursor() if ws is not None else None
    if cur is None or not ws.has_data(cur):
        return View(params)
    try:
        filters = state.filters(cur, params)
    except UserError as exc:
        return View(params, cur, problem=str(exc))
    if filters.search:
        filters = queries.Selection(**vars(filters), hits=ws.hits(cur, filters.search))
    return View(params, cur, filters)


def safe(fallback):
    """Decorator: on any exception log it and return `fallback(message)` instead of failing."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except PreventUpdate:
                raise
            except Exception:  # the last line before an HTTP 500: never let one through
                log.exception("callback %s failed", fn.__name__)
                return fallback(INTERNAL)
        return inner
    return wrap
