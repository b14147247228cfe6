"""The questions of issue 3 on the full real register, and the CSV download against the CLI."""

from __future__ import annotations

import pytest

from dashboard import queries
from dashboard.context import database, view
from dashboard.pages import country, deals, weapons


def test_s400_recipients_order_years_and_values(real_app):
    v = view("?search=S-400")
    frame = queries.weapon_deals(v.cur, v.filters)
    systems = frame[frame["designation"] == "S-400 Triumf"].set_index("recipient")
    assert set(frame["recipient"]) == {"Belarus", "China", "India", "Turkiye"}
    assert systems["order_year"].to_dict() == {"China": 2015, "Turkiye": 2017, "India": 2018, "Belarus": 2021}
    assert systems.loc["China", "reported_value"] == "3,000"
    assert systems.loc["India", "reported_value"] == "5,400"
    assert "FCS-4008" not in set(frame["designation"])
    outputs = weapons.render("?search=S-400")
    assert "4 recipients" in outputs[2]


def test_turkiye_largest_supplier_2019_is_russia(real_app):
    v = view("?from=2019&to=2019")
    shares = queries.partner_shares(v.cur, v.filters, "Turkiye", "recipient")
    assert shares.iloc[0]["name"] == "Russia"
    kpis = country.render("?entity=Turkey&from=2019&to=2019")[3]
    assert "'Russia'" in str(kpis)
    blocs = queries.bloc_shares(v.cur, queries.Filters(), "Turkiye")
    by_group = blocs[blocs["year"] == 2019].set_index("grp")["tiv"]
    assert set(by_group.index) >= {"NATO members", "Russia/Soviet Union"}
    assert by_group["Russia/Soviet Union"] / by_group.sum() > 0.4  # NATO members together: the rest


@pytest.mark.parametrize("query, args", [
    ("?recipient=Turkey&from=2010", ["--recipient", "Turkey", "--from", "2010"]),
    ("?search=S-400", ["--search", "S-400"]),
    ("?supplier=RUS&supplier=China&category=Air%20defence%20systems&to=2000",
     ["--supplier", "RUS", "--supplier", "China", "--category", "Air defence systems", "--to", "2000"]),
    ("?status=second-hand&rbloc=NATO&from=2000",
     ["--status", "second-hand", "--recipient-bloc", "NATO", "--from", "2000"]),
    ("?sbloc=CSTO&sbloc=Warsaw%20Pact&status=new&rbloc=eu",
     ["--supplier-bloc", "CSTO", "--supplier-bloc", "Warsaw Pact", "--status", "new", "--recipient-bloc", "eu"]),
])
def test_csv_download_equals_cli_export(real_app, real_db, run_cli_bytes, query, args):
    """The Deals page's link, fetched over HTTP (the streamed route), against `armsdash export`."""
    response = real_app.server.test_client().get(deals.DOWNLOAD_PATH + query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="armsdash-deals.csv"'
    assert response.is_streamed
    downloaded = response.get_data()
    assert downloaded.count(b"\n") > 10  # a selection with deals, not two empty files
    assert downloaded == run_cli_bytes("export", *args, "--db", str(real_db), "-o", "-")


def test_whole_register_download_equals_cli_export_in_chunks(real_app, real_db, run_cli_bytes):
    """All 29,515 deals: many chunks (and their seams) give the CLI's file, whose rows are counted."""
    response = real_app.server.test_client().get(deals.DOWNLOAD_PATH)
    chunks = list(response.response)
    assert len(chunks) > 3
    expected = run_cli_bytes("export", "--db", str(real_db), "-o", "-")
    assert b"".join(chunks) == expected and expected.count(b"\r\n") > 29_515


def test_download_of_nothing_or_a_bad_filter(real_app, real_db, run_cli_bytes):
    client = real_app.server.test_client()
    header_only = client.get(deals.DOWNLOAD_PATH + "?search=zzzzqqqq")
    assert header_only.status_code == 200
    assert header_only.get_data() == run_cli_bytes("export", "--search", "zzzzqqqq", "--db", str(real_db), "-o", "-")
    assert header_only.get_data().count(b"\r\n") == 1
    for query, reason in (("?recipient=Atlantis", "Atlantis"), ("?from=2020&to=2010", "after"),
                          ("?from=abc", "not a year")):
        bad = client.get(deals.DOWNLOAD_PATH + query)
        assert bad.status_code == 400 and bad.mimetype == "text/plain", query
        assert reason in bad.get_data(as_text=True), query


def test_database_replaced_on_disk_is_picked_up(tmp_path, register_bytes):
    """The ETL replaces the file atomically; the app must see the new data without a restart."""
    from dashboard.app import create_app
    from etl.load import load

    db = tmp_path / "live.duckdb"
    app = create_app(db)
    with app.server.test_request_context():
        assert database().cursor() is None  # first run: nothing yet
        first = tmp_path / "one.csv"
        lines = register_bytes.decode("latin-1").splitlines(keepends=True)
        first.write_bytes("".join(lines[:-2]).encode("latin-1"))  # three of the five deals
        load([first], db)
        assert queries.deal_count(database().cursor(), queries.Filters()) == 3
        second = tmp_path / "two.csv"
        second.write_bytes(register_bytes)
        load([second], db)
        assert queries.deal_count(database().cursor(), queries.Filters()) == 5


def test_production_server_without_pyarrow_shows_and_downloads_the_same(real_db, run_cli_bytes):
    """dashboard.wsgi keeps pyarrow out of the server process (memory): pages and CSV must not change."""
    import os
    import subprocess
    import sys

    code = """if True:
        import sys
        import dashboard.wsgi as w
        from dashboard.pages import country, deals, flows, overview, weapons
        assert sys.modules["pyarrow"] is None
        with w.server.test_request_context():
            for render, search in ((overview.render, ""), (country.render, "?entity=Turkey"),
                                   (weapons.render, "?search=S-400"), (flows.render, "?top=100")):
                assert "went wrong" not in str(render(search)), render
            sent = w.server.test_client().get(deals.DOWNLOAD_PATH + sys.argv[1])
            assert sent.status_code == 200
            sys.stdout.buffer.write(sent.get_data())
    """
    done = subprocess.run([sys.executable, "-c", code, "?status=second-hand&rbloc=NATO&recipient=Turkey"],
                          env={**os.environ, "ARMSDASH_DB": str(real_db)}, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout.count(b"\n") > 5
    assert done.stdout == run_cli_bytes("export", "--status", "second-hand", "--recipient-bloc", "NATO",
                                        "--recipient", "Turkey", "--db", str(real_db), "-o", "-")
