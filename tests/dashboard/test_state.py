"""The URL as state: hostile query strings are cut down, never raised on."""

import pytest

from dashboard import state
from etl.errors import UserError


@pytest.mark.parametrize("search", [None, "", "?", 42, ["?a=1"], "?%zz=%%%", "?a=" + "x" * 100_000,
                                    "?" + "&".join(f"k{i}=v" for i in range(5000)), "?from=<script>"])
def test_parse_never_raises(search):
    params = state.parse(search)
    assert isinstance(params, dict)
    assert all(len(v) <= state.MAX_VALUES and all(len(x) <= state.MAX_VALUE + 1 for x in v) for v in params.values())


def test_encode_round_trip_keeps_repeats_and_drops_empties():
    text = state.encode({"recipient": ["Turkiye", "Greece"], "from": 2015, "search": "", "to": None})
    assert text == "?recipient=Turkiye&recipient=Greece&from=2015"
    assert state.parse(text) == {"recipient": ["Turkiye", "Greece"], "from": ["2015"]}


@pytest.mark.parametrize("value", ["abc", "1e9", "99999", "-5", "2015.5"])
def test_bad_years_are_user_errors(value):
    with pytest.raises(UserError):
        state.year({"from": [value]}, "from")


def test_filters_resolve_aliases_like_the_cli(small_app):
    from dashboard.context import view

    v = view("?recipient=Turkey&supplier=rus&status=new&rbloc=nato&from=2010")
    assert v.ok, v.problem
    assert v.filters.recipients == ("Turkiye",) and v.filters.suppliers == ("Russia",)
    assert v.filters.statuses == ("New",) and v.filters.recipient_blocs == ("NATO",)
    for bad in ("?recipient=Atlantis", "?category=lasers", "?from=2020&to=2010", "?sbloc=SEATO", "?status=used"):
        assert view(bad).problem, bad
