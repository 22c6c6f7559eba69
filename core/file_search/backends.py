"""Where file_search ranks chunks: this app's own index (default) or Azure AI Search, behind one interface.

`local`: segments in Blob storage are ranked by each instance's in-process index
(core.file_search.index): BM25 and cosine rankings fused by RRF here.
`azure_ai_search` (FILE_SEARCH_BACKEND): chunks are also pushed to an Azure AI
Search index at ingestion (core.file_search.azure_search), which runs the hybrid
query and its own RRF; for stores too large to rank in an instance's memory.
Either way a hit is (store id, file id, chunk text, score in [0, 1]).
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Protocol

from core import settings
from core.file_search import ranking
from core.file_search.hits import Hit, Wanted
from core.file_search.index import shared_index
from core.file_search.segments import Segment, SegmentStore

if TYPE_CHECKING:  # numpy is imported where it is used: it costs start-up time
    import numpy as np

class Backend(Protocol):
    def add(self, store_id: str, file_id: str, version: str, segment: Segment) -> None:
        """Make a file's new segment searchable (called by ingestion before the file completes)."""

    def remove(self, store_id: str, file_id: str) -> None: ...

    def remove_store(self, store_id: str) -> None: ...

    def hits(self, wanted: Wanted, query: str, vector: np.ndarray | None, limit: int) -> list[Hit]:
        """The best `limit` chunks of the wanted files for the query (and its embedding, if any)."""


class LocalBackend:
    """The app's own index: nothing to push (segments are the truth); ranking loads them on demand."""

    MIN_CANDIDATES = 50

    def __init__(self, segments: SegmentStore):
        self._segments = segments

    def add(self, store_id: str, file_id: str, version: str, segment: Segment) -> None:
        pass

    def remove(self, store_id: str, file_id: str) -> None:
        pass

    def remove_store(self, store_id: str) -> None:
        pass

    def hits(self, wanted: Wanted, query: str, vector: np.ndarray | None, limit: int) -> list[Hit]:
        index = shared_index()
        keys = []
        for store_id, files in wanted.items():
            index.sync(store_id, files, functools.partial(self._segments.read, store_id))
            keys += [f"{store_id}/{file_id}" for file_id in files]
        if not keys:
            return []
        candidates = max(self.MIN_CANDIDATES, 3 * limit)
        match = ranking.keyword_query(query)
        keyword = index.keyword(keys, match, candidates) if match else []
        by_vector = index.vector(keys, vector, candidates) if vector is not None else None
        fused = ranking.fuse([keyword, by_vector], limit)
        texts = index.chunks([chunk_id for chunk_id, _ in fused])
        hits = []
        for chunk_id, score in fused:
            if chunk_id in texts:
                key, text = texts[chunk_id]
                store_id, file_id = key.split("/", 1)
                hits.append(Hit(store_id, file_id, text, score))
        return hits


_backend: Backend | None = None
_lock = threading.Lock()


def backend(segments: SegmentStore) -> Backend:
    """The configured backend, built once per process."""
    global _backend
    with _lock:
        if _backend is None:
            if settings.get("FILE_SEARCH_BACKEND") == "azure_ai_search":
                from core.file_search.azure_search import AzureSearchBackend

                _backend = AzureSearchBackend.from_settings()
            else:
                _backend = LocalBackend(segments)
        return _backend
