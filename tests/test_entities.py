"""Entity resolution: every SIPRI spelling must land on one citable entity."""

from __future__ import annotations


import pandas as pd
import pytest

from etl.normalise.entities import (
    bloc_members,
    blocs,
    match_entities,
    resolve_entities,
    validate_reference,
)
from etl.reference import ReferenceError, reference_table
from tests.conftest import sipri_file



def resolve_one(name: str | None) -> dict:
    return resolve_entities(pd.Series([name])).iloc[0].to_dict()


# --- reference tables ------------------------------------------------------


def test_reference_tables_have_exact_columns():
    entity_columns = ["name", "iso3", "kind", "region", "subregion", "note"]
    assert list(reference_table("entities.csv", [])) == entity_columns
    assert list(reference_table("entity_aliases.csv", [])) == ["alias", "name", "note"]
    assert list(reference_table("blocs.csv", [])) == ["bloc", "name", "joined", "left", "note"]


def test_every_state_has_a_unique_iso3_and_nothing_else_has_one():
    entities = reference_table("entities.csv", [])
    states = entities[entities["kind"] == "state"]
    assert states["iso3"].str.fullmatch("[A-Z]{3}").all()
    assert not states["iso3"].duplicated().any()
    assert (entities.loc[entities["kind"] != "state", "iso3"] == "").all()
    assert (entities["note"] != "").all()


def test_validation_lists_every_violation():
    entities = pd.DataFrame(
        {
            "name": ["Atlantis", "Lemuria", "Mu"],
            "iso3": ["ATL", "", "ATL"],
            "kind": ["state", "state", "empire"],
            "region": ["Europe", "Europe", "Atlantic"],
            "subregion": ["Western Europe", "", ""],
        }
    )
    aliases = pd.DataFrame(
        {"alias": ["Old Atlantis", "lemuria", "Gondor"], "name": ["Atlantis", "Mu", "Gondor"]}
    )
    bloc_rows = pd.DataFrame(
        {
            "bloc": ["Pact", "Pact"],
            "name": ["Atlantis", "Narnia"],
            "joined": ["1950", "19x0"],
            "left": ["1940", ""],
        }
    )
    with pytest.raises(ReferenceError) as caught:
        validate_reference(entities, aliases, bloc_rows)
    message = str(caught.value)
    for expected in [
        "state 'Lemuria' lacks a 3-letter iso3",
        "kind 'empire'",
        "'Mu' has iso3 'ATL'",
        "iso3 'ATL' shared by 'Atlantis'",
        "'Atlantic'",
        "alias 'Gondor' points to unknown entity 'Gondor'",
        "key 'lemuria' selects several entities",
        "unknown entity 'Narnia'",
        "joined '19x0' is not a year",
        "left '1940' is not a year after joined",
    ]:
        assert expected in message


# --- resolve_entities ------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("Turkey", "Turkiye"),
        ("Czech Republic", "Czechia"),
        ("Vietnam", "Viet Nam"),
        ("Macedonia", "North Macedonia"),
        ("FYROM", "North Macedonia"),
        ("Swaziland", "eSwatini"),
        ("Eswatini", "eSwatini"),
        ("USA", "United States"),
        ("US", "United States"),
        ("United States of America", "United States"),
        ("UK", "United Kingdom"),
        ("Great Britain", "United Kingdom"),
        ("USSR", "Soviet Union"),
        ("Russian Federation", "Russia"),
        ("Korea South", "South Korea"),
        ("Republic of Korea", "South Korea"),
        ("DPRK", "North Korea"),
        ("United Arab Emirates", "UAE"),
        ("Ivory Coast", "Cote d'Ivoire"),
        ("Côte d'Ivoire", "Cote d'Ivoire"),
        ("Cape Verde", "Cabo Verde"),
        ("Burma", "Myanmar"),
        ("Zaire", "DR Congo"),
        ("Congo-Kinshasa", "DR Congo"),
        ("Congo-Brazzaville", "Congo"),
        ("East Timor", "Timor-Leste"),
        ("Bosnia and Herzegovina", "Bosnia-Herzegovina"),
        ("Germany (FRG)", "Germany"),
        ("West Germany", "Germany"),
        ("East Germany", "East Germany (GDR)"),
        ("GDR", "East Germany (GDR)"),
        ("Saint Vincent and the Grenadines", "Saint Vincent"),
        ("Brunei Darussalam", "Brunei"),
        ("Syrian Arab Republic", "Syria"),
        ("Iran (Islamic Republic of)", "Iran"),
        ("Lao PDR", "Laos"),
        ("Libya GNC", "Libya"),
        ("HoR (Libya)*", "Libya HoR*"),
        ("PKK (Turkey)*", "PKK (Turkiye)*"),
    ],
)
def test_aliases_resolve(alias, name):
    row = resolve_one(alias)
    assert row["name"] == name
    assert row["resolved"]


