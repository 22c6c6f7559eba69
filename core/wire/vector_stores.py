"""Vector store request bodies and objects: stores, store files, file batches, search."""


from typing import Annotated, Any, Literal, Union

from pydantic import Field, StringConstraints, model_validator

from core.wire.common import Metadata, RequestModel, WireModel, openai_error

MAX_STORE_FILE_IDS = 500
MAX_BATCH_FILES = 2000

Attributes = Annotated[
    dict[Annotated[str, StringConstraints(max_length=64)],
         Union[Annotated[str, StringConstraints(max_length=512)], bool, int, float]],
    Field(max_length=16, description="Up to 16 pairs; keys ≤ 64 chars; values strings ≤ 512 chars, numbers or booleans."),
]


# ---- chunking and expiry ------------------------------------------------------------------------

class AutoChunking(RequestModel):
    type: Literal["auto"]


class StaticChunkingSizes(RequestModel):
    max_chunk_size_tokens: int = Field(ge=100, le=4096)
    chunk_overlap_tokens: int = Field(ge=0)

    @model_validator(mode="after")
    def _overlap_at_most_half(self) -> "StaticChunkingSizes":
        if self.chunk_overlap_tokens > self.max_chunk_size_tokens // 2:
            raise openai_error("Invalid 'chunk_overlap_tokens': must not exceed half of 'max_chunk_size_tokens'.",
                               "invalid_value")
        return self


class StaticChunking(RequestModel):
    type: Literal["static"]
    static: StaticChunkingSizes


ChunkingStrategy = Annotated[Union[AutoChunking, StaticChunking], Field(discriminator="type")]


class ExpiresAfter(RequestModel):
    anchor: Literal["last_active_at"]
    days: int = Field(ge=1, le=365)


# ---- filters ----------------------------------------------------------------------------------

class ComparisonFilter(RequestModel):
    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
    key: str
    value: Union[str, bool, int, float, list[Union[str, int, float]]]

    @model_validator(mode="after")
    def _lists_only_for_membership(self) -> "ComparisonFilter":
        if (self.type in ("in", "nin")) != isinstance(self.value, list):
            raise openai_error(f"Invalid 'value' for filter type '{self.type}': "
                               f"{'an array' if self.type in ('in', 'nin') else 'a string, number or boolean'} "
                               f"is expected.", "invalid_value")
        return self


class CompoundFilter(RequestModel):
    type: Literal["and", "or"]
    filters: list[Annotated[Union[ComparisonFilter, "CompoundFilter"], Field(discriminator="type")]] = Field(
        min_length=1)


Filter = Annotated[Union[ComparisonFilter, CompoundFilter], Field(discriminator="type")]


# ---- requests --------------------------------------------------------------------------------

class VectorStoreCreate(RequestModel):
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=512)
    file_ids: list[str] = Field(default_factory=list, max_length=MAX_STORE_FILE_IDS)
    chunking_strategy: ChunkingStrategy | None = None
    expires_after: ExpiresAfter | None = None
    metadata: Metadata | None = None


class VectorStoreUpdate(RequestModel):
    name: str | None = Field(default=None, max_length=256)
    expires_after: ExpiresAfter | None = None
    metadata: Metadata | None = None


class StoreFileCreate(RequestModel):
    file_id: str
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = None


class StoreFileUpdate(RequestModel):
    attributes: Attributes | None


class BatchFile(RequestModel):
    file_id: str
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = None


class FileBatchCreate(RequestModel):
    file_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_BATCH_FILES)
    files: list[BatchFile] | None = Field(default=None, min_length=1, max_length=MAX_BATCH_FILES)
    attributes: Attributes | None = None
    chunking_strategy: ChunkingStrategy | None = None

    @model_validator(mode="after")
    def _one_list(self) -> "FileBatchCreate":
        if (self.file_ids is None) == (self.files is None):
            raise openai_error("Exactly one of 'file_ids' or 'files' must be provided.", "invalid_value")
        return self

    def entries(self) -> list[BatchFile]:
        """Each file with its own attributes and chunking (batch-wide ones apply to `file_ids`)."""
        if self.files is not None:
            return list(self.files)
        assert self.file_ids is not None  # _one_list: exactly one of the two is given
        return [BatchFile(file_id=file_id, attributes=self.attributes, chunking_strategy=self.chunking_strategy)
                for file_id in self.file_ids]


