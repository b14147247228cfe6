"""The query module on the small fixture database: aggregates, paging, blocs, whitelists."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import queries
from dashboard.context import database
from etl.filters import Filters, build_filters


@pytest.fixture
def cur(small_app):
    return database().cursor()


def test_totals_and_entities(cur):
    t = queries.totals(cur, Filters())
    assert t["deals"] == 5 and t["suppliers"] == 4 and t["recipients"] == 3
    assert t["tiv"] == pytest.approx(300 + 12.75 + 130 + 0)
    by = queries.by_entity(cur, Filters(), "supplier")
    assert by.loc[by["name"] == "Russia", "iso3"].item() == "RUS"
    with pytest.raises(ValueError):
        queries.by_entity(cur, Filters(), "supplier; DROP TABLE deals")


def test_tiv_by_year_groups_top_suppliers_and_others(cur):
    frame = queries.tiv_by_year(cur, Filters(), "supplier", top=1)
    assert set(frame["key"]) == {"Netherlands", "Others"}
    assert frame["tiv"].sum() == pytest.approx(442.75)


def test_top_entities_shares_sum_to_one(cur):
    top = queries.top_entities(cur, Filters(), "recipient")
    assert top["share"].sum() == pytest.approx(1.0)
    assert top.iloc[0]["name"] == "Chile"


def test_deals_page_sorts_on_whitelisted_columns_only(cur):
    page = queries.deals_page(cur, Filters(), [("order_year", "desc")], 0, 2)
    assert list(page["order_year"]) == [2019, 2018]
    from etl.db import LIST_ORDER
    default = queries.deals_page(cur, Filters(), [], 0, 10)["deal_id"].tolist()
    assert default == [r[0] for r in cur.execute(f"SELECT deal_id FROM current_deals ORDER BY {LIST_ORDER}").fetchall()]
    hostile = queries.deals_page(cur, Filters(), [("order_year; DROP TABLE deals", "desc"), (None, None)], 0, 10)
    assert len(hostile) == 5
    assert queries.deal_count(cur, Filters()) == 5
    record = queries.deal(cur, page.iloc[0]["deal_id"])
    assert record["recipient"] == "Cote d'Ivoire" and record["source_generated"]


def test_weapon_search_finds_systems_and_parts(cur):
    f = build_filters(cur, search="S-400")
    deals = queries.weapon_deals(cur, f)
    assert set(deals["recipient"]) == {"Turkiye", "India"}  # India via "For S-400 systems"
    turkiye = deals[deals["recipient"] == "Turkiye"].iloc[0]
    assert turkiye["reported_value"] == "2,500" and turkiye["order_year"] == 2017
    part = queries.weapon_deals(cur, build_filters(cur, search="T-129"))
    assert part.iloc[0]["reported_value"] == "3,000 (part of larger deal)"


def test_bloc_shares_use_membership_of_the_delivery_year(cur):
    shares = queries.bloc_shares(cur, Filters(), "Turkiye")
    assert dict(zip(shares["year"], shares["grp"])) == {2014: "NATO members", 2019: "Russia/Soviet Union"}


def test_status_and_bloc_filters(cur):
    second = build_filters(cur, statuses=["second-hand"])
    assert queries.deal_count(cur, second) == 1
    nato_suppliers = build_filters(cur, supplier_blocs=["NATO"])
    assert queries.deal_count(cur, nato_suppliers) == 3  # Netherlands 2005, France 2019, Italy 2007
    eu_recipients = build_filters(cur, recipient_blocs=["EU"])
    assert queries.deal_count(cur, eu_recipients) == 0


def test_partners_flows_and_entity_deals(cur):
    shares = queries.partner_shares(cur, Filters(), "Turkiye", "recipient")
    assert list(shares["name"]) == ["Russia", "Italy"]
    flows, total = queries.flows(cur, Filters(), 2)
    assert len(flows) == 2 and total == pytest.approx(442.75)
    assert len(queries.entity_deals(cur, Filters(), "Russia")) == 2
    assert queries.entity_info(cur, "Turkiye")["iso3"] == "TUR"
    assert queries.entity_info(cur, "Atlantis") is None


TERMS = [
    {}, {"recipient_blocs": ("NATO",)}, {"supplier_blocs": ("NATO", "EU"), "year_from": 2010},
    {"recipient_blocs": ("EU",), "supplier_blocs": ("CSTO",), "statuses": ("New",)}, {"search": "S-400"},
    {"search": "S-400", "statuses": ("New",)}, {"statuses": ("Second hand", "Second hand but modernized")},
    {"recipients": ("Turkiye",), "year_to": 2018, "categories": ("Air defence systems", "Aircraft")},
]


def _agrees_with_the_views(terms: dict) -> None:
    """The dashboard's answer for `terms` (cubes, bloc and hit tables) vs etl's where() on the current views."""
    from etl.filters import where

    ws = database().workspace()
    cur = ws.cursor()
    f = Filters(**terms)
    if f.search:
        f = queries.Selection(**vars(f), hits=ws.hits(cur, f.search))
        assert f.hits and cur.execute(f"SELECT count(*) FROM memory.main.{f.hits}_deals").fetchone()[0] > 0
    cli_deals = where(Filters(**terms), "order_year")
    cli = where(Filters(**terms), "year", search_via_deal_id=True)
    expected_deals = cur.execute(f"SELECT count(*) FROM current_deals WHERE {cli_deals.sql}",
                                 cli_deals.params).fetchone()[0]
    assert queries.deal_count(cur, f) == expected_deals == queries.totals(cur, f)["deals"]
    assert len(queries.deals_page(cur, f, [], 0, 100)) == min(expected_deals, 100)
    for role in ("supplier", "recipient"):
        expected = dict(cur.execute(f"SELECT {role}, sum(tiv) FROM current_deliveries WHERE {cli.sql} GROUP BY 1",
                                    cli.params).fetchall())
        entities = queries.by_entity(cur, f, role)
        got = entities.set_index("name")["tiv"].to_dict()
        assert got.keys() == expected.keys()
        assert all(got[k] == pytest.approx(v, nan_ok=True) for k, v in expected.items())
        # the overview ranks the map's side from by_entity: the same list and shares as top_entities
        pd.testing.assert_frame_equal(queries.top_of(entities).reset_index(drop=True),
                                      queries.top_entities(cur, f, role).reset_index(drop=True),
                                      check_dtype=False)
    for stack in ("category", "supplier"):
        expected = dict(cur.execute(f"SELECT year, sum(tiv) FROM current_deliveries WHERE {cli.sql} GROUP BY 1",
                                    cli.params).fetchall())
        got = queries.tiv_by_year(cur, f, stack).groupby("year")["tiv"].sum().to_dict()
        assert got.keys() == expected.keys() and all(got[y] == pytest.approx(expected[y]) for y in expected)


@pytest.mark.parametrize("terms", TERMS)
def test_cubes_and_search_hits_select_what_the_cli_selects(small_app, terms):
    _agrees_with_the_views(terms)


@pytest.mark.parametrize("terms", [
    {"year_from": 2020, "year_to": 2024}, {"recipients": ("Turkiye",), "year_from": 2015},
    {"supplier_blocs": ("NATO",), "recipient_blocs": ("EU",), "year_from": 1990},
    {"statuses": ("Second hand", "Second hand but modernized"), "categories": ("Aircraft",)},
    {"search": "F-16", "year_from": 2000}, {"search": "Leopard 2", "statuses": ("New",)},
])
def test_cubes_agree_with_the_views_on_the_real_register(real_app, terms):
    _agrees_with_the_views(terms)


def test_a_search_too_broad_to_keep_is_answered_by_the_regex(small_app, monkeypatch):
    ws = database().workspace()
    cur = ws.cursor()
    monkeypatch.setattr(ws, "DEALS_KEPT", 0)
    assert ws.hits(cur, "T-129") is None and ws.searches["T-129"] == (None, 0)  # remembered: not tried again
    f = queries.Selection(search="S-400", hits=None)
    assert queries.deal_count(cur, f) == 2


@pytest.mark.parametrize("term", ["S-400", "F-16C", "T-129", "AH-64E", "Leopard 2", "2S19", "MiG-29", "Patriot", "155mm"])
def test_digit_prefilter_keeps_every_match_of_the_regex(real_app, term):
    """A search's hits (digits pre-filter, then the regex) are exactly the deals the regex alone finds."""
    from etl.filters import search_pattern

    ws = database().workspace()
    cur = ws.cursor()
    hits = ws.hits(cur, term)
    got = {r[0] for r in cur.execute(f"SELECT deal_id FROM memory.main.{hits}_deals").fetchall()}
    expected = {r[0] for r in cur.execute("SELECT deal_id FROM current_deals WHERE regexp_matches(search_text, ?)",
                                          [search_pattern(term)]).fetchall()}
    assert got == expected and got
