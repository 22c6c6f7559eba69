"""The Azure AI Search backend: chunks in a search index, ranked by its hybrid (BM25 + HNSW vector) query.

One index holds every store's chunks (AZURE_SEARCH_INDEX). A document is one
chunk, keyed by store, file, segment version and position; queries filter on the
`segment` field to exactly the versions the store's completed records name, so
chunks of a version being replaced or removed never show. The service runs
reciprocal-rank fusion itself (k = 60, as core.file_search.ranking), so its
hybrid score is normalised the same way; keyword-only results are scored by rank.

The index's schema is defined here once (`index_definition`), but the app never
creates the index: that is a control-plane change its identity has no role for.
The postprovision hook (infra/hooks/postprovision.sh / .ps1) creates it as the
deploying user, sized to the embeddings deployment's vectors:

    python -m core.file_search.azure_search create-index --endpoint URL --dimensions N [--index NAME]

At run time the app only reads and writes documents (Search Index Data
Contributor, see infra/app/search.bicep), a role that cannot read the index's
definition either: a missing index, or one whose vectors have another size than
the embeddings the app has, shows as the service refusing a document call, and
ingestion or search then fails with `IndexNotReady`, naming the postprovision
step. Authentication: managed identity, or AZURE_SEARCH_API_KEY.
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from core import settings
from core.errors import ServerError
from core.file_search.hits import Hit, Wanted
from core.file_search.ranking import RRF_K
from core.file_search.segments import Segment

if TYPE_CHECKING:  # numpy and the SDKs are imported where they are used: they cost start-up time
    import numpy as np
    from azure.core.credentials import AzureKeyCredential, TokenCredential
    from azure.search.documents.indexes.models import SearchIndex

    Credential = AzureKeyCredential | TokenCredential

T = TypeVar("T")

UPLOAD_BATCH = 500
VECTOR_FIELD = "vector"
_PROFILE = "chunks-hnsw"
CREATE_STEP = ("the postprovision step creates it (`azd hooks run postprovision`, infra/hooks/postprovision.sh; "
               "or `python -m core.file_search.azure_search create-index --endpoint <endpoint> --dimensions <N>` "
               "as someone with Search Service Contributor on the service); the app never creates it")


class IndexNotReady(ServerError):
    """The search index is missing, or does not take the embeddings' vectors: fix the provisioning."""

    def __init__(self, message: str):
        super().__init__(message, code="search_index_not_ready")


def index_definition(name: str, dimensions: int) -> SearchIndex:
    """The one schema of the chunk index (a SearchIndex), with `dimensions`-long vectors."""
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
        # Collection is monkey-patched onto the enum at runtime (the package's indexes/models/_patch.py)
        SearchField(name=VECTOR_FIELD, type=SearchFieldDataType.Collection(SearchFieldDataType.SINGLE),  # type: ignore[operator]
                    searchable=True, vector_search_dimensions=dimensions, vector_search_profile_name=_PROFILE),
    ]
    vector_search = VectorSearch(algorithms=[HnswAlgorithmConfiguration(name="hnsw")],
                                 profiles=[VectorSearchProfile(name=_PROFILE, algorithm_configuration_name="hnsw")])
    return SearchIndex(name=name, fields=fields, vector_search=vector_search)


def vector_dimensions(index: SearchIndex) -> int | None:
    """The vector size an existing index takes (None when it has no vector field)."""
    for field in index.fields:
        if field.name == VECTOR_FIELD:
            return field.vector_search_dimensions
    return None


def credential() -> Credential:
    """AZURE_SEARCH_API_KEY when set, else Entra ID: the app's managed identity (AZURE_CLIENT_ID) in Azure."""
    key = settings.get("AZURE_SEARCH_API_KEY")
    if key:
        from azure.core.credentials import AzureKeyCredential

        return AzureKeyCredential(key)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(managed_identity_client_id=settings.get("AZURE_CLIENT_ID"))


def _segment_key(store_id: str, file_id: str, version: str) -> str:
    return f"{store_id}/{file_id}/{version}"


