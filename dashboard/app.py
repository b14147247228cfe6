"""The Dash application: `create_app` for tests and WSGI servers, `run` for `armsdash serve`.

Production (several worker processes, each with its own read-only connection):

    ARMSDASH_DB=/srv/armsdash.duckdb uv run gunicorn --no-control-socket -w 4 -b 0.0.0.0:8050 \\
        'dashboard.wsgi:server'
"""

from __future__ import annotations

import importlib
import logging
import re
from pathlib import Path

import dash
import flask
from dash.exceptions import DependencyException
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler

from dashboard import shell
from dashboard.context import log
from dashboard.store import Database

PAGES = ("overview", "country", "weapons", "deals", "flows", "about", "changes")
MAX_UPLOAD_BYTES = 40 * 1024 * 1024  # the full register is ~4 MB; base64 adds a third


def _on_error(err: Exception) -> None:
    """Last line of defence: a callback that still raised answers 'no update', not HTTP 500."""
    log.error("callback error: %s: %s", type(err).__name__, err)


# 'unsafe-inline' for styles only: Plotly and AG Grid inject <style> elements at run
# time. Scripts are 'self' plus the hashes of Dash's few inline scripts (the
# renderer start and clientside callbacks), so injected markup cannot run code.
CSP = ("default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin"}


def _props_ok(item, id_text: str) -> bool:
    """One {id, property}, or a list of them where the declared id is an ALL/ALLSMALLER wildcard."""
    many = id_text.startswith("{") and ('["ALL"]' in id_text or '["ALLSMALLER"]' in id_text)
    if many != isinstance(item, list):
        return False
    return all(isinstance(i, dict) and isinstance(i.get("id"), (str, dict)) and isinstance(i.get("property"), str)
               for i in (item if many else [item]))


