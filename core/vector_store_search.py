"""Searching vector stores: the one function the HTTP search endpoint and the run engine call.

A use case over two parts of core: the stores' records (core.repositories: ownership, expiry, the
files' attributes) and the search engine (core.file_search: index, ranking, embeddings). Apart from
core.file_search so that the engine never imports the repositories that use it.

    search(principal, vector_store_ids, query, max_num_results=20, score_threshold=0.0, filters=None)
        -> list[Result]   # best first; Result(file_id, file_name, score, content, attributes, vector_store_id)

Raises NotFound for a store the principal does not own and InvalidRequest for an
expired one. The stores' completed files that pass `filters` are ranked by the
configured backend (core.file_search.backends: this app's own index by default)
by BM25 and — when an embeddings model is configured — by vector similarity,
the two rankings fused by reciprocal rank. With no embeddings model the search
is keyword-only; `mode()` says which, and the HTTP endpoint reports it in the
`x-file-search-mode` header.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import openai

from core.file_search import embeddings, ranking
from core.file_search.backends import backend
from core.repositories.shared import vector_stores
from core.vector_store_bookkeeping import StoreFileBookkeeping

if TYPE_CHECKING:  # numpy is imported where it is used: it costs start-up time
    import numpy as np

DEFAULT_MAX_RESULTS = 20
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """One chunk found in one of the caller's stores, with what the search endpoint and file_search show of it."""

    file_id: str
    file_name: str
    score: float
    content: str
    attributes: dict[str, Any]
    vector_store_id: str


def mode() -> str:
    """'hybrid' when an embeddings model is configured, else 'keyword'."""
    return "hybrid" if embeddings.model() else "keyword"


def search(principal: str, vector_store_ids: list[str], query: str, max_num_results: int = DEFAULT_MAX_RESULTS,
           score_threshold: float = 0.0, filters: dict[str, Any] | None = None) -> list[Result]:
    now = int(time.time())
    repository = vector_stores()
    wanted: dict[str, dict[str, str]] = {}
    records: dict[tuple[str, str], tuple[dict[str, Any], StoreFileBookkeeping]] = {}
    for store_id in dict.fromkeys(vector_store_ids):
        repository.use(principal, store_id, now)
        wanted[store_id] = {}
        for record, books in repository.completed_files(principal, store_id):
            if ranking.matches(filters, record.get("attributes")):
                wanted[store_id][record["id"]] = cast(str, books.segment)  # a completed file's chunks have one
                records[(store_id, record["id"])] = record, books
    if not records:
        return []
    hits = backend(repository.segments).hits(wanted, query, _embed_query(query), max_num_results)
    results = []
    for hit in hits:
        found = records.get((hit.store_id, hit.file_id))
        if found is None or hit.score < score_threshold:
            continue
        record, books = found
        results.append(Result(file_id=hit.file_id, file_name=books.filename, score=hit.score, content=hit.text,
                              attributes=record.get("attributes") or {}, vector_store_id=hit.store_id))
    return results


def _embed_query(query: str) -> np.ndarray | None:
    try:
        vectors = embeddings.embed([query])
    except openai.OpenAIError as error:  # the provider is down: keyword results are better than none
        logger.warning("query embedding failed (%s); searching by keyword only", error)
        return None
    return None if vectors is None else vectors[0]
