"""Weapon categories: the mapping must reproduce SIPRI's own categories.

Unit tests pin the behaviour journalists rely on (old and new spellings land in
the same category, nothing is guessed); real-data tests compare against
SIPRI's per-deal categories (US per-year register) and SIPRI's category totals.
"""

from __future__ import annotations


import pandas as pd
import pytest

from etl.normalise.text import text_key
from etl.normalise.weapons import CATEGORIES, CategoryMapping, categorise, reference_mapping
from etl.reference import ReferenceError, reference_table
from tests.conftest import sipri_file


# --- unit tests on inline fixtures -------------------------------------------

VINTAGE_PAIRS = [
    ("APC", "armoured personnel carrier", "Armoured vehicles"),
    ("APC/IFV", "armoured personnel carrier", "Armoured vehicles"),
    ("IFV", "infantry fighting vehicle", "Armoured vehicles"),
    ("AIFV", "infantry fighting vehicle", "Armoured vehicles"),
    ("ARV", "armoured recovery vehicle", "Armoured vehicles"),
    ("AAV", "armoured personnel carrier", "Armoured vehicles"),
    ("SRAAM", "short-range air-to-air missile", "Missiles"),
    ("BVRAAM", "long-range air-to-air missile", "Missiles"),
    ("SSM", "surface-to-surface missile", "Missiles"),
    ("ASM", "air-to-surface missile", "Missiles"),
    ("AShM", "anti-ship missile", "Missiles"),
    ("ATGM", "anti-tank missile", "Missiles"),
    ("SAM", "surface-to-air missile", "Missiles"),
    ("MANPADS", "portable SAM", "Missiles"),
    ("SSM launcher", "surface-to-surface missile launcher", "Artillery"),
    ("MRL", "multiple rocket launcher", "Artillery"),
    ("SPG", "self-propelled gun", "Artillery"),
    ("AAG", "anti-aircraft gun", "Air defence systems"),
    ("SP AD system", "self-propelled air-defence system", "Air defence systems"),
    ("FGA aircraft", "fighter/ground attack aircraft", "Aircraft"),
    ("ASW helicopter", "anti-submarine helicopter", "Aircraft"),
    ("AEW&C aircraft", "airborne early-warning aircraft", "Aircraft"),
    ("MP aircraft", "maritime patrol aircraft", "Aircraft"),
    ("OPV", "patrol ship", "Ships"),
    ("FAC", "missile boat", "Ships"),
    ("MCM ship", "mine countermeasures ship", "Ships"),
    ("air search radar", "air-search radar", "Sensors"),
    ("aircraft EO system", "aircraft electro-optical system", "Sensors"),
    ("combat heli radar", "combat helicopter radar", "Sensors"),
    ("ASW sonar", "anti-submarine sonar", "Sensors"),
]


@pytest.mark.parametrize(("short", "long", "category"), VINTAGE_PAIRS)
def test_abbreviated_and_spelled_out_vintages_agree(short, long, category):
    result = categorise(pd.Series([short, long]))
    assert list(result["category"]) == [category, category]
    assert list(result["category_source"]) == ["table", "table"]


def test_matching_ignores_case_accents_and_whitespace():
    raw = pd.Series(["  apc ", "Armoured supply vehicle", "SONAR", "FGA\u00a0 Aircraft", "\tsam system\n"])
    result = categorise(raw)
    assert list(result["category"]) == [
        "Armoured vehicles", "Armoured vehicles", "Sensors", "Aircraft", "Air defence systems",
    ]
    assert set(result["category_source"]) == {"table"}


@pytest.mark.parametrize(
    ("description", "category"),
    [
        ("MALE UAV", "Aircraft"),
        ("light combat aircraft", "Aircraft"),
        ("guided-missile destroyer", "Ships"),
        ("landing ship tank", "Ships"),
        ("anti-aircraft missile", "Missiles"),
        ("man portable air defence system", "Missiles"),
        ("SAM launcher", "Air defence systems"),
        ("SP howitzer", "Artillery"),
        ("turboshaft engine", "Engines"),
        ("ELINT system", "Sensors"),
        ("naval gun turret", "Naval weapons"),
        ("AIFV turret", "Other"),
        ("armoured personnel carrier/IFV", "Armoured vehicles"),
    ],
)
def test_unknown_descriptions_fall_back_to_rules(description, category):
    result = categorise(pd.Series([description]))
    assert (result["category"].iloc[0], result["category_source"].iloc[0]) == (category, "rule")


