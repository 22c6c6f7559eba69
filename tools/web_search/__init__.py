"""Web search for the model, on a search engine the operator chose (WEB_SEARCH_BACKEND), for any wire.

`search(query, ...)` is the one entry: the engine's top results (backends.py), kept to the
allowed domains and cut to a count, then — optionally — the readable text of the top pages,
fetched in parallel through tools/article.py (so through the public-only SSRF guard of
tools/safe_http.py), within one wall-clock budget. Every failure becomes the outcome's `error`,
a sentence for the model: a search never raises, so a run never fails because the web did.
The shape of the outcome (results.py) knows no API wire; the Assistants `browser` plug-in
(tools/plugins/web_search.py) renders it as a function call, Responses can render it as a
`web_search_call` item and its url_citation annotations.

(A subpackage of tools/, so tools/registry.py's scan for server functions skips it.)
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable

from core import settings
from tools.registry import ToolError
from tools.web_search.backends import Backend, Brave, SearXNG
from tools.web_search.results import (
    NOT_CONFIGURED,
    SearchFailed,
    SearchOutcome,
    WebResult,
    domains_of,
    filtered,
    with_page,
)

MAX_RESULTS_CAP = 20
MAX_QUERY_CHARS = 400
_LOG = logging.getLogger(__name__)
_PAGE_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="web-page")

PageFetcher = Callable[[str], dict]


@dataclass(frozen=True)
class Limits:
    """How far one search may go: the WEB_SEARCH_* settings, each held to a sane range."""

    max_results: int
    read_pages: int
    page_chars: int
    timeout_seconds: float
    allowed_domains: tuple[str, ...]

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(max_results=max(1, min(settings.get_int("WEB_SEARCH_MAX_RESULTS"), MAX_RESULTS_CAP)),
                   read_pages=max(0, settings.get_int("WEB_SEARCH_READ_PAGES")),
                   page_chars=max(0, settings.get_int("WEB_SEARCH_PAGE_CHARS")),
                   timeout_seconds=max(1.0, float(settings.get_str("WEB_SEARCH_TIMEOUT_SECONDS"))),
                   allowed_domains=domains_of(settings.get("WEB_SEARCH_ALLOWED_DOMAINS")))


def configuration_problem() -> str | None:
    """Why this deployment has no usable search engine (None: it has one)."""
    chosen = (settings.get("WEB_SEARCH_BACKEND") or "").strip().lower()
    if not chosen:
        return "WEB_SEARCH_BACKEND is not set"
    if chosen == "searxng":
        return None if (settings.get("WEB_SEARCH_SEARXNG_URL") or "").strip() else "WEB_SEARCH_SEARXNG_URL is not set"
    if chosen == "brave":
        key = (settings.get("WEB_SEARCH_BRAVE_API_KEY") or "").strip()
        if key.startswith("@Microsoft.KeyVault("):  # the platform could not resolve the reference
            return "WEB_SEARCH_BRAVE_API_KEY is a Key Vault reference the platform did not resolve"
        return None if key else "WEB_SEARCH_BRAVE_API_KEY is not set"
    return f"WEB_SEARCH_BACKEND is {chosen!r}, not 'searxng' or 'brave'"


def backend_from_settings() -> Backend | None:
    if configuration_problem() is not None:
        return None
    if (settings.get("WEB_SEARCH_BACKEND") or "").strip().lower() == "searxng":
        return SearXNG(settings.get_str("WEB_SEARCH_SEARXNG_URL").strip())
    return Brave(settings.get_str("WEB_SEARCH_BRAVE_API_KEY").strip())


_logged = False


def log_configuration_once() -> None:
    """At start-up: say once whether web search works here, and if not, why."""
    global _logged
    if _logged:
        return
    _logged = True
    problem = configuration_problem()
    if problem is None:
        backend = backend_from_settings()
        assert backend is not None  # configuration_problem() found none
        _LOG.info("web search: %s", backend.name)
    else:
        _LOG.warning("web search is not configured on this deployment (%s): browser tool calls answer the model so",
                     problem)


def _default_fetch(url: str) -> dict:
    from tools import article  # imported on first use: bs4/lxml stay out of cold start
    return article.fetch(url)


def search(query: str, *, backend: Backend | None, limits: Limits,
           allowed_domains: Iterable[str] = (), fetch_page: PageFetcher | None = None) -> SearchOutcome:
    """Search and read: never raises. `allowed_domains` narrows the operator's list further (a caller's
    filter, e.g. Responses' filters.allowed_domains); `fetch_page` is the page reader (tests pass one
    with loopback allowed)."""
    query = " ".join((query or "").split())[:MAX_QUERY_CHARS]
    if backend is None:
        return SearchOutcome(query, error=NOT_CONFIGURED)
    if not query:
        return SearchOutcome(query, error="the search needs a query")
    deadline = time.monotonic() + limits.timeout_seconds
    allowed = _narrowed(limits.allowed_domains, domains_of(",".join(allowed_domains)))
    if allowed is None:
        return SearchOutcome(query, error="no domain is allowed for this search")
    wanted = min(MAX_RESULTS_CAP, limits.max_results * (3 if allowed else 1))
    try:
        found = backend.search(query, wanted, limits.timeout_seconds)
    except SearchFailed as error:
        return SearchOutcome(query, error=str(error))
    except Exception as error:  # a backend bug must not fail the run either
        _LOG.exception("web search backend %s failed", backend.name)
        return SearchOutcome(query, error=f"the search failed ({error.__class__.__name__})")
    results, dropped = filtered(found, allowed, limits.max_results)
    if limits.read_pages and limits.page_chars and results:
        results = read_pages(results, limits.read_pages, limits.page_chars, deadline, fetch_page or _default_fetch)
    return SearchOutcome(query, tuple(results), dropped=dropped)


def _narrowed(operator: tuple[str, ...], caller: tuple[str, ...]) -> tuple[str, ...] | None:
    """The domains both lists allow (empty: any); None when they have none in common."""
    if not operator or not caller:
        return operator or caller
    both = tuple(domain for domain in caller if any(domain == mine or domain.endswith("." + mine) for mine in operator))
    return both or None


def read_pages(results: list[WebResult], count: int, max_chars: int, deadline: float,
               fetch_page: PageFetcher) -> list[WebResult]:
    """The readable text of the first `count` results' pages, read in parallel until `deadline`;
    a page that fails or is late keeps its snippet and says why."""
    chosen = results[:count]
    futures = [_PAGE_POOL.submit(fetch_page, result.url) for result in chosen]
    wait(futures, timeout=max(0.0, deadline - time.monotonic()))
    read = []
    for result, future in zip(chosen, futures):
        if not future.done():
            future.cancel()
            read.append(with_page(result, None, "the page took too long to load", max_chars))
            continue
        try:
            page = future.result()
            read.append(with_page(result, page.get("text") or "", None, max_chars))
        except ToolError as error:
            read.append(with_page(result, None, str(error), max_chars))
        except Exception as error:
            read.append(with_page(result, None, f"the page could not be read ({error.__class__.__name__})", max_chars))
    return read + results[count:]


__all__ = ["Backend", "Brave", "Limits", "SearXNG", "SearchFailed", "SearchOutcome", "WebResult",
           "backend_from_settings", "configuration_problem", "log_configuration_once", "read_pages", "search"]
