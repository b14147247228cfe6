"""SIPRI's TIV tables: read by content, stored beside the register, exported cell for cell."""

from __future__ import annotations

import csv
import io

import duckdb
import pandas as pd
import pytest

from etl.errors import UserError
from etl.export import TIV_COLUMNS
from etl.load import load
from etl.sources.detect import TIV_TABLE, detect_kind
from etl.sources.sipri_tiv import read_tiv
from etl.sources.text import read_text
from tests.conftest import ROWS, run_cli, sipri_file, write_register

SUPPLIERS = "tiv-exports-by-supplier-1950-2022.csv"
RECIPIENTS = "tiv-imports-by-recipient-1950-2022.csv"
CATEGORIES = "tiv-exports-by-category-1950-2022.csv"
CONTRACT = ["table", "entity", "year", "tiv"]


def read(path):
    return read_tiv(read_text(path))


def cell(cells: pd.DataFrame, entity: str, year: int) -> float:
    found = cells[(cells["entity"] == entity) & (cells["year"] == year)]["tiv"]
    assert len(found) == 1, f"{entity} {year}: {len(found)} cells"
    return float(found.iloc[0])


def semicolon_latin1(path, tmp_path, rename=("Cote d'Ivoire", "Côte d'Ivoire"), quoting=csv.QUOTE_MINIMAL):
    """The same table in the older shape: ';'-separated, Latin-1, padded with ';'."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=quoting)
    for row in rows:
        writer.writerow([cell.replace(*rename) for cell in row])
    target = tmp_path / f"old-{path.name}"
    target.write_bytes(out.getvalue().encode("latin-1"))
    return target


@pytest.mark.parametrize("name, table", [(SUPPLIERS, "exports_by_supplier"), (RECIPIENTS, "imports_by_recipient"),
                                         (CATEGORIES, "exports_by_category")])
def test_each_real_table_is_recognised_by_content(name, table):
    source = read_text(sipri_file(name))
    assert detect_kind(source) == TIV_TABLE
    assert read_tiv(source).table == table


def test_sipris_figures_are_kept_exactly():
    exports, imports = read(sipri_file(SUPPLIERS)).cells, read(sipri_file(RECIPIENTS)).cells
    assert cell(exports, "Russia", 2015) == 5927
    assert cell(imports, "Turkiye", 1950) == 117
    assert cell(imports, "Turkiye", 2015) == 445
    # '0' (under 0.5 million) is a figure; a blank cell (no deliveries) is no row
    assert cell(exports, "Albania", 2011) == 0
    assert exports[(exports["entity"] == "Russia") & (exports["year"] < 1992)].empty


def test_total_rows_and_columns_are_not_entities_but_check_the_cells():
    for name in (SUPPLIERS, RECIPIENTS, CATEGORIES):
        tiv = read(sipri_file(name))
        assert not tiv.cells["entity"].str.casefold().isin(["total", "totals"]).any()
        per_year = tiv.totals[tiv.totals["entity_raw"].isna()].set_index("year")["tiv"]
        gap = (tiv.cells.groupby("year")["tiv"].sum() - per_year).abs()
        assert len(per_year) == 73 and gap.max() <= 11  # SIPRI rounds every cell
        assert tiv.cells["year"].between(1950, 2022).all()


def test_entities_resolve_to_canonical_names_and_iso3():
    imports = read(sipri_file(RECIPIENTS)).cells
    assert imports["resolved"].all()
    turkiye = imports[imports["entity"] == "Turkiye"]
    assert set(turkiye["entity_iso3"]) == {"TUR"}
    assert set(imports.loc[imports["entity_raw"] == "African Union**", "entity_kind"]) == {"organisation"}
    categories = read(sipri_file(CATEGORIES)).cells
    assert set(categories["entity"]) <= {"Aircraft", "Air defence systems", "Armoured vehicles", "Artillery",
                                         "Engines", "Missiles", "Naval weapons", "Other", "Satellites",
                                         "Sensors", "Ships"}
    assert (categories["entity_iso3"] == "").all()


@pytest.mark.parametrize("name", [SUPPLIERS, RECIPIENTS, CATEGORIES])
def test_older_semicolon_latin1_shape_reads_the_same(tmp_path, name):
    new = read(sipri_file(name))
    old_path = semicolon_latin1(sipri_file(name), tmp_path)
    old = read_tiv(read_text(old_path))
    assert detect_kind(read_text(old_path)) == TIV_TABLE
    assert old.table == new.table and old.delimiter == ";"
    columns = ["entity", "year", "tiv"]
    pd.testing.assert_frame_equal(old.cells[columns], new.cells[columns])
    if name == RECIPIENTS:
        assert cell(old.cells, "Cote d'Ivoire", 1962) == cell(new.cells, "Cote d'Ivoire", 1962)
        assert "Côte d'Ivoire" in set(old.cells["entity_raw"])


def test_a_spreadsheet_that_quotes_every_cell(tmp_path):
    quoted = semicolon_latin1(sipri_file(SUPPLIERS), tmp_path, quoting=csv.QUOTE_ALL)
    assert quoted.read_text(encoding="latin-1").splitlines()[10].startswith('"";"1950";"1951"')
    assert detect_kind(read_text(quoted)) == TIV_TABLE
    assert cell(read(quoted).cells, "Russia", 2015) == 5927


def test_the_imports_title_reading_exports_to_all_is_still_imports():
    tiv = read(sipri_file(RECIPIENTS))
    assert "exports to all" in tiv.title and tiv.table == "imports_by_recipient"


def _table(title: str, rows: list[str]) -> str:
    return "\n".join([f'"{title}",,,,', "Generated: 1 January 2024,,,,", ",,,,", ",2020,2021,2022,Total",
                      *rows, "Total,1,2,3,6"]) + "\n"


def test_a_title_that_does_not_say_from_or_to_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(_table("TIV of arms exports, 2020-2022", ["France,1,2,3,6"]))
    with pytest.raises(UserError, match="does not say whether its rows are suppliers"):
        read(path)
    path.write_text(_table("TIV of arms exports, 2020-2022", ["Aircraft,1,2,3,6"]))
    assert read(path).table == "exports_by_category"


def test_two_rows_naming_one_entity_are_kept_apart_and_reported(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(_table("TIV of arms exports to all, 2020-2022", ["Turkey,1,,,1", "Turkiye,,2,3,5"]))
    tiv = read(path)
    assert sorted(zip(tiv.cells["entity_raw"], tiv.cells["year"])) == [("Turkey", 2020), ("Turkiye", 2021),
                                                                       ("Turkiye", 2022)]
    assert not any("kept apart" in n for n in tiv.notes)
    path.write_text(_table("TIV of arms exports to all, 2020-2022", ["Turkey,1,,,1", "Turkiye,2,2,3,7"]))
    assert any(n.startswith("rows naming one entity") and "Turkiye (Turkey, Turkiye)" in n for n in read(path).notes)


def test_a_cell_that_is_not_a_number_names_its_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(_table("TIV of arms exports from all, 2020-2022", ["France,1,two,3,6"]))
    with pytest.raises(UserError, match=r"line 5: 'two' for France in 2021 is not a number"):
        read(path)


# --- stored beside the register ---------------------------------------------------------

def snapshot_rows(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return (con.execute("SELECT snapshot_id, kind FROM snapshots ORDER BY 1").fetchall(),
                con.execute("SELECT count(*), (SELECT snapshot_id FROM current_snapshot) FROM current_deals").fetchone(),
                con.execute("SELECT table_name, count(*) FROM current_tiv GROUP BY 1 ORDER BY 1").fetchall())


def test_tiv_tables_and_registers_never_replace_each_other(tmp_path, db):
    load([write_register(tmp_path / "r.csv")], db)
    report = load([sipri_file(SUPPLIERS), sipri_file(RECIPIENTS)], db)
    assert report.snapshot_id is None and [t.snapshot_id for t in report.tiv] == [2, 3]
    snapshots, deals, tables = snapshot_rows(db)
    assert deals == (len(ROWS), 1)  # the register snapshot is still current
    assert tables == [("exports_by_supplier", 2613), ("imports_by_recipient", 7848)]
    load([write_register(tmp_path / "r2.csv", rows=ROWS[:2])], db)
    snapshots, deals, tables2 = snapshot_rows(db)
    assert deals == (2, 4) and tables2 == tables
    assert [k for _, k in snapshots] == ["register", "tiv_table", "tiv_table", "register"]
    with duckdb.connect(str(db), read_only=True) as con:
        kinds = con.execute("SELECT snapshot_id, kind, source FROM sources ORDER BY 1").fetchall()
    assert kinds[1:3] == [(2, "tiv_table", SUPPLIERS), (3, "tiv_table", RECIPIENTS)]


def test_a_newer_table_of_the_same_kind_replaces_only_that_kind(tmp_path, db):
    load([sipri_file(SUPPLIERS), sipri_file(CATEGORIES)], db)
    old = semicolon_latin1(sipri_file(SUPPLIERS), tmp_path, rename=("Russia", "Russian Federation"))
    report = load([old], db)
    assert [(t.table, t.unchanged) for t in report.tiv] == [("exports_by_supplier", False)]
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT table_name, source, count(*) FROM current_tiv GROUP BY ALL ORDER BY 1").fetchall()
        russia = con.execute("SELECT entity, entity_raw, tiv FROM current_tiv WHERE entity = 'Russia' "
                             "AND year = 2015").fetchall()
    assert rows == [("exports_by_category", CATEGORIES, 715), ("exports_by_supplier", old.name, 2613)]
    assert russia == [("Russia", "Russian Federation", 5927.0)]


def test_same_table_again_changes_nothing(db):
    load([sipri_file(CATEGORIES)], db)
    before = db.read_bytes()
    report = load([sipri_file(CATEGORIES)], db)
    assert report.unchanged and db.read_bytes() == before


def test_two_tables_of_one_kind_in_one_load_are_refused(tmp_path, db):
    old = semicolon_latin1(sipri_file(CATEGORIES), tmp_path)
    with pytest.raises(UserError, match="a second exports_by_category TIV table"):
        load([sipri_file(CATEGORIES), old], db)
    assert not db.exists()


# --- through the CLI ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiv_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("tiv") / "armsdash.duckdb"
    done = run_cli("load", sipri_file(SUPPLIERS), sipri_file(RECIPIENTS), sipri_file(CATEGORIES), "--db", db)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert "TIV table imports_by_recipient: 7,848 figures for 260 recipients" in out
    assert "the register was not touched" in out
    return db


def export(db, *args) -> pd.DataFrame:
    done = run_cli("export", "--table", "tiv", "--db", db, "-o", "-", *args)
    assert done.returncode == 0, done.stderr.decode()
    return pd.read_csv(io.BytesIO(done.stdout), dtype=str, keep_default_na=False)


def test_export_columns_follow_the_interface(tiv_db):
    frame = export(tiv_db)
    assert list(frame.columns[:4]) == CONTRACT and list(frame.columns) == TIV_COLUMNS
    assert len(frame) == 2613 + 7848 + 715
    assert set(frame["table"]) == {"exports_by_supplier", "imports_by_recipient", "exports_by_category"}
    assert not frame["entity"].str.casefold().eq("total").any()
    assert frame["source"].str.startswith("SIPRI Arms Transfers Database; tiv-").all()
    assert frame.loc[frame["table"] == "exports_by_supplier", "source"].str.endswith("data generated 2023-12-19").all()


def test_export_figures_and_filters(tiv_db):
    russia = export(tiv_db, "--supplier", "Russia", "--from", "2015", "--to", "2015")
    assert russia[CONTRACT].values.tolist() == [["exports_by_supplier", "Russia", "2015", "5927"]]
    turkey = export(tiv_db, "--recipient", "Turkey", "--to", "1950")
    assert turkey[CONTRACT].values.tolist() == [["imports_by_recipient", "Turkiye", "1950", "117"]]
    assert set(turkey["entity_iso3"]) == {"TUR"}
    both = export(tiv_db, "--supplier", "RUS", "--recipient", "TUR", "--category", "ships", "--from", "2015",
                  "--to", "2015")
    assert sorted(both["table"]) == ["exports_by_category", "exports_by_supplier", "imports_by_recipient"]


def test_export_tiv_refuses_filters_it_cannot_apply_and_says_when_nothing_is_loaded(tiv_db, tmp_path):
    done = run_cli("export", "--table", "tiv", "--search", "S-400", "--db", tiv_db, "-o", "-")
    assert done.returncode == 1 and "--table tiv takes only" in done.stderr.decode()
    empty = write_register(tmp_path / "r.csv")
    db = tmp_path / "only-register.duckdb"
    assert run_cli("load", empty, "--db", db).returncode == 0
    done = run_cli("export", "--table", "tiv", "--db", db, "-o", "-")
    err = done.stderr.decode()
    assert done.returncode == 1 and "no SIPRI TIV table loaded yet" in err and len(err.strip().splitlines()) == 1