@pytest.mark.parametrize("spelling", ["  TÜRKIYE ", "türkiye", "turkiye", "Turkiye", "TURKEY"])
def test_resolution_ignores_case_accents_and_whitespace(spelling):
    assert resolve_one(spelling)["name"] == "Turkiye"


def test_resolved_attributes_and_index():
    names = pd.Series(
        ["Turkey", "Soviet Union", "Hamas (Palestine)*", "NATO**", "unknown supplier(s)", "Kosovo"],
        index=[10, 11, 12, 13, 14, 15],
    )
    out = resolve_entities(names)
    assert list(out.columns) == ["name", "iso3", "kind", "region", "resolved"]
    assert list(out.index) == [10, 11, 12, 13, 14, 15]
    assert out["iso3"].tolist() == ["TUR", "", "", "", "", "XKX"]
    kinds = ["state", "historical_state", "non_state", "organisation", "unknown", "state"]
    assert out["kind"].tolist() == kinds
    assert out["region"].tolist() == ["Middle East", "Europe", "Middle East", "", "", "Europe"]
    assert out["resolved"].all()


@pytest.mark.parametrize(
    ("name", "iso3"),
    [("Kosovo", "XKX"), ("Taiwan", "TWN"), ("Palestine", "PSE"), ("Western Sahara", "ESH"), ("Aruba", "ABW")],
)
def test_special_iso3_codes(name, iso3):
    assert resolve_one(name)["iso3"] == iso3


@pytest.mark.parametrize(
    "name",
    ["Soviet Union", "Czechoslovakia", "Yugoslavia", "East Germany (GDR)", "North Yemen", "South Yemen",
     "Yemen Arab Republic (North Yemen)", "South Vietnam", "Biafra", "Katanga"],
)
def test_historical_states_have_no_iso3(name):
    row = resolve_one(name)
    assert (row["kind"], row["iso3"], row["resolved"]) == ("historical_state", "", True)


def test_northern_cyprus_is_not_a_state():
    assert resolve_one("Northern Cyprus")["kind"] == "non_state"


def test_unresolved_names_keep_their_text_and_marker_kind():
    out = resolve_entities(pd.Series([" New Front (Atlantis)* ", "Pact of Mu**", "Atlantis", None, "TUR"]))
    assert out["name"].tolist() == ["New Front (Atlantis)*", "Pact of Mu**", "Atlantis", "", "TUR"]
    assert out["kind"].tolist() == ["non_state", "organisation", "unknown", "unknown", "unknown"]
    assert not out["resolved"].any()
    assert (out["iso3"] == "").all() and (out["region"] == "").all()


def test_total_is_not_an_entity():
    assert not resolve_one("Total")["resolved"]
    assert match_entities("Total") == []


# --- match_entities ----------------------------------------------------------


@pytest.mark.parametrize("term", ["Turkey", "TUR", "tur", "turkiye", "türkiye", "Türkiye", " TURKIYE "])
def test_match_turkiye(term):
    assert match_entities(term) == ["Turkiye"]


def test_match_other_terms():
    assert match_entities("xkx") == ["Kosovo"]
    assert match_entities("usa") == ["United States"]
    assert match_entities("east germany") == ["East Germany (GDR)"]
    assert match_entities("Atlantis") == []
    assert match_entities("") == []