class SearchRankingOptions(RequestModel):
    ranker: Literal["none", "auto", "default-2024-11-15"] | None = None
    score_threshold: float | None = Field(default=None, ge=0, le=1)


class SearchRequest(RequestModel):
    query: Union[Annotated[str, StringConstraints(min_length=1, max_length=4096)],
                 Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=4096)]],
                           Field(min_length=1, max_length=10)]]
    filters: Filter | None = None
    max_num_results: int = Field(default=10, ge=1, le=50)
    ranking_options: SearchRankingOptions | None = None
    rewrite_query: bool = False

    def queries(self) -> list[str]:
        return [self.query] if isinstance(self.query, str) else list(self.query)


# ---- objects ---------------------------------------------------------------------------------

class FileCounts(WireModel):
    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    total: int = 0


class VectorStore(WireModel):
    id: str
    object: Literal["vector_store"] = "vector_store"
    created_at: int
    name: str
    description: str | None = None
    usage_bytes: int
    file_counts: FileCounts
    status: Literal["expired", "in_progress", "completed"]
    expires_after: dict[str, Any] | None
    expires_at: int | None
    last_active_at: int | None
    metadata: dict[str, str]


class LastError(WireModel):
    code: Literal["server_error", "unsupported_file", "invalid_file"]
    message: str


class VectorStoreFile(WireModel):
    id: str
    object: Literal["vector_store.file"] = "vector_store.file"
    created_at: int
    vector_store_id: str
    status: Literal["in_progress", "completed", "cancelled", "failed"]
    usage_bytes: int
    last_error: LastError | None
    chunking_strategy: dict[str, Any]
    attributes: dict[str, Any]


class VectorStoreFileBatch(WireModel):
    id: str
    object: Literal["vector_store.files_batch"] = "vector_store.files_batch"
    created_at: int
    vector_store_id: str
    status: Literal["in_progress", "completed", "cancelled", "failed"]
    file_counts: FileCounts


class SearchContent(WireModel):
    type: Literal["text"] = "text"
    text: str


class SearchResult(WireModel):
    file_id: str
    filename: str
    score: float
    attributes: dict[str, Any]
    content: list[SearchContent]


class SearchResultsPage(WireModel):
    object: Literal["vector_store.search_results.page"] = "vector_store.search_results.page"
    search_query: list[str]
    data: list[SearchResult]
    has_more: bool = False
    next_page: str | None = None


def expires_at(expires_after: dict[str, Any] | None, last_active_at: int) -> int | None:
    return last_active_at + expires_after["days"] * 86_400 if expires_after else None


# ---- constructors: the only place these records are built ------------------------------------------

# What a store's and a batch's objects show that is computed from their files whenever they are read
# (core.repositories.vector_stores), never stored.
STORE_COMPUTED = frozenset({"usage_bytes", "file_counts", "status", "expires_at"})
BATCH_COMPUTED = frozenset({"file_counts", "status"})


def new_vector_store(store_id: str, created_at: int, name: str | None = None, description: str | None = None,
                     expires_after: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new store's record: its vector_store object, without what is computed from its files (STORE_COMPUTED)."""
    return VectorStore(
        id=store_id, created_at=created_at, name=name or "", description=description, usage_bytes=0,
        file_counts=FileCounts(), status="completed", expires_after=expires_after,
        expires_at=expires_at(expires_after, created_at), last_active_at=created_at, metadata=metadata or {},
    ).model_dump(mode="json", exclude=set(STORE_COMPUTED))


def new_vector_store_file(file_id: str, store_id: str, created_at: int, chunking_strategy: dict[str, Any],
                          attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A file just attached to a store (its id is the file's): in progress until its ingestion ends."""
    return VectorStoreFile(
        id=file_id, created_at=created_at, vector_store_id=store_id, status="in_progress", usage_bytes=0,
        last_error=None, chunking_strategy=chunking_strategy, attributes=attributes or {},
    ).model_dump(mode="json")


def new_file_batch(batch_id: str, store_id: str, created_at: int) -> dict[str, Any]:
    """A new file batch's record: its object, without what is computed from its files (BATCH_COMPUTED)."""
    return VectorStoreFileBatch(
        id=batch_id, created_at=created_at, vector_store_id=store_id, status="in_progress", file_counts=FileCounts(),
    ).model_dump(mode="json", exclude=set(BATCH_COMPUTED))
