"""The Dash application: `create_app` for tests and WSGI servers, `run` for `armsdash serve`.

Production (several worker processes, each with its own read-only connection):

    ARMSDASH_DB=/srv/armsdash.duckdb uv run gunicorn --no-control-socket -w 4 -b 0.0.0.0:8050 \\
        'dashboard.wsgi:server'
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import dash

from dashboard import shell
from dashboard.context import log
from dashboard.store import Database

PAGES = ("overview", "country", "weapons", "deals", "flows", "about")
MAX_UPLOAD_BYTES = 40 * 1024 * 1024  # the full register is ~4 MB; base64 adds a third


def _on_error(err: Exception) -> None:
    """Last line of defence: a callback that still raised answers 'no update', not HTTP 500."""
    log.error("callback error: %s: %s", type(err).__name__, err)


def create_app(db_path: Path | str, read_only: bool = False) -> dash.Dash:
    app = dash.Dash(
        __name__, use_pages=True, pages_folder="", title="armsdash: SIPRI arms transfers",
        suppress_callback_exceptions=True, serve_locally=True, compress=True, on_error=_on_error,
        external_stylesheets=[],  # Bootstrap comes from assets/: no CDN, works offline
        update_title=None,
    )
    app.server.config.update(ARMSDASH_DATABASE=Database(db_path), ARMSDASH_READ_ONLY=read_only,
                             MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES)
    modules = [importlib.import_module(f"dashboard.pages.{name}") for name in PAGES]
    app.layout = shell.layout
    shell.register(app)
    for module in modules:
        module.register(app)
    return app


def run(host: str, port: int, db_path: Path | str, read_only: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(db_path, read_only=read_only)
    app.run(host=host, port=port, debug=False)