# --- blocs -------------------------------------------------------------------


def test_bloc_listing():
    assert blocs() == ["NATO", "EU", "CSTO", "Warsaw Pact"]


@pytest.mark.parametrize(
    ("bloc", "name", "member_years", "other_years"),
    [
        ("NATO", "Turkiye", [1952, 2024], [1951]),
        ("NATO", "Sweden", [2024], [2023]),
        ("NATO", "Finland", [2023], [2022]),
        ("NATO", "Germany", [1955, 1990], [1954]),
        ("NATO", "France", [1949, 1970], [1948]),
        ("EU", "Germany", [1958], [1957]),
        ("EU", "United Kingdom", [1973, 2019], [1972, 2020]),
        ("EU", "Croatia", [2013], [2012]),
        ("CSTO", "Uzbekistan", [1992, 1998, 2006, 2011], [1999, 2005, 2012]),
        ("CSTO", "Armenia", [1992, 2024], [1991]),
        ("Warsaw Pact", "East Germany (GDR)", [1955, 1989], [1954, 1990]),
        ("Warsaw Pact", "Albania", [1967], [1968]),
        ("Warsaw Pact", "Soviet Union", [1990], [1991]),
    ],
)
def test_bloc_membership_by_year(bloc, name, member_years, other_years):
    for year in member_years:
        assert name in bloc_members(bloc, year), year
    for year in other_years:
        assert name not in bloc_members(bloc, year), year


def test_bloc_sizes_and_case():
    assert len(bloc_members("nato", 2024)) == 32
    assert len(bloc_members("eu", 2024)) == 27
    assert len(bloc_members("EU", 1958)) == 6
    assert bloc_members("Warsaw Pact", 1991) == []


def test_unknown_bloc_is_an_error():
    with pytest.raises(ValueError, match="known blocs"):
        bloc_members("SEATO", 1960)


# --- real SIPRI data ---------------------------------------------------------


@pytest.fixture(scope="module")
def register_names(register_deals) -> pd.Series:
    """Supplier and recipient names of the 2025-03 register as SIPRI wrote them."""
    return pd.Series(pd.unique(pd.concat([register_deals["recipient_raw"], register_deals["supplier_raw"]])))


def tiv_names(name: str) -> pd.Series:
    """First column of a TIV table below its header row of years."""
    table = pd.read_csv(sipri_file(name), header=None, usecols=[0, 1], dtype=str, keep_default_na=False)
    header = table.index[table[1] == "1950"][0]
    names = table.loc[header + 1 :, 0]
    return names[names != ""].reset_index(drop=True)


def test_register_names_are_canonical_entities(register_names):
    names = register_names
    assert len(names) > 250
    out = resolve_entities(names)
    assert out["resolved"].all(), sorted(names[~out["resolved"]])
    assert (out["name"] == names).all(), sorted(names[out["name"] != names])


def test_register_states_have_iso3(register_names):
    out = resolve_entities(register_names)
    states = out[out["kind"] == "state"]
    assert len(states) > 150
    assert states["iso3"].str.fullmatch("[A-Z]{3}").all()


@pytest.mark.parametrize(
    "table", ["tiv-exports-by-supplier-1950-2022.csv", "tiv-imports-by-recipient-1950-2022.csv"]
)
def test_tiv_names_resolve_except_total(table):
    names = tiv_names(table)
    assert "Total" in set(names)
    entities = names[names != "Total"]
    out = resolve_entities(entities)
    assert out["resolved"].all(), sorted(entities[~out["resolved"]])


def test_us_exports_recipients_resolve():
    path = sipri_file("us-exports-by-delivery-year-2025-04.csv")
    recipients = pd.read_csv(path, skiprows=11, dtype=str, keep_default_na=False, usecols=["Recipient"])
    names = pd.Series(pd.unique(recipients["Recipient"]))
    out = resolve_entities(names)
    assert out["resolved"].all(), sorted(names[~out["resolved"]])
