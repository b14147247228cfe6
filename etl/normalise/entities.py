"""Suppliers and recipients: one canonical name per SIPRI entity.

SIPRI renames countries between vintages (Turkey/Turkiye, Macedonia/North
Macedonia), marks non-state actors with `*` and organisations with `**`, and
keeps historical states apart from their successors. Journalists quote totals
per country, so every spelling must land on exactly one entity and every
decision must be citable: the facts live in data/entities.csv,
data/entity_aliases.csv and data/blocs.csv (each row with its source), and this
module only looks them up by `text_key`, once per distinct value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from etl.normalise.text import text_key, text_keys
from etl.reference import ReferenceError, reference_table

KINDS = ("state", "historical_state", "non_state", "organisation", "unknown")

# SIPRI's regional breakdown; checked at load so a typo cannot split a region.
REGIONS: dict[str, set[str]] = {
    "Africa": {"North Africa", "Sub-Saharan Africa"},
    "Americas": {"North America", "Central America and the Caribbean", "South America"},
    "Asia and Oceania": {"Central Asia", "East Asia", "Oceania", "South Asia", "South-East Asia"},
    "Europe": {"Central Europe", "Eastern Europe", "Western Europe"},
    "Middle East": set(),
    "": set(),
}

ENTITY_COLUMNS = ["name", "iso3", "kind", "region", "subregion"]
ALIAS_COLUMNS = ["alias", "name"]
BLOC_COLUMNS = ["bloc", "name", "joined", "left"]


@dataclass(frozen=True)
class _Reference:
    entities: pd.DataFrame  # indexed by canonical name
    names: dict[str, str]  # text_key of a name or alias -> canonical name
    codes: dict[str, str]  # text_key of an ISO3 code -> canonical name
    blocs: pd.DataFrame


def _say(frame: pd.DataFrame, mask: pd.Series, message: str) -> list[str]:
    """One message per offending row, `message` formatted with that row's columns."""
    return [message.format(**row) for row in frame[mask].to_dict("records")]


def _key_collisions(entities: pd.DataFrame, aliases: pd.DataFrame) -> list[str]:
    """Keys that would select two different entities, whatever their source."""
    keyed = pd.concat(
        [
            entities.assign(text=entities["name"], source="name"),
            aliases.assign(text=aliases["alias"], source="alias"),
            entities.assign(text=entities["iso3"], source="iso3"),
        ],
        ignore_index=True,
    )[["text", "name", "source"]]
    keyed = keyed[keyed["text"].str.strip() != ""]
    keyed["key"] = text_keys(keyed["text"])
    spread = keyed.groupby("key")["name"].transform("nunique")
    return [
        f"key {key!r} selects several entities: "
        + "; ".join(_say(group, group["key"] == key, "{source} {text!r} -> {name!r}"))
        for key, group in keyed[spread > 1].groupby("key")
    ]


def _entity_problems(entities: pd.DataFrame) -> list[str]:
    state = entities["kind"] == "state"
    coded = entities["iso3"] != ""
    uncoded_state = state & ~entities["iso3"].str.fullmatch("[A-Z]{3}")
    allowed = {(region, sub) for region, subs in REGIONS.items() for sub in subs | {""}}
    region_ok = pd.MultiIndex.from_frame(entities[["region", "subregion"]]).isin(list(allowed))
    return [
        *_say(entities, entities["name"].str.strip() == "", "entity with empty name (iso3 {iso3!r})"),
        *_say(entities, entities["name"].duplicated(), "duplicate entity {name!r}"),
        *_say(entities, ~entities["kind"].isin(KINDS), f"entity {{name!r}}: kind {{kind!r}} not in {KINDS}"),
        *_say(entities, uncoded_state, "state {name!r} lacks a 3-letter iso3"),
        *_say(entities, ~state & coded, "{kind} {name!r} has iso3 {iso3!r}; only states carry one"),
        *_say(entities, coded & entities["iso3"].duplicated(keep=False), "iso3 {iso3!r} shared by {name!r}"),
        *_say(entities, ~region_ok, "entity {name!r}: {region!r}/{subregion!r} is not a SIPRI region"),
    ]


def _years(column: pd.Series) -> pd.Series:
    """Four-digit years as numbers; anything else NaN, so it is reported rather than guessed."""
    return pd.to_numeric(column.where(column.str.fullmatch(r"\d{4}")), errors="coerce")


def _bloc_problems(blocs: pd.DataFrame, names: set[str]) -> list[str]:
    years = blocs.assign(joined=_years(blocs["joined"]), left=_years(blocs["left"]))
    bad_left = (blocs["left"] != "") & ~(years["left"] > years["joined"])
    spans = years.assign(left=years["left"].fillna(np.inf)).sort_values(["bloc", "name", "joined"])
    overlap = spans.groupby(["bloc", "name"])["left"].shift() > spans["joined"]
    return [
        *_say(blocs, ~blocs["name"].isin(names), "bloc {bloc!r}: unknown entity {name!r}"),
        *_say(blocs, blocs["bloc"].str.strip() == "", "bloc row with empty bloc for {name!r}"),
        *_say(blocs, years["joined"].isna(), "bloc {bloc!r} {name!r}: joined {joined!r} is not a year"),
        *_say(blocs, bad_left, "bloc {bloc!r} {name!r}: left {left!r} is not a year after joined"),
        *_say(spans, overlap, "bloc {bloc!r} {name!r}: membership periods overlap"),
    ]


