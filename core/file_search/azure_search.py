"""The Azure AI Search backend: chunks in a search index, ranked by its hybrid (BM25 + HNSW vector) query.

One index holds every store's chunks (AZURE_SEARCH_INDEX, created on first
use with the first segment's vector dimensions). A document is one chunk,
keyed by store, file, segment version and position; queries filter on the
`segment` field to exactly the versions the store's completed records name, so
chunks of a version being replaced or removed never show. The service runs
reciprocal-rank fusion itself (k = 60, as core.file_search.ranking), so its
hybrid score is normalised the same way; keyword-only results are scored by rank.
Authentication: managed identity (Search Index Data Contributor and Search
Service Contributor roles, see infra/app/search.bicep), or AZURE_SEARCH_API_KEY.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from core import settings
from core.file_search.hits import Hit, Wanted
from core.file_search.ranking import RRF_K
from core.file_search.segments import Segment

if TYPE_CHECKING:  # numpy is imported where it is used: it costs start-up time
    import numpy as np

DEFAULT_DIMENSIONS = 1536  # text-embedding-3-small, when the first segment has no vectors
UPLOAD_BATCH = 500
_PROFILE = "chunks-hnsw"


def _segment_key(store_id: str, file_id: str, version: str) -> str:
    return f"{store_id}/{file_id}/{version}"


class AzureSearchBackend:
    def __init__(self, endpoint: str, index_name: str, credential):
        from azure.search.documents import SearchClient
        from azure.search.documents.indexes import SearchIndexClient

        self._index_name = index_name
        self._indexes = SearchIndexClient(endpoint, credential)
        self._client = SearchClient(endpoint, index_name, credential)
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> "AzureSearchBackend":
        key = settings.get("AZURE_SEARCH_API_KEY")
        if key:
            from azure.core.credentials import AzureKeyCredential

            credential = AzureKeyCredential(key)
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(managed_identity_client_id=settings.get("AZURE_CLIENT_ID"))
        endpoint = settings.get("AZURE_SEARCH_ENDPOINT")
        if not endpoint:
            raise RuntimeError("FILE_SEARCH_BACKEND is azure_ai_search but AZURE_SEARCH_ENDPOINT is not set.")
        return cls(endpoint, settings.get("AZURE_SEARCH_INDEX"), credential)

    def _ensure_index(self, dimensions: int) -> None:
        with self._lock:
            if self._ready:
                return
            from azure.search.documents.indexes.models import (
                HnswAlgorithmConfiguration,
                SearchField,
                SearchFieldDataType,
                SearchIndex,
                SimpleField,
                VectorSearch,
                VectorSearchProfile,
            )

            fields = [
                SimpleField(name="id", type=SearchFieldDataType.STRING, key=True),
                SimpleField(name="store_id", type=SearchFieldDataType.STRING, filterable=True),
                SimpleField(name="file_id", type=SearchFieldDataType.STRING, filterable=True),
                SimpleField(name="segment", type=SearchFieldDataType.STRING, filterable=True),
                SearchField(name="text", type=SearchFieldDataType.STRING, searchable=True),
                SearchField(name="vector", type=SearchFieldDataType.Collection(SearchFieldDataType.SINGLE),
                            searchable=True, vector_search_dimensions=dimensions,
                            vector_search_profile_name=_PROFILE),
            ]
            vector_search = VectorSearch(algorithms=[HnswAlgorithmConfiguration(name="hnsw")],
                                         profiles=[VectorSearchProfile(name=_PROFILE, algorithm_configuration_name="hnsw")])
            try:
                self._indexes.get_index(self._index_name)
            except Exception:  # not found (or not readable): create it; a real failure surfaces on create
                self._indexes.create_or_update_index(SearchIndex(name=self._index_name, fields=fields,
                                                                 vector_search=vector_search))
            self._ready = True

    def add(self, store_id: str, file_id: str, version: str, segment: Segment) -> None:
        dimensions = segment.vectors.shape[1] if segment.vectors is not None else DEFAULT_DIMENSIONS
        self._ensure_index(dimensions)
        documents = []
        for position, text in enumerate(segment.texts):
            document = {"id": f"{store_id}_{file_id}_{version}_{position}",
                        "store_id": store_id, "file_id": file_id,
                        "segment": _segment_key(store_id, file_id, version), "text": text}
            if segment.vectors is not None:
                document["vector"] = segment.vectors[position].tolist()
            documents.append(document)
        for start in range(0, len(documents), UPLOAD_BATCH):
            self._client.upload_documents(documents[start:start + UPLOAD_BATCH])

    def _delete_where(self, condition: str) -> None:
        if not self._ready:
            try:
                self._indexes.get_index(self._index_name)
            except Exception:
                return  # no index yet: nothing to delete
        while True:
            keys = [{"id": row["id"]} for row in self._client.search(search_text="*", filter=condition,
                                                                      select=["id"], top=1000)]
            if not keys:
                return
            self._client.delete_documents(keys)

    def remove(self, store_id: str, file_id: str) -> None:
        self._delete_where(f"store_id eq '{store_id}' and file_id eq '{file_id}'")

    def remove_store(self, store_id: str) -> None:
        self._delete_where(f"store_id eq '{store_id}'")

    def hits(self, wanted: Wanted, query: str, vector: np.ndarray | None, limit: int) -> list[Hit]:
        from azure.search.documents.models import VectorizedQuery

        segments = [_segment_key(store_id, file_id, version)
                    for store_id, files in wanted.items() for file_id, version in files.items()]
        if not segments:
            return []
        self._ensure_index(vector.shape[0] if vector is not None else DEFAULT_DIMENSIONS)
        vector_queries = [VectorizedQuery(vector=vector.tolist(), k_nearest_neighbors=max(50, 3 * limit),
                                          fields="vector")] if vector is not None else None
        rows = self._client.search(search_text=query, vector_queries=vector_queries, top=limit,
                                   filter=f"search.in(segment, '{','.join(segments)}', ',')",
                                   select=["store_id", "file_id", "text"])
        best = (2 if vector is not None else 1) / (RRF_K + 1)
        hits = []
        for rank, row in enumerate(rows, start=1):
            score = row["@search.score"] / best if vector is not None else (RRF_K + 1) / (RRF_K + rank)
            hits.append(Hit(row["store_id"], row["file_id"], row["text"], round(min(score, 1.0), 6)))
        return hits
