"""Searching vector stores: the one function the HTTP search endpoint and the run engine call.

    search(principal, vector_store_ids, query, max_num_results=20, score_threshold=0.0, filters=None)
        -> list[Result]   # best first; Result(file_id, file_name, score, content, attributes, vector_store_id)

Raises NotFound for a store the principal does not own and InvalidRequest for an
expired one. Each store's completed files are brought into the process's index
(core.file_search.index), files failing `filters` are left out, chunks are
ranked by BM25 and — when an embeddings model is configured — by cosine
similarity, and the two rankings are fused (core.file_search.ranking). With no
embeddings model the search is keyword-only; `mode()` says which, and the
HTTP endpoint reports it in the `x-file-search-mode` header.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import openai

from core.file_search import embeddings, ranking
from core.file_search.index import shared_index
from core.repositories.shared import vector_stores

DEFAULT_MAX_RESULTS = 20
MIN_CANDIDATES = 50
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    file_id: str
    file_name: str
    score: float
    content: str
    attributes: dict
    vector_store_id: str


def mode() -> str:
    """'hybrid' when an embeddings model is configured, else 'keyword'."""
    return "hybrid" if embeddings.model() else "keyword"


def search(principal: str, vector_store_ids: list[str], query: str, max_num_results: int = DEFAULT_MAX_RESULTS,
           score_threshold: float = 0.0, filters: dict | None = None) -> list[Result]:
    now = int(time.time())
    repository = vector_stores()
    index = shared_index()
    keys: list[str] = []
    files: dict[str, dict] = {}
    for store_id in dict.fromkeys(vector_store_ids):
        repository.use(principal, store_id, now)
        completed = repository.completed_files(principal, store_id)
        index.sync(store_id, {record["id"]: record["_segment"] for record in completed},
                   lambda file_id, version, store_id=store_id: repository.segments.read(store_id, file_id, version))
        for record in completed:
            if ranking.matches(filters, record.get("attributes")):
                key = f"{store_id}/{record['id']}"
                keys.append(key)
                files[key] = record
    if not keys:
        return []
    candidates = max(MIN_CANDIDATES, 3 * max_num_results)
    match = ranking.keyword_query(query)
    keyword = index.keyword(keys, match, candidates) if match else []
    vector = None
    query_vector = _embed_query(query)
    if query_vector is not None:
        vector = index.vector(keys, query_vector, candidates)
    fused = ranking.fuse([keyword, vector], max_num_results)
    texts = index.chunks([chunk_id for chunk_id, _ in fused])
    results = []
    for chunk_id, score in fused:
        if score < score_threshold or chunk_id not in texts:
            continue
        key, text = texts[chunk_id]
        record = files[key]
        results.append(Result(file_id=record["id"], file_name=record["_filename"], score=score, content=text,
                              attributes=record.get("attributes") or {}, vector_store_id=record["vector_store_id"]))
    return results


def _embed_query(query: str):
    try:
        vectors = embeddings.embed([query])
    except openai.OpenAIError as error:  # the provider is down: keyword results are better than none
        logger.warning("query embedding failed (%s); searching by keyword only", error)
        return None
    return None if vectors is None else vectors[0]
