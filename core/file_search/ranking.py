"""Pure retrieval decisions: the keyword query, reciprocal-rank fusion, attribute filters.

Hybrid search ranks chunks twice — BM25 over the words, cosine similarity of
embeddings — and fuses the two rankings by reciprocal rank (RRF): a chunk's
fused value is the sum of 1 / (RRF_K + rank) over the rankings it appears in.
RRF needs no calibration between BM25 scores and cosines, which are not on
comparable scales. The score reported (and compared with
`ranking_options.score_threshold`) is that sum divided by its maximum for the
rankings used, so it lies in [0, 1] and 1.0 means "first in every ranking".
"""

from __future__ import annotations

import re
from typing import Any, Hashable, Sequence, TypeVar

RRF_K = 60
_WORD = re.compile(r"\w+", re.UNICODE)


def keyword_query(text: str) -> str | None:
    """An FTS5 MATCH expression that ORs the query's words (each quoted, so no syntax leaks in)."""
    words = list(dict.fromkeys(word.lower() for word in _WORD.findall(text)))
    return " OR ".join(f'"{word}"' for word in words) if words else None


K = TypeVar("K", bound=Hashable)


def fuse(rankings: Sequence[Sequence[K] | None], limit: int) -> list[tuple[K, float]]:
    """Reciprocal-rank fusion of best-first rankings → (key, score in [0, 1]) best first."""
    used = [ranking for ranking in rankings if ranking is not None]
    if not used:
        return []
    best = len(used) / (RRF_K + 1)
    totals: dict[K, float] = {}
    for ranking in used:
        for rank, key in enumerate(ranking, start=1):
            totals[key] = totals.get(key, 0.0) + 1.0 / (RRF_K + rank)
    ordered = sorted(totals.items(), key=lambda item: -item[1])[:limit]
    return [(key, round(value / best, 6)) for key, value in ordered]


def matches(condition: dict[str, Any] | None, attributes: dict[str, Any] | None) -> bool:
    """Whether a file's attributes satisfy a comparison or compound filter (OpenAI's semantics)."""
    if condition is None:
        return True
    attributes = attributes or {}
    kind = condition["type"]
    if kind in ("and", "or"):
        results = (matches(part, attributes) for part in condition["filters"])
        return all(results) if kind == "and" else any(results)
    key, wanted = condition["key"], condition["value"]
    if key not in attributes:
        return kind in ("ne", "nin")
    actual = attributes[key]
    if kind == "eq":
        return _same(actual, wanted)
    if kind == "ne":
        return not _same(actual, wanted)
    if kind in ("in", "nin"):
        found = any(_same(actual, item) for item in wanted)
        return found if kind == "in" else not found
    if not _comparable(actual, wanted):
        return False
    return bool({"gt": actual > wanted, "gte": actual >= wanted, "lt": actual < wanted, "lte": actual <= wanted}[kind])


def _same(actual: object, wanted: object) -> bool:
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return type(actual) is type(wanted) and actual == wanted
    return actual == wanted


def _comparable(actual: object, wanted: object) -> bool:
    numbers = (int, float)
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return False
    return (isinstance(actual, numbers) and isinstance(wanted, numbers)) or (
        isinstance(actual, str) and isinstance(wanted, str))
