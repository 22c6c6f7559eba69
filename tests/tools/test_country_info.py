"""get_country_info against a loopback stand-in for REST Countries v3.1 (COUNTRY_INFO_BASE_URL)."""

from __future__ import annotations

import json

import pytest

from tests.tools.conftest import Reply
from tools import countries, registry

FRANCE = {"name": {"common": "France", "official": "French Republic"}, "cca2": "FR", "cca3": "FRA",
          "capital": ["Paris"], "population": 66351959, "region": "Europe", "subregion": "Western Europe",
          "currencies": {"EUR": {"name": "Euro", "symbol": "€"}}}
GUINEA = {"name": {"common": "Guinea", "official": "Republic of Guinea"}, "cca3": "GIN", "capital": ["Conakry"],
          "population": 13132792, "region": "Africa", "subregion": "Western Africa",
          "currencies": {"GNF": {"name": "Guinean franc", "symbol": "Fr"}}}
EQUATORIAL_GUINEA = {"name": {"common": "Equatorial Guinea", "official": "Republic of Equatorial Guinea"},
                     "cca3": "GNQ", "capital": ["Malabo"], "population": 1402985, "region": "Africa",
                     "subregion": "Middle Africa", "currencies": {"XAF": {"name": "Central African CFA franc",
                                                                         "symbol": "Fr"}}}


@pytest.fixture
def api(stand_in, monkeypatch):
    monkeypatch.setenv("COUNTRY_INFO_BASE_URL", f"{stand_in.url}/v3.1/")
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "get_country_info")
    return stand_in


def ask(country) -> dict:
    return json.loads(registry.execute("get_country_info", json.dumps({"country": country})))


def test_capital_population_region_and_currencies(api):
    api.routes["/v3.1/name/France"] = Reply(200, json.dumps([FRANCE]).encode(), {"Content-Type": "application/json"})
    assert ask("France") == {
        "name": "France", "official_name": "French Republic", "code": "FRA", "capital": ["Paris"],
        "population": 66351959, "region": "Europe", "subregion": "Western Europe",
        "currencies": [{"code": "EUR", "name": "Euro", "symbol": "€"}]}
    (request,) = api.received
    assert request["path"] == f"/v3.1/name/France?fields={countries.FIELDS}"


def test_the_exact_name_wins_over_partial_matches(api):
    api.routes["/v3.1/name/guinea"] = Reply(200, json.dumps([EQUATORIAL_GUINEA, GUINEA]).encode())
    answer = ask("guinea")
    assert answer["name"] == "Guinea" and answer["capital"] == ["Conakry"]
    assert answer["other_matches"] == ["Equatorial Guinea"]


def test_names_are_sent_encoded(api):
    api.routes["/v3.1/name/C%C3%B4te%20d%27Ivoire"] = Reply(200, json.dumps([GUINEA]).encode())
    ask("  Côte   d'Ivoire ")
    assert api.received[0]["path"].startswith("/v3.1/name/C%C3%B4te%20d%27Ivoire?")


def test_an_unknown_country_is_a_clear_error(api):
    assert ask("Atlantis") == {"error": "no country named 'Atlantis' is known"}


@pytest.mark.parametrize("reply, message", [
    (Reply(500, b"oops"), "the countries service answered HTTP 500"),
    (Reply(301, headers={"Location": "http://127.0.0.1:9/"}), "the countries service answered HTTP 301"),
    (Reply(200, b"<html>not json</html>"), "not JSON"),
    (Reply(200, b"[]"), "no country named"),
    (Reply(200, b'{"status": 404}'), "no country named"),
    (Reply(200, b"[1, 2]"), "no country named"),
])
def test_a_misbehaving_service_is_reported(api, reply, message):
    api.routes["/v3.1/name/France"] = reply
    assert message in ask("France")["error"]


def test_a_slow_service_is_a_timeout_error(api, monkeypatch):
    monkeypatch.setattr(countries, "TIMEOUT_SECONDS", 0.3)
    api.routes["/v3.1/name/France"] = Reply(200, json.dumps([FRANCE]).encode(), delay_seconds=1.5)
    assert ask("France") == {"error": "the countries service did not answer in time"}


def test_an_unreachable_service_is_reported(monkeypatch):
    monkeypatch.setenv("COUNTRY_INFO_BASE_URL", "http://127.0.0.1:9/v3.1")
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "get_country_info")
    assert ask("France")["error"].startswith("the countries service could not be reached")


@pytest.mark.parametrize("country", ["", "   ", None, 7, "../../admin", "..", "France/../x", "x" * 200, "12345"])
def test_what_is_not_a_country_name_is_refused_before_any_call(api, country):
    assert "error" in ask(country)
    assert api.received == []
