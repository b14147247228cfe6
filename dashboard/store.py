"""The dashboard's one read-only DuckDB connection per process.

The ETL replaces the database file atomically (os.replace), so a connection
opened earlier keeps reading the old, still consistent file. Each callback
asks for a cursor; before handing one out we compare the file's inode, size
and mtime with those of the open connection and reopen when the file was
replaced, so a new load shows up without restarting the server (opening
attaches the file to a private instance: see queries.open_read_only).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import duckdb

from dashboard import queries


class Database:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stamp: tuple | None = None
        self._lock = threading.Lock()
        self._searches: OrderedDict[tuple, tuple[str, ...] | None] = OrderedDict()

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

    def cursor(self) -> duckdb.DuckDBPyConnection | None:
        """A cursor on the current file, or None when no (readable) database is there yet."""
        stamp = self._file_stamp()
        if stamp is None:
            return None
        with self._lock:
            if self._con is None or stamp != self._stamp:
                try:
                    con = queries.open_read_only(str(self.path))
                except duckdb.Error:
                    return None  # not (yet) an armsdash database: treat as empty
                # the previous connection is left to the garbage collector: cursors
                # of callbacks still running keep it alive until they finish
                self._con, self._stamp = con, stamp
                self._searches.clear()
            con = self._con
        return queries.cursor(con)

    SEARCHES_KEPT = 32
    MAX_IDS = 5000  # beyond this, binding the ids is no faster than the regex: keep memory small

    def search_ids(self, cur: duckdb.DuckDBPyConnection, term: str) -> tuple[str, ...] | None:
        """Deal ids matching a search, run once per (file, term) rather than in every query of a view.

        None when the search matches too many deals to be worth binding. Keyed by
        the open file's stamp, so a reload never serves ids of the old data (a
        request racing a reload may compute with the older cursor once).
        """
        key = (self._stamp, term)
        with self._lock:
            if key in self._searches:
                self._searches.move_to_end(key)
                return self._searches[key]
        ids = queries.matching_deal_ids(cur, term)
        found = ids if len(ids) <= self.MAX_IDS else None
        with self._lock:
            self._searches[key] = found
            while len(self._searches) > self.SEARCHES_KEPT:
                self._searches.popitem(last=False)
        return found

