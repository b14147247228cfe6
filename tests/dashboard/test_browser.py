"""The dashboard in real headless Chromium on the full register (dash.testing, Debian's chromium).

Few and meaningful (each starts a server, ~5 s): a filter change updates the
charts and the URL; a shared link opens the same view and answers the S-400
question; the CSV download link follows the filters and its file equals the
CLI export; the back button restores the previous view. Every test ends with
a clean browser console.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys

from dashboard.app import create_app

FROM = """[id='{"key":"from","type":"param"}']"""
SEARCH = """[id='{"key":"search","type":"param"}']"""


@pytest.fixture
def duo(dash_duo, real_db):
    dash_duo.start_server(create_app(real_db, read_only=True))
    return dash_duo


def _open(duo, path: str) -> None:
    duo.driver.get(duo.server_url + path)


def _grid_text(duo, grid_id: str) -> str:
    return duo.driver.execute_script(
        f"const g = document.getElementById('{grid_id}'); return g ? g.textContent : '';")


def _wait(predicate, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _clean_console(duo):
    assert [e for e in duo.get_logs() if e.get("level") == "SEVERE"] == []


def test_filter_change_updates_charts_and_url_and_back_restores(duo):
    _open(duo, "/")
    duo.wait_for_contains_text("#ov-kpis", "29,515", timeout=15)
    years = lambda: duo.driver.execute_script(
        "const g = document.getElementById('ov-years').querySelector('.js-plotly-plot');"
        "return g && g._fullData ? g._fullData.map(t => Array.from(t.x)).flat() : null;")
    assert min(_wait(years)) == 1950
    # the page's own controls (map, stack) were drawn from the URL: nothing is written back into it
    # (that cost a second request and a second drawing of every chart)
    assert duo.driver.current_url.endswith("/"), duo.driver.current_url
    box = duo.find_element(FROM)
    box.send_keys("2015", Keys.ENTER)
    _wait(lambda: "from=2015" in duo.driver.current_url)
    duo.wait_for_contains_text("#ov-kpis", "order years 2015", timeout=10)
    _wait(lambda: (y := years()) and min(y) == 2015)
    # 2015-2024: Ukraine among the ten largest recipients (it is not over all years)
    _wait(lambda: "Ukraine" in duo.find_element("#ov-top-recipients-list").text)
    duo.driver.back()
    _wait(lambda: "from=2015" not in duo.driver.current_url)
    duo.wait_for_contains_text("#ov-kpis", "29,515", timeout=10)
    assert duo.find_element(FROM).get_attribute("value") == ""
    # the top-10 lists are drawn by the page's script from their data; a name opens its profile
    top = lambda: duo.find_element("#ov-top-recipients-list").text
    _wait(lambda: "India" in top() and "%)" in top())
    link = duo.find_element("#ov-top-recipients-list a[href='/country?entity=India']")
    duo.driver.execute_script("arguments[0].click();", link)  # (below the fold of the test's window)
    duo.wait_for_contains_text("#cp-facts", "ISO3 IND", timeout=15)
    assert duo.driver.current_url.endswith("/country?entity=India")
    _clean_console(duo)


def test_shared_link_answers_the_s400_question(duo):
    _open(duo, "/weapons?search=S-400")
    duo.wait_for_contains_text("#wp-title", "4 recipients", timeout=15)
    text = _wait(lambda: (t := _grid_text(duo, "wp-table")) and "Belarus" in t and t)
    for expected in ("Belarus", "China", "India", "Turkiye", "2015", "2017", "2018", "2021", "3,000", "5,400"):
        assert expected in text, expected
    assert duo.find_element(SEARCH).get_attribute("value") == "S-400"
    # the same selection follows the reader to the country profile
    _open(duo, "/country?entity=Turkey&from=2019&to=2019")
    duo.wait_for_contains_text("#cp-kpis", "Russia", timeout=15)
    _clean_console(duo)


def test_csv_download_equals_cli_export(duo, real_db, run_cli_bytes):
    """The link follows a filter changed on the page; the file it downloads is the CLI's export."""
    _open(duo, "/deals?recipient=Turkey&from=2010")
    duo.wait_for_contains_text("#deals-count", "deals match", timeout=15)
    _wait(lambda: "Turkiye" in _grid_text(duo, "deals-grid"))
    box = duo.find_element(SEARCH)
    box.send_keys("F-16", Keys.ENTER)
    _wait(lambda: "search=F-16" in duo.driver.current_url)
    link = duo.find_element("#deals-download")
    _wait(lambda: "search=F-16" in (link.get_attribute("href") or ""))
    assert "/download/deals.csv?" in link.get_attribute("href")
    link.click()
    target = Path(duo.download_path) / "armsdash-deals.csv"
    _wait(lambda: target.exists() and target.stat().st_size > 0, timeout=15)
    time.sleep(0.3)
    expected = run_cli_bytes("export", "--recipient", "Turkey", "--from", "2010", "--search", "F-16",
                             "--db", str(real_db), "-o", "-")
    assert expected.count(b"\r\n") > 2 and target.read_bytes() == expected
    assert "/deals?" in duo.driver.current_url  # a download, not a navigation
    _clean_console(duo)


@pytest.mark.parametrize("referer", ["/flows", "/country?entity=India", "http://elsewhere.example/"])
def test_the_address_decides_the_page_whatever_the_referer_says(duo, referer):
    """The server draws the first page from the Referer of Dash's layout request (one round trip
    less). A Referer naming another page or view (cut short by the browser, or forged), or one
    from another site (ignored: routed as before), must still end on the address's own page."""
    duo.driver.execute_cdp_cmd("Network.enable", {})
    ref = referer if referer.startswith("http") else duo.server_url + referer
    duo.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Referer": ref}})
    try:
        _open(duo, "/country?entity=Turkiye&from=2019&to=2019")
        duo.wait_for_contains_text("#cp-facts", "ISO3 TUR", timeout=15)
        duo.wait_for_contains_text("#cp-kpis", "Russia", timeout=10)
        assert duo.driver.execute_script("return document.getElementById('fl-sankey')") is None
        assert duo.find_element(FROM).get_attribute("value") == "2019"
        assert duo.driver.current_url.endswith("/country?entity=Turkiye&from=2019&to=2019")
    finally:
        duo.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
    _clean_console(duo)