def _callback_request_ok(app: dash.Dash, body) -> bool:
    """The shape every browser request has: a registered output, inputs and state as declared."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return False
    output, outputs = body["output"], body.get("outputs")
    spec = app.callback_map.get(output)
    if spec is None:
        return False
    if output.startswith(".."):
        parts = output[2:-2].split("...")
        if not isinstance(outputs, list) or len(outputs) != len(parts) \
                or not all(_props_ok(o, part) for o, part in zip(outputs, parts)):
            return False
    elif not _props_ok(outputs, output):
        return False
    for key in ("inputs", "state"):
        items, declared = body.get(key, []), spec.get(key, [])
        if not isinstance(items, list) or len(items) != len(declared) \
                or not all(_props_ok(i, d["id"]) for i, d in zip(items, declared)):
            return False
    # one wildcard pattern matches the same components wherever it appears
    lengths: dict[str, set[int]] = {}
    pairs = list(zip(outputs, parts)) if output.startswith("..") else [(outputs, output)]
    for key in ("inputs", "state"):
        pairs += [(i, d["id"]) for i, d in zip(body.get(key, []), spec.get(key, []))]
    for item, id_text in pairs:
        if isinstance(item, list):
            pattern = id_text if id_text.endswith("}") else id_text.rsplit(".", 1)[0]  # outputs end in .prop
            lengths.setdefault(pattern, set()).add(len(item))
    if any(len(n) > 1 for n in lengths.values()):
        return False
    changed = body.get("changedPropIds", [])
    return isinstance(changed, list) and all(isinstance(c, str) for c in changed)


def _harden(app: dash.Dash) -> None:
    """Security headers on every response, and no HTTP 500 for requests no browser would send.

    Hostile input is tested in tests/dashboard/test_security.py (docs/reliability.md).
    The script hashes can only be known once Dash has collected its inline
    scripts, which happens on the first request; they are computed then, once.
    """
    @app.server.after_request
    def headers(response):
        config = app.server.config
        if "ARMSDASH_CSP" not in config:
            config["ARMSDASH_CSP"] = CSP.format(hashes=" ".join(app.csp_hashes()))
        response.headers["Content-Security-Policy"] = config["ARMSDASH_CSP"]
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        return response

    @app.server.before_request
    def refuse_malformed_callback_requests():
        """Dash's dispatcher trusts the request's shape: `[]`, `{}`, an unknown output or a
        wrong number of inputs raised inside Dash (HTTP 500). Anything a browser would
        not send is a 400 here; the parsed body is cached, so Dash does not parse it again."""
        if flask.request.method == "POST" and flask.request.path.endswith("/_dash-update-component"):
            if not _callback_request_ok(app, flask.request.get_json(silent=True)):
                return "Malformed callback request", 400, {"Content-Type": "text/plain; charset=utf-8"}
        return None

    @app.server.errorhandler(Exception)
    def dispatch_error(exc):
        """What still escapes Dash's dispatcher is a request the app cannot answer: logged, and a 400.

        Exceptions inside our callbacks never get here (`on_error`); HTTP errors keep their code.
        """
        if isinstance(exc, HTTPException):
            return exc
        log.exception("request %s failed in Dash", flask.request.path[:100])
        if flask.request.path.endswith("/_dash-update-component"):
            return "Malformed callback request", 400, {"Content-Type": "text/plain; charset=utf-8"}
        return "Internal error", 500, {"Content-Type": "text/plain; charset=utf-8"}

    @app.server.errorhandler(DependencyException)
    def unknown_script(_exc):
        """Dash answers a request for a script it does not serve with an exception (HTTP 500)."""
        return "Not found", 404, {"Content-Type": "text/plain; charset=utf-8"}


# Dash's first script: @babel/polyfill (core-js 2 and regenerator-runtime) for browsers of 2015.
# Evaluating it was ~170 ms of every cold page load on these machines, and core-js swaps in
# its own slower String.prototype.trim etc.; browsers that run plotly.js 4 need none of it but
# regenerator-runtime, which Dash's bundles call and assets/js/regenerator-runtime.js defines
# before them (docs/benchmarks.md).
POLYFILL = re.compile(r'<script src="[^"]*/dash/deps/polyfill@[^"]*"></script>\s*')


class _Dash(dash.Dash):
    def interpolate_index(self, **kwargs) -> str:
        kwargs["scripts"] = POLYFILL.sub("", kwargs["scripts"], count=1)
        return super().interpolate_index(**kwargs)


def create_app(db_path: Path | str, read_only: bool = False) -> dash.Dash:
    app = _Dash(
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
    _harden(app)
    _cache_static_compression(app)
    # Dash lists and registers its scripts on a worker's first request, but marks that done
    # before doing it: concurrent first requests of a fresh threaded worker (a browser fetching
    # a dozen scripts) got 404s for scripts and a blank page. Do it now, before serving.
    with app.server.test_request_context("/"):
        app._setup_server()
    return app


class _StaticCompressionCache:
    """flask-compress's cache, for the app's own files only (scripts, CSS, the world map).

    Without it every page load compresses ~4 MB of JavaScript again (~100 ms of a
    worker's CPU); callback answers are never cached. Keyed by encoding and path
    (the files change only with a new release, i.e. a restart), at most MAX
    entries, so odd URLs cannot grow it.
    """
    PREFIXES = ("/_dash-component-suites/", "/assets/")
    MAX = 100

    def __init__(self):
        self._items: dict[str, bytes] = {}

    def _static(self, key: str) -> bool:
        return key.split(";", 1)[-1].startswith(self.PREFIXES)

    def get(self, key: str) -> bytes | None:
        return self._items.get(key) if self._static(key) else None

    def set(self, key: str, value: bytes) -> None:
        if self._static(key) and (key in self._items or len(self._items) < self.MAX):
            self._items[key] = value


def _cache_static_compression(app: dash.Dash) -> None:
    from flask_compress import Compress  # the instance Dash made for compress=True

    for hook in app.server.after_request_funcs.get(None, []):
        owner = getattr(hook, "__self__", None)
        if isinstance(owner, Compress) and owner.cache is None:
            owner.cache, owner.cache_key = _StaticCompressionCache(), lambda request: request.path


def run(host: str, port: int, db_path: Path | str, read_only: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(db_path, read_only=read_only)
    app.run(host=host, port=port, debug=False, request_handler=_QuietHandler)


class _QuietHandler(WSGIRequestHandler):
    """`armsdash serve` says "Server: armsdash", not Werkzeug's and Python's versions."""

    def version_string(self) -> str:
        return "armsdash"