def test_unmatched_descriptions_stay_unresolved_and_index_is_kept():
    raw = pd.Series(["naval mine", "", None, "APC"], index=[7, 3, 3, 9])
    result = categorise(raw)
    assert result.index.equals(raw.index)
    assert list(result["category"]) == ["", "", "", "Armoured vehicles"]
    assert list(result["category_source"]) == ["unresolved"] * 3 + ["table"]


def _mapping(table=(), rules=(), overrides=None) -> CategoryMapping:
    return CategoryMapping.from_frames(
        pd.DataFrame(list(table), columns=["description", "category"]),
        pd.DataFrame(list(rules), columns=["pattern", "category"]),
        None if overrides is None else pd.DataFrame(overrides, columns=["designation", "description", "category"]),
    )


def test_designation_override_applies_only_to_its_pair():
    mapping = _mapping(
        table=[("coastal defence system", "Artillery")],
        overrides=[("Some CDS", "coastal defence system", "Missiles")],
    )
    result = mapping.categorise(
        pd.Series(["coastal defence system", "Coastal defence system", "coastal defence system"]),
        pd.Series(["some  cds", "Other CDS", "SOME CDS"]),
    )
    assert list(result["category"]) == ["Missiles", "Artillery", "Missiles"]
    assert list(result["category_source"]) == ["override", "table", "override"]


def test_invalid_tables_report_every_violation_at_once():
    with pytest.raises(ReferenceError) as error:
        _mapping(
            table=[("APC", "Armoured vehicles"), (" apc", "Armored vehicles")],
            rules=[("radar(", "Sensors"), ("sonar", "Sonars")],
            overrides=[("X", "APC", "Tanks"), ("x", "apc", "Aircraft")],
        )
    message = str(error.value)
    for fragment in ["'Armored vehicles'", "duplicate key 'apc'", "'radar('", "'Sonars'", "'Tanks'", "('x', 'apc')"]:
        assert fragment in message


def test_reference_tables_are_valid_and_rules_reproduce_the_table():
    """Rules must agree with every table row, so unseen vintages get the same categories."""
    mapping = reference_mapping()
    assert len(CATEGORIES) == 11
    table = reference_table("weapon_categories.csv", ["description", "category"])
    assert (table["note"].str.strip() != "").all()
    rules_only = CategoryMapping(table={}, overrides={}, rules=mapping.rules)
    got = rules_only.categorise(table["description"])["category"]
    wrong = table.loc[got != table["category"], "description"].tolist()
    assert not wrong, f"rules disagree with the table for {wrong}"


# --- real data ------------------------------------------------------------------


@pytest.fixture(scope="module")
def register(register_deals) -> pd.DataFrame:
    """The 2025 register as the real reader yields it (4 broken records rejoined)."""
    frame = register_deals[["supplier", "recipient", "order_year", "designation", "description",
                            "delivery_years", "tiv_delivered"]].copy()
    frame["tiv"] = frame["tiv_delivered"].astype(float).fillna(0.0)
    assert round(frame["tiv"].sum(), 2) == 2_092_211.45
    return frame.join(categorise(frame["description"], frame["designation"]))


