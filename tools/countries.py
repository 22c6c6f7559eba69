"""get_country_info: capital, population, region and currencies of a country.

Asks a REST Countries v3.1 API (COUNTRY_INFO_BASE_URL, restcountries.com by default; an
operator's setting, so it is not behind the fetch guard) by name, and picks the country
whose common or official name matches exactly, else the first of the matches. The answer
is reduced to what a model needs; a name it does not know is a clear error.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests

from core import settings
from tools.registry import ServerTool, ToolError, register

TIMEOUT_SECONDS = 10.0
FIELDS = "name,capital,population,region,subregion,currencies,cca2,cca3"
_NAME = re.compile(r"[^\W\d_][\w .,'()\-]{0,99}")


def country_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ToolError("missing required argument: country")
    name = " ".join(value.split())
    if not _NAME.fullmatch(name):
        raise ToolError(f"{value[:100]!r} is not a country name")
    return name


def lookup_url(base_url: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/name/{quote(name, safe='')}?fields={FIELDS}"


def best_match(name: str, countries: list[dict]) -> dict:
    """The country named exactly so (common or official, any case), else the first."""
    wanted = name.casefold()
    for country in countries:
        names = country.get("name") or {}
        if wanted in (str(names.get("common", "")).casefold(), str(names.get("official", "")).casefold()):
            return country
    return countries[0]


def summary(country: dict, others: list[dict]) -> dict[str, Any]:
    """The fields a model needs, in plain shapes."""
    names = country.get("name") or {}
    currencies = country.get("currencies") or {}
    answer = {
        "name": names.get("common"),
        "official_name": names.get("official"),
        "code": country.get("cca3") or country.get("cca2"),
        "capital": list(country.get("capital") or []),
        "population": country.get("population"),
        "region": country.get("region"),
        "subregion": country.get("subregion"),
        "currencies": [{"code": code, "name": (info or {}).get("name"), "symbol": (info or {}).get("symbol")}
                       for code, info in sorted(currencies.items())],
    }
    other_names = [(c.get("name") or {}).get("common") for c in others if c is not country]
    if other_names:
        answer["other_matches"] = [n for n in other_names if n][:5]
    return answer


def get_country_info(arguments: dict[str, Any]) -> dict[str, Any]:
    name = country_name(arguments.get("country"))
    url = lookup_url(settings.get_str("COUNTRY_INFO_BASE_URL"), name)
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"},
                                allow_redirects=False)
    except requests.Timeout:
        raise ToolError("the countries service did not answer in time") from None
    except requests.RequestException as error:
        raise ToolError(f"the countries service could not be reached ({type(error).__name__})") from None
    if response.status_code == 404:
        raise ToolError(f"no country named {name!r} is known")
    if response.status_code != 200:
        raise ToolError(f"the countries service answered HTTP {response.status_code}")
    try:
        countries = response.json()
    except ValueError:
        raise ToolError("the countries service sent an answer that is not JSON") from None
    if not isinstance(countries, list) or not countries or not all(isinstance(c, dict) for c in countries):
        raise ToolError(f"no country named {name!r} is known")
    return summary(best_match(name, countries), countries)


register(ServerTool(
    name="get_country_info",
    description="Facts about a country by name: capital, population, region, subregion and currencies.",
    parameters={"type": "object", "properties": {
        "country": {"type": "string", "description": "Country name in English, e.g. France or United States"}},
        "required": ["country"]},
    run=get_country_info, timeout_seconds=TIMEOUT_SECONDS + 5))
