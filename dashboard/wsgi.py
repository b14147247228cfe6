"""WSGI entry for gunicorn: `gunicorn 'dashboard.wsgi:server'`.

Public deployments are read-only (no upload) unless ARMSDASH_ALLOW_UPLOAD=1.
"""

import ctypes
import os
import sys


def _pandas_without_pyarrow() -> None:
    """Keep pyarrow out of the server process (before anything imports pandas).

    pandas loads pyarrow when it can and then stores strings in Arrow; the
    dashboard's frames are small aggregates and pages, where that gains nothing,
    while it costs each worker ~50 MB (the libraries, and Arrow copies of
    strings): 235 MB -> 190 MB RSS after browsing every page (docs/benchmarks.md).
    pandas then keeps strings as Python objects; query results and the CSV
    download are the same (tests/dashboard/test_real_data.py). The ETL (CLI) keeps pyarrow.
    ARMSDASH_PYARROW=1 turns this off.
    """
    if os.environ.get("ARMSDASH_PYARROW") != "1" and "pandas" not in sys.modules:
        sys.modules.setdefault("pyarrow", None)  # `import pyarrow` now fails: pandas' optional path


_pandas_without_pyarrow()

from dashboard.app import create_app  # noqa: E402  (after the pyarrow decision)
from etl.settings import default_db  # noqa: E402


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas (as MALLOC_ARENA_MAX=2 would), before the worker starts threads.

    glibc gives each new thread its own arena (up to 8 per core) and keeps what
    is freed in it; with gunicorn's threads a worker's memory grew by tens of MB
    for no speed gain on small requests (docs/benchmarks.md).
    """
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


_fewer_malloc_arenas()
app = create_app(default_db(), read_only=os.environ.get("ARMSDASH_ALLOW_UPLOAD") != "1")
server = app.server
