"""The "What changed" page: the current snapshot against the previous one, as `armsdash diff` sees it."""

from __future__ import annotations

import base64

from dashboard.app import create_app
from dashboard.pages import changes
from etl.load import load
from tests.dashboard.conftest import _root

ROWS = _root.ROWS


def test_one_snapshot_explains_there_is_nothing_to_compare(tmp_path):
    db = tmp_path / "one.duckdb"
    load([_root.write_register(tmp_path / "r.csv")], db)
    with create_app(db).server.test_request_context():
        message, items, rows = changes.render()
    assert "Only one release" in str(message) and items == [] and rows == []


def test_a_revised_release_shows_its_changes_and_downloads_the_cli_diff(tmp_path, run_cli_bytes):
    db = tmp_path / "two.duckdb"
    load([_root.write_register(tmp_path / "old.csv", rows=ROWS[:4])], db)
    revised = [list(r) for r in ROWS]
    revised[0][15] = "250"  # Doorman frigates: TIV delivered revised from 300
    load([_root.write_register(tmp_path / "new.csv", rows=revised)], db)
    with create_app(db).server.test_request_context():
        message, items, rows = changes.render()
        sent = changes.download(1)
    assert message is None
    by_change = {r["change"]: r for r in rows}
    assert set(by_change) == {"added", "changed"}
    assert by_change["added"]["designation"] == "T-129B ATAK"
    assert by_change["changed"]["designation"] == "Doorman"
    assert "tiv_delivered" in by_change["changed"]["changed_fields"]
    assert by_change["changed"]["tiv_delivered_change"] == -50
    assert any("1 added, 0 removed, 1 changed" in str(i) for i in items)
    cli = run_cli_bytes("diff", "snapshot:previous", "snapshot:current", "--db", str(db), "-o", "-")
    assert base64.b64decode(sent["content"]) == cli


def test_two_releases_without_differences_say_so(tmp_path):
    """Not "nothing matches these filters": the filters do not apply on this page."""
    db = tmp_path / "same.duckdb"
    load([_root.write_register(tmp_path / "a.csv")], db)
    load([_root.write_register(tmp_path / "b.csv", newline="\r\n")], db)  # another file, the same deals
    with create_app(db).server.test_request_context():
        message, items, rows = changes.render()
    assert "No differences" in str(message) and rows == []
    assert any("0 added, 0 removed, 0 changed" in str(i) for i in items)
