"""The dashboard's one read-only DuckDB connection per process, and what is cached beside it.

The ETL replaces the database file atomically (os.replace), so a connection
opened earlier keeps reading the old, still consistent file. Each callback
asks for a cursor; before handing one out we compare the file's inode, size
and mtime with those of the open connection and reopen when the file was
replaced, so a new load shows up without restarting the server (opening
attaches the file to a private instance and builds its cubes: see
queries.open_read_only).

Everything derived from a file (cubes, a search's hit tables) lives in that
file's connection, so a reload can never mix old and new data: the old
connection and its tables go when the last callback using them finishes.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dashboard import queries


@dataclass
class Workspace:
    """One opened file: its connection and the searches cached in it.

    A search's hits are two in-memory tables (queries.create_hits), kept for
    the SEARCHES_KEPT most recent terms and at most DEALS_KEPT deals in all.
    An evicted search's tables are dropped only GRACE seconds later, so a
    callback that took its name just before cannot find them gone.
    """
    con: duckdb.DuckDBPyConnection
    stamp: tuple
    searches: OrderedDict = field(default_factory=OrderedDict)  # term -> (table name or None, deals)
    doomed: list = field(default_factory=list)  # (drop after, table name)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _has_data: bool | None = None

    SEARCHES_KEPT = 64
    DEALS_KEPT = 30_000  # the whole real register fits; at 30 times its size, "F-16" (9,120) does
    GRACE = 120.0

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return queries.cursor(self.con)

    def has_data(self, cur: duckdb.DuckDBPyConnection) -> bool:
        """Whether the file holds any deals: asked once per file (it never changes under a
        workspace), not on every callback (~2 ms each)."""
        if self._has_data is None:
            self._has_data = bool(queries.has_data(cur))
        return self._has_data

    def hits(self, cur: duckdb.DuckDBPyConnection, term: str) -> str | None:
        """The name of `term`'s hit tables, created on first use; None when the search is too broad to keep."""
        with self.lock:
            if term in self.searches:
                self.searches.move_to_end(term)
                return self.searches[term][0]
            name = f"hits_{next(_names)}"
        deals = queries.create_hits(cur, name, term, self.DEALS_KEPT)
        with self.lock:
            if term in self.searches:  # another thread got there first: keep its tables
                self.doomed.append((time.monotonic() + self.GRACE, name))
                return self.searches[term][0]
            found = name if deals is not None else None
            self.searches[term] = (found, deals or 0)
            while len(self.searches) > 1 and (len(self.searches) > self.SEARCHES_KEPT
                                              or sum(n for _, n in self.searches.values()) > self.DEALS_KEPT):
                old, _ = self.searches.popitem(last=False)[1]
                if old:
                    self.doomed.append((time.monotonic() + self.GRACE, old))
            now = time.monotonic()
            due = [n for t, n in self.doomed if t <= now]
            self.doomed = [(t, n) for t, n in self.doomed if t > now]
        for old in due:
            queries.drop_hits(cur, old)
        return found


_names = itertools.count(1)


class Database:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._workspace: Workspace | None = None
        self._lock = threading.Lock()

    def _file_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    @property
    def stamp(self) -> tuple | None:
        """Identity of the file now on disk: part of every cache key."""
        return self._file_stamp()

    def workspace(self) -> Workspace | None:
        """The current file's workspace, or None when no (readable) database is there yet."""
        stamp = self._file_stamp()
        if stamp is None:
            return None
        with self._lock:
            if self._workspace is None or stamp != self._workspace.stamp:
                try:
                    con = queries.open_read_only(str(self.path))
                except duckdb.Error:
                    return None  # not (yet) an armsdash database: treat as empty
                # the previous workspace is left to the garbage collector: cursors
                # of callbacks still running keep its connection alive until they finish
                self._workspace = Workspace(con, stamp)
            return self._workspace

    def cursor(self) -> duckdb.DuckDBPyConnection | None:
        """A cursor on the current file, or None when no (readable) database is there yet."""
        ws = self.workspace()
        return ws.cursor() if ws is not None else None
