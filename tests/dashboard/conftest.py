"""Dashboard fixtures: a small database built in code, app contexts, and Chromium options.

Browser tests use dash.testing's `dash_duo` with Debian's chromium and
chromium-driver (installed by .ci/run); pytest runs with dash's --headless.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from dashboard.app import create_app
from etl.load import load


def _root_conftest():
    """tests/conftest.py under its own name ("conftest" is this file here)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("armsdash_tests_root", Path(__file__).parents[1] / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root = _root_conftest()
write_register = _root.write_register


@pytest.fixture(scope="session")
def run_cli_bytes():
    def run(*args: str) -> bytes:
        done = _root.run_cli(*args)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout
    return run


def pytest_setup_options():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--window-size=1400,1000", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"):
        options.add_argument(flag)
    return options


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    """The inline register of tests/conftest.py (5 invented deals), loaded by the real load path."""
    folder = tmp_path_factory.mktemp("small")
    path = folder / "armsdash.duckdb"
    load([write_register(folder / "register.csv")], path)
    return path


@pytest.fixture
def register_bytes(tmp_path) -> bytes:
    return write_register(tmp_path / "register.csv").read_bytes()


@pytest.fixture
def small_app(small_db):
    app = create_app(small_db)
    with app.server.test_request_context():
        yield app


@pytest.fixture
def real_app(real_db):
    app = create_app(real_db, read_only=True)
    with app.server.test_request_context():
        yield app
