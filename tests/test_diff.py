"""`armsdash diff`: deals paired by meaning across releases, on a constructed copy of the real register."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from etl.by_year import match
from etl.diff import COLUMNS, Side, comparable, compare
from etl.load import deal_ids, load
from etl.sources.sipri_by_year import read_by_year
from etl.sources.text import read_text
from tests.conftest import ROWS, run_cli, sipri_file, write_register

CONTRACT = ["change", "recipient", "supplier", "order_year", "designation", "changed_fields"]


@pytest.fixture(scope="module")
def release(register_deals):
    """The real register as NEW, and an OLD release built from it with known differences."""
    new = register_deals.reset_index(drop=True).copy()
    new["deal_id"] = deal_ids(new)
    rng = np.random.default_rng(4)
    old = new.copy()
    free = pd.Series(True, index=new.index)

    def pick(mask, n):
        chosen = rng.choice(new.index[mask & free], size=n, replace=False)
        free[chosen] = False
        return chosen

    # renames: SIPRI's own other spellings (those of its per-delivery-year export) in the old release
    per_year = read_by_year(read_text(sipri_file("us-exports-by-delivery-year-2025-04.csv"))).deals
    pairs = match(per_year, new).pairs
    spelled = pairs[pairs["level"] < 3].sample(60, random_state=1)
    old.loc[spelled["r"].to_numpy(), "designation"] = per_year["designation"].iloc[spelled["l"]].to_numpy()
    free[spelled["r"].to_numpy()] = False
    guardian = new.index[new["designation"] == "M-1117 Guardian"]
    old.loc[guardian, "designation"] = "ASV-150/M-1117"
    free[guardian] = False
    renamed = set(spelled["r"]) | set(guardian)

    revised = pick(new["tiv_delivered"].fillna(0) > 5, 50)
    old.loc[revised, "tiv_delivered"] = (new.loc[revised, "tiv_delivered"] * 0.9).round(2)
    old.loc[revised[:20], "number_delivered"] = new.loc[revised[:20], "number_delivered"] - 1
    moved = pick(new["order_year"] > 1960, 10)
    old.loc[moved, "order_year"] = new.loc[moved, "order_year"] - 1

    removed = pick(pd.Series(True, index=new.index), 40)  # in OLD only: dropped from NEW
    added_base = pick(pd.Series(True, index=new.index), 30)
    added = new.loc[added_base].copy()
    added["order_year"] = 2024
    added["designation"] = [f"Novel-{i} Prototype" for i in range(30)]
    added["number_ordered"] = 777
    added["tiv_delivered"] = added["tiv_delivered"].fillna(0) + 1.5
    added["comments"] = "added in the new release"
    added["deal_id"] = [f"added{i:011d}" for i in range(30)]
    new_release = pd.concat([new.drop(index=removed), added], ignore_index=True)
    expect = {"renamed": renamed, "revised": set(revised), "moved": set(moved), "removed": set(removed)}
    return Side("old", comparable(old)), Side("new", comparable(new_release)), expect, new


def test_known_changes_are_found_and_nothing_else(release):
    old, new, expect, _ = release
    d = compare(old, new)
    assert d.count("added") == 30
    assert d.count("removed") == 40
    n_changed = len(expect["renamed"]) + len(expect["revised"]) + len(expect["moved"])
    assert d.count("changed") == n_changed  # no spurious pair: every rename is one changed deal
    assert d.count("added") - d.count("removed") == len(new.deals) - len(old.deals)
    assert d.unchanged + d.count("changed") + d.count("removed") == len(old.deals)
    assert d.renamed == len(expect["renamed"]) and d.moved == 10
    assert set(d.rows.loc[d.rows["change"] == "added", "designation"]) == {f"Novel-{i} Prototype" for i in range(30)}


def test_changed_rows_name_their_fields_with_old_and_new_values(release):
    old, new, expect, base = release
    d = compare(old, new)
    changed = d.rows[d.rows["change"] == "changed"].set_index("deal_id_new")
    ids = base["deal_id"]
    guardian = changed.loc[ids[base["designation"] == "M-1117 Guardian"]]
    assert (guardian["changed_fields"] == "designation").all()
    assert (guardian["designation_old"] == "ASV-150/M-1117").all() and (guardian["designation"] == "M-1117 Guardian").all()
    revised = changed.loc[ids[sorted(expect["revised"])]]
    assert revised["changed_fields"].str.contains("tiv_delivered").all()
    one = revised.iloc[0]
    assert float(one["tiv_delivered_old"]) == pytest.approx(round(float(one["tiv_delivered_new"]) * 0.9, 2))
    assert one["tiv_delivered_change"] == pytest.approx(float(one["tiv_delivered_new"]) - float(one["tiv_delivered_old"]))
    moved = changed.loc[ids[sorted(expect["moved"])]]
    assert (moved["changed_fields"] == "order_year").all()
    assert (moved["order_year_old"].astype(int) == moved["order_year_new"].astype(int) - 1).all()
    assert list(d.rows.columns[:6]) == CONTRACT and list(d.rows.columns) == COLUMNS


def test_tiv_revised_in_total_adds_up(release):
    old, new, _, _ = release
    d = compare(old, new)
    assert d.tiv("added") + d.tiv("removed") + d.tiv("changed") == pytest.approx(
        new.deals["tiv"].sum() - old.deals["tiv"].sum(), abs=0.01)


def test_identical_releases_differ_in_nothing(release):
    _, _, _, base = release
    d = compare(Side("a", comparable(base)), Side("b", comparable(base.iloc[::-1])))
    assert d.rows.empty and d.unchanged == len(base)


# --- through the CLI, files and snapshots ------------------------------------------------------

def diff_cli(*args):
    done = run_cli("diff", *args, "-o", "-")
    assert done.returncode == 0, done.stderr.decode()
    return pd.read_csv(io.BytesIO(done.stdout), dtype=str, keep_default_na=False), done.stderr.decode()


def test_files_and_snapshots_through_the_cli(tmp_path, db):
    rows = [list(r) for r in ROWS]
    old_rows = [list(r) for r in rows]
    old_rows[2][0] = "Turkey"  # a country renamed between releases is not a change
    old_rows[4][6] = "T-129B"  # a system renamed is one changed deal
    old_rows[1][15] = "10"  # TIV delivered revised
    new_rows = rows[:3] + rows[4:] + [["Chile", "France", "2024", "", "1", "", "=Evil()", "frigate", "", "", "",
                                       "New", "", "100", "100", ""]]
    old = write_register(tmp_path / "old.csv", rows=old_rows)
    new = write_register(tmp_path / "new.csv", rows=new_rows)
    frame, summary = diff_cli(old, new)
    got = sorted(zip(frame["change"], frame["designation"], frame["changed_fields"]))
    assert got == [("added", "'=Evil()", ""), ("changed", "AS-365 Dauphin", "tiv_delivered"),
                   ("changed", "T-129B ATAK", "designation"), ("removed", "48N6", "")]
    assert "1 added, 1 removed, 2 changed (1 with a new designation" in summary
    assert "added − removed = +0 = 5 − 5 deals" in summary
    load([old], db)
    load([new], db)
    by_snapshot, _ = diff_cli("snapshot:1", "snapshot:2", "--db", db)
    assert by_snapshot.drop(columns=["deal_id_old", "deal_id_new"]).equals(
        frame.drop(columns=["deal_id_old", "deal_id_new"]))
    assert diff_cli("snapshot:previous", "snapshot:current", "--db", db)[0].equals(by_snapshot)
    listing = run_cli("snapshots", "--db", db)
    lines = listing.stdout.decode().splitlines()
    assert lines[0].startswith("snapshot:1  register") and "old.csv" in lines[0]
    assert lines[1].endswith("[current]") and "new.csv (data generated 2024-02-02)" in lines[1]


def test_bad_references_are_one_line_errors(tmp_path, db):
    load([write_register(tmp_path / "r.csv")], db)
    done = run_cli("diff", "snapshot:7", "snapshot:current", "--db", db, "-o", "-")
    assert done.returncode == 1 and "snapshot:7: no such register snapshot" in done.stderr.decode()
    done = run_cli("diff", "snapshot:previous", "snapshot:current", "--db", db, "-o", "-")
    assert done.returncode == 1 and "snapshot:previous" in done.stderr.decode()
    done = run_cli("diff", tmp_path / "missing.csv", "snapshot:current", "--db", db, "-o", "-")
    err = done.stderr.decode()
    assert done.returncode == 1 and "missing.csv: no such file" in err and len(err.strip().splitlines()) == 1


def test_the_real_register_against_its_own_snapshot(real_register, real_db, tmp_path):
    target = tmp_path / "diff.csv"
    done = run_cli("diff", real_register, "snapshot:current", "--db", real_db, "-o", target)
    assert done.returncode == 0, done.stderr.decode()
    assert "0 added, 0 removed, 0 changed" in done.stdout.decode() and "29,515 unchanged" in done.stdout.decode()
    assert target.read_text().splitlines() == [",".join(COLUMNS)]


def test_deals_with_empty_values_on_both_sides_are_unchanged(tmp_path):
    """An empty TIV delivered (no deliveries yet) is the same value in both releases, not a change."""
    from etl.diff import compare, open_side
    from tests.conftest import ROWS, write_register

    old = write_register(tmp_path / "old.csv", rows=ROWS[:4])
    new = write_register(tmp_path / "new.csv", rows=ROWS)
    result = compare(open_side(str(old), tmp_path / "none.duckdb"), open_side(str(new), tmp_path / "none.duckdb"))
    assert result.rows["change"].tolist() == ["added"] and result.unchanged == 4
