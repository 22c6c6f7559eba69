"""Search engines behind one interface: `Backend.search(query, count, timeout_seconds)` → results.

- SearXNG (self-hosted, the operator's URL): its JSON API, /search?q=…&format=json. The URL is
  configuration, not a model's choice, so it is reached as configured (a private Container App
  address included) rather than through the public-only guard of tools/safe_http.py; every
  request is still bounded in time (connect and read) and in bytes.
- Brave Search API (rented, keyed): https://api.search.brave.com/res/v1/web/search with the key in
  the X-Subscription-Token header; the query leaves the subscription.

A backend raises SearchFailed with a sentence the model can read, for every way a search can go
wrong: unreachable, slow, an HTTP error, an answer too large or not in the expected shape.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from urllib.parse import urlencode

import certifi
import urllib3

from tools.web_search.results import SearchFailed, WebResult, brave_results, searxng_results

MAX_ANSWER_BYTES = 1024 * 1024
USER_AGENT = "assistants-in-a-box/1 (+web_search)"
BRAVE_ENDPOINT = "https://api.search.brave.com/res/v1/web/search"
BRAVE_MAX_COUNT = 20
_POOL = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), retries=False)


def get_bounded(url: str, headers: dict[str, str], timeout_seconds: float, engine: str) -> bytes:
    """GET `url`: the whole answer within `timeout_seconds` and MAX_ANSWER_BYTES, a 2xx status, or SearchFailed."""
    deadline = time.monotonic() + timeout_seconds
    try:
        response = _POOL.request("GET", url, headers={"User-Agent": USER_AGENT, "Accept": "application/json",
                                                      "Accept-Encoding": "identity", **headers},
                                 timeout=urllib3.Timeout(connect=min(timeout_seconds, 5.0), read=timeout_seconds),
                                 redirect=False, preload_content=False)
    except urllib3.exceptions.NewConnectionError:  # (a TimeoutError subclass in urllib3 2: refused comes first)
        raise SearchFailed(f"the search engine ({engine}) could not be reached (connection refused)") from None
    except urllib3.exceptions.TimeoutError:
        raise SearchFailed(f"the search engine ({engine}) did not answer in time") from None
    except urllib3.exceptions.HTTPError as error:
        raise SearchFailed(f"the search engine ({engine}) could not be reached ({error.__class__.__name__})") from None
    try:
        chunks, size = [], 0
        while True:
            if time.monotonic() > deadline:
                raise SearchFailed(f"the search engine ({engine}) did not answer in time")
            chunk = response.read1(65_536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise SearchFailed(f"the search engine ({engine}) answered with more than {MAX_ANSWER_BYTES} bytes")
            chunks.append(chunk)
    except urllib3.exceptions.TimeoutError:
        raise SearchFailed(f"the search engine ({engine}) did not answer in time") from None
    except urllib3.exceptions.HTTPError as error:
        raise SearchFailed(f"reading the search engine's ({engine}) answer failed ({error.__class__.__name__})") from None
    finally:
        response.release_conn()
    if response.status == 429:
        raise SearchFailed(f"the search engine ({engine}) is rate limiting this deployment; try again later")
    if not 200 <= response.status < 300:
        raise SearchFailed(f"the search engine ({engine}) answered HTTP {response.status}")
    return b"".join(chunks)


class Backend(ABC):
    name: str

    @abstractmethod
    def search(self, query: str, count: int, timeout_seconds: float) -> list[WebResult]:
        """Up to about `count` results for `query` (an engine may give more: the caller cuts), or SearchFailed."""


class SearXNG(Backend):
    name = "SearXNG"

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")

    def search(self, query: str, count: int, timeout_seconds: float) -> list[WebResult]:
        url = f"{self.base_url}/search?" + urlencode({"q": query, "format": "json", "safesearch": "1"})
        return searxng_results(get_bounded(url, {}, timeout_seconds, self.name))


class Brave(Backend):
    name = "Brave Search"

    def __init__(self, api_key: str, endpoint: str = BRAVE_ENDPOINT):
        self.api_key = api_key
        self.endpoint = endpoint

    def search(self, query: str, count: int, timeout_seconds: float) -> list[WebResult]:
        url = f"{self.endpoint}?" + urlencode({"q": query, "count": max(1, min(count, BRAVE_MAX_COUNT))})
        return brave_results(get_bounded(url, {"X-Subscription-Token": self.api_key}, timeout_seconds, self.name))