@pytest.fixture(scope="module")
def us_deals() -> pd.DataFrame:
    """SIPRI's own category per US deal, one row per deal."""
    rows = pd.read_csv(
        sipri_file("us-exports-by-delivery-year-2025-04.csv"), skiprows=11, dtype=str, keep_default_na=False,
    )
    rows["tiv"] = pd.to_numeric(rows["TIV delivery values"], errors="coerce").fillna(0.0)
    deals = rows.groupby("SIPRI AT Database ID").agg(
        recipient=("Recipient", "first"), ordered=("Order date", "first"),
        designation=("Designation", "first"), description=("Description", "first"),
        sipri=("Armament category", "first"), tiv=("tiv", "sum"),
        years=("Delivery year", lambda y: ";".join(sorted(set(y)))),
    )
    names = {text_key(c).replace("-", " "): c for c in CATEGORIES}
    deals["sipri"] = deals["sipri"].map(lambda c: names.get(text_key(c).replace("-", " "), c))
    assert set(deals["sipri"]) <= set(CATEGORIES)
    return deals


def test_register_descriptions_are_all_categorised(register):
    unresolved = register["category_source"] == "unresolved"
    assert unresolved.mean() < 0.01
    assert not unresolved.any(), register.loc[unresolved, "description"].unique()
    # the rules are for other vintages: the reference register must be covered by the table
    assert set(register["category_source"]) == {"table"}


def test_us_register_categories_agree_per_deal(us_deals):
    """Measured 9,048/9,048 deals (100%)."""
    ours = categorise(us_deals["description"], us_deals["designation"])["category"]
    assert (ours == us_deals["sipri"]).mean() >= 0.995


def test_register_spellings_agree_with_sipri_on_the_same_us_deals(register, us_deals):
    """The 2025 register abbreviates ("APC") where the per-year register spells out.

    Deals are matched on recipient, order year, delivered TIV and delivery
    years; measured 8,909 unambiguous matches, all in SIPRI's category.
    """
    us = register[(register["supplier"] == "United States") & (register["delivery_years"] != "")]
    key = pd.DataFrame({
        "recipient": us["recipient"], "ordered": us["order_year"].astype(str), "tiv": us["tiv"].round(1),
        "years": us["delivery_years"],
        "category": us["category"],
    })
    theirs = us_deals.assign(tiv=us_deals["tiv"].round(1))[["recipient", "ordered", "tiv", "years", "sipri"]]
    cols = ["recipient", "ordered", "tiv", "years"]
    pairs = key.merge(theirs, on=cols)
    pairs = pairs[~pairs.duplicated(cols, keep=False)]
    assert len(pairs) >= 8_500
    assert (pairs["category"] == pairs["sipri"]).mean() >= 0.995


# SIPRI's Dec 2023 table vs the Mar 2025 register, 1950-2022 totals. Measured gaps:
# Aircraft -0.07%, Air defence -0.53%, Armoured vehicles +0.12%, Artillery +14.2%,
# Engines -5.5%, Missiles -0.08%, Naval weapons +1.6%, Other -0.13%,
# Satellites 0.00%, Sensors -2.2%, Ships +0.23%. No reassignment of a description
# closes the Artillery/Engines/Sensors gaps (the Artillery excess is spread over
# all artillery descriptions and years before 1995), so they are taken as data
# revisions; a category error moves thousands of TIV and breaks these bounds.
TOLERANCE = {"Artillery": 0.15, "Engines": 0.065, "Sensors": 0.03, "Naval weapons": 0.025}


def test_category_totals_match_sipri_tiv_table(register):
    table = pd.read_csv(sipri_file("tiv-exports-by-category-1950-2022.csv"), skiprows=10, nrows=11, index_col=0)
    sipri = table.drop(columns="Total").apply(pd.to_numeric).fillna(0).sum(axis=1)
    assert set(sipri.index) == set(CATEGORIES)

    years = register["delivery_years"].str.split(";")
    share = register["tiv"] / years.str.len()
    spread = pd.DataFrame({"category": register["category"], "tiv": share, "year": years}).explode("year")
    spread["year"] = pd.to_numeric(spread["year"].str.strip(), errors="coerce")
    ours = spread[spread["year"].between(1950, 2022)].groupby("category")["tiv"].sum()

    gap = (ours.reindex(sipri.index, fill_value=0) / sipri - 1).abs()
    limit = pd.Series([TOLERANCE.get(c, 0.01) for c in gap.index], index=gap.index)
    assert (gap <= limit).all(), gap[gap > limit].round(4).to_dict()