def validate_reference(entities: pd.DataFrame, aliases: pd.DataFrame, blocs: pd.DataFrame) -> None:
    """Refuse reference tables that would mis-attribute deals, naming every fault at once."""
    names = set(entities["name"])
    problems = [
        *_entity_problems(entities),
        *_say(aliases, ~aliases["name"].isin(names), "alias {alias!r} points to unknown entity {name!r}"),
        *_key_collisions(entities, aliases),
        *_bloc_problems(blocs, names),
    ]
    if problems:
        raise ReferenceError("entity reference tables are inconsistent:\n  " + "\n  ".join(problems))


@cache
def _reference() -> _Reference:
    entities = reference_table("entities.csv", ENTITY_COLUMNS)
    aliases = reference_table("entity_aliases.csv", ALIAS_COLUMNS)
    blocs = reference_table("blocs.csv", BLOC_COLUMNS)
    validate_reference(entities, aliases, blocs)
    names = dict(zip(text_keys(aliases["alias"]), aliases["name"]))
    names.update(zip(text_keys(entities["name"]), entities["name"]))
    coded = entities[entities["iso3"] != ""]
    codes = dict(zip(text_keys(coded["iso3"]), coded["name"]))
    blocs = blocs.assign(joined=_years(blocs["joined"]), left=_years(blocs["left"]))
    return _Reference(entities.set_index("name", drop=False), names, codes, blocs)


def resolve_entities(names: pd.Series) -> pd.DataFrame:
    """Canonical entity per raw supplier/recipient name, keeping the misses visible.

    ISO3 codes are deliberately not accepted here: SIPRI's own exports use
    non-ISO country codes (AST for Austria), so a code in a name column is a
    parsing error to report, not a country. Unresolved names keep their text and
    get a kind from SIPRI's markers (`**` organisation, `*` non-state) so the load
    summary can list them without losing what SIPRI said about them.
    """
    ref = _reference()
    raw = names.fillna("").astype(str).str.strip()
    canonical = text_keys(raw).map(ref.names)
    resolved = canonical.notna()
    marker_kind = pd.Series(
        np.select([raw.str.endswith("**"), raw.str.endswith("*")], ["organisation", "non_state"], "unknown"),
        index=raw.index,
    )
    attrs = ref.entities
    return pd.DataFrame(
        {
            "name": canonical.where(resolved, raw).astype(str),
            "iso3": canonical.map(attrs["iso3"]).fillna("").astype(str),
            "kind": canonical.map(attrs["kind"]).where(resolved, marker_kind).astype(str),
            "region": canonical.map(attrs["region"]).fillna("").astype(str),
            "resolved": resolved.astype(bool),
        },
        index=names.index,
    )


def match_entities(term: str) -> list[str]:
    """Entities a user's filter term selects (name, alias or ISO3; any case or accents).

    A list, not a name, so a caller filtering deals never has to special-case
    "nothing matched": an unknown term selects nothing rather than everything.
    """
    ref = _reference()
    key = text_key(term)
    name = ref.names.get(key) or ref.codes.get(key)
    return [name] if name else []


def entity_keys() -> dict[str, str]:
    """The table match_entities reads: text_key of a name, alias or ISO3 code -> canonical name
    (names win over codes). The dashboard's filter bar does the same lookup in the browser."""
    ref = _reference()
    return {**ref.codes, **ref.names}


def blocs() -> list[str]:
    """Bloc names as data/blocs.csv spells them, for menus and error messages."""
    return list(dict.fromkeys(_reference().blocs["bloc"]))


def bloc_members(bloc: str, year: int) -> list[str]:
    """Members of `bloc` in `year`, by one rule that covers joins and exits alike.

    Membership is counted at year end: member in year Y iff joined <= Y and
    (left is empty or Y < left). A country counts from the year it joined and not
    in the year it left: the UK is in the EU for 1973-2019, East Germany in the
    Warsaw Pact for 1955-1989, and the Warsaw Pact (dissolved July 1991) has no
    members in 1991. The EU row covers EEC and EC membership (founders 1958).
    """
    table = _reference().blocs
    rows = table[text_keys(table["bloc"]) == text_key(bloc)]
    if rows.empty:
        raise ValueError(f"unknown bloc {bloc!r}; known blocs: {', '.join(blocs())}")
    current = rows[(rows["joined"] <= year) & ~(rows["left"] <= year)]
    return sorted(set(current["name"]), key=str.casefold)