class AzureSearchBackend:
    def __init__(self, endpoint: str, index_name: str, credential: Credential):
        from azure.search.documents import SearchClient

        self._endpoint = endpoint
        self._index_name = index_name
        self._client = SearchClient(endpoint, index_name, credential)

    @classmethod
    def from_settings(cls) -> "AzureSearchBackend":
        endpoint = settings.get("AZURE_SEARCH_ENDPOINT")
        if not endpoint:
            raise RuntimeError("FILE_SEARCH_BACKEND is azure_ai_search but AZURE_SEARCH_ENDPOINT is not set.")
        return cls(endpoint, settings.get_str("AZURE_SEARCH_INDEX"), credential())

    def _missing(self) -> IndexNotReady:
        return IndexNotReady(f"The Azure AI Search index '{self._index_name}' does not exist at {self._endpoint}: "
                             f"{CREATE_STEP}.")

    def _refused(self, dimensions: int, error: Exception) -> IndexNotReady:
        said = getattr(error, "message", None) or str(error)
        return IndexNotReady(
            f"The Azure AI Search index '{self._index_name}' at {self._endpoint} does not take the embeddings' "
            f"{dimensions}-dimension vectors (the service said: {said.strip()}). Its vector size is set when it "
            f"is created: if the embeddings model changed, delete the index and run the postprovision step again "
            f"with AZURE_OPENAI_EMBEDDINGS_DIMENSIONS={dimensions}; {CREATE_STEP}.")

    def _call(self, action: Callable[[], T], dimensions: int | None) -> T:
        """Runs a document call, turning the service's refusals that mean a wrong index into IndexNotReady."""
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        try:
            return action()
        except ResourceNotFoundError:
            raise self._missing() from None
        except HttpResponseError as error:
            if dimensions is not None and error.status_code == 400 and "dimension" in str(error).lower():
                raise self._refused(dimensions, error) from None
            raise

    def add(self, store_id: str, file_id: str, version: str, segment: Segment) -> None:
        dimensions = segment.vectors.shape[1] if segment.vectors is not None else None
        documents = []
        for position, text in enumerate(segment.texts):
            document = {"id": f"{store_id}_{file_id}_{version}_{position}",
                        "store_id": store_id, "file_id": file_id,
                        "segment": _segment_key(store_id, file_id, version), "text": text}
            if segment.vectors is not None:
                document[VECTOR_FIELD] = segment.vectors[position].tolist()
            documents.append(document)
        for start in range(0, len(documents), UPLOAD_BATCH):
            batch = documents[start:start + UPLOAD_BATCH]
            results = self._call(functools.partial(self._client.upload_documents, batch), dimensions)
            refused = [result for result in results if not result.succeeded]
            if refused:
                message = refused[0].error_message or f"status {refused[0].status_code}"
                if dimensions is not None and "dimension" in message.lower():
                    raise self._refused(dimensions, RuntimeError(message))
                raise RuntimeError(f"Azure AI Search refused {len(refused)} of {len(batch)} chunks: {message}")

    def _delete_where(self, condition: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        while True:
            try:
                keys = [{"id": row["id"]} for row in self._client.search(search_text="*", filter=condition,
                                                                          select=["id"], top=1000)]
            except ResourceNotFoundError:
                return  # no index: nothing of the store's is in it
            if not keys:
                return
            self._client.delete_documents(keys)

    def remove(self, store_id: str, file_id: str) -> None:
        self._delete_where(f"store_id eq '{store_id}' and file_id eq '{file_id}'")

    def remove_store(self, store_id: str) -> None:
        self._delete_where(f"store_id eq '{store_id}'")

    def hits(self, wanted: Wanted, query: str, vector: np.ndarray | None, limit: int) -> list[Hit]:
        from azure.search.documents.models import VectorizedQuery, VectorQuery

        segments = [_segment_key(store_id, file_id, version)
                    for store_id, files in wanted.items() for file_id, version in files.items()]
        if not segments:
            return []
        vector_queries: list[VectorQuery] | None = [VectorizedQuery(vector=vector.tolist(), k_nearest_neighbors=max(50, 3 * limit),
                                          fields=VECTOR_FIELD)] if vector is not None else None

        def search() -> list[dict[str, Any]]:  # the pages are fetched while iterating: inside _call
            return list(self._client.search(search_text=query, vector_queries=vector_queries, top=limit,
                                            filter=f"search.in(segment, '{','.join(segments)}', ',')",
                                            select=["store_id", "file_id", "text"]))

        rows = self._call(search, vector.shape[0] if vector is not None else None)
        best = (2 if vector is not None else 1) / (RRF_K + 1)
        hits = []
        for rank, row in enumerate(rows, start=1):
            score = row["@search.score"] / best if vector is not None else (RRF_K + 1) / (RRF_K + rank)
            hits.append(Hit(row["store_id"], row["file_id"], row["text"], round(min(score, 1.0), 6)))
        return hits


# --- creating the index: the postprovision step, as the deploying user ------------------------


class IndexMismatch(Exception):
    """An index of that name exists with another vector size: recreating it would drop every chunk."""


def create_index(endpoint: str, name: str, dimensions: int, credential: Credential) -> str:
    """Creates the chunk index, or brings an existing one of the same vector size up to the schema; says which."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.search.documents.indexes import SearchIndexClient

    indexes = SearchIndexClient(endpoint, credential)
    try:
        existing = indexes.get_index(name)
    except ResourceNotFoundError:
        existing = None
    if existing is not None:
        current = vector_dimensions(existing)
        if current != dimensions:
            raise IndexMismatch(
                f"The index '{name}' at {endpoint} exists with {current}-dimension vectors, not {dimensions}: "
                f"its vector size cannot change. If the embeddings model changed, delete the index (its chunks "
                f"go with it: re-add the files to their vector stores) and run this again.")
    indexes.create_or_update_index(index_definition(name, dimensions))
    if existing is not None:
        return f"The search index '{name}' is ready ({dimensions}-dimension vectors, already there)."
    return f"Created the search index '{name}' ({dimensions}-dimension vectors) at {endpoint}."


def deployer_credential() -> Credential:
    """AZURE_SEARCH_API_KEY when set, else whoever runs the command (az / azd sign-in, or a pipeline's
    service principal from the environment), never a managed identity of the machine it runs on."""
    if settings.get("AZURE_SEARCH_API_KEY"):
        return credential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_managed_identity_credential=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.file_search.azure_search",
                                     description="Manage file_search's Azure AI Search index.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-index", help="create the chunk index (the postprovision hook runs this)")
    create.add_argument("--endpoint", required=True, help="the search service's endpoint, https://<name>.search...")
    create.add_argument("--dimensions", required=True, type=int,
                        help="vector size of the embeddings deployment (text-embedding-3-small: 1536)")
    create.add_argument("--index", default=settings.get("AZURE_SEARCH_INDEX"),
                        help="index name (default: AZURE_SEARCH_INDEX, else %(default)s)")
    arguments = parser.parse_args(argv)
    if arguments.dimensions < 1:
        parser.error("--dimensions must be a positive number")
    try:
        print(create_index(arguments.endpoint, arguments.index, arguments.dimensions, deployer_credential()))
    except IndexMismatch as error:
        print(error, file=sys.stderr)
        return 3
    except Exception as error:  # the service's refusal (403 until a role applies, ...) is what the hook reports
        print(f"{type(error).__name__}: {error}".replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
