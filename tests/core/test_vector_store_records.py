"""Vector-store records from their one constructor each: what a client sees of them is the SDK's type
(strict, no unknown fields), and what is stored is what the API showed before the constructors."""

from __future__ import annotations

import pytest
from openai._models import BaseModel as SdkModel
from openai.types import VectorStore
from openai.types.vector_stores import VectorStoreFile, VectorStoreFileBatch

from core.repositories.vector_stores import batch_status, counts, public_file, store_status
from core.wire.vector_stores import new_file_batch, new_vector_store, new_vector_store_file

STATIC = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}


# OpenAI's API document has a store's `description`; the installed SDK's VectorStore does not (yet).
KNOWN_EXTRAS = {"description"}


def strict(sdk_type: type[SdkModel], data: dict) -> SdkModel:
    """Validate as the SDK does with _strict_response_validation, and refuse fields it does not know."""
    parsed = sdk_type.model_validate(data)
    unknown = set(parsed.model_extra or {}) - KNOWN_EXTRAS
    assert not unknown, f"{sdk_type.__name__} has unknown fields {unknown}"
    return parsed


def store_view(record: dict, now: int) -> dict:
    """As VectorStoreRepository.view shows a store without files."""
    file_counts, usage = counts([])
    return {**public_file(record), "usage_bytes": usage, "file_counts": file_counts,
            "status": store_status(record, file_counts, now),
            "expires_at": record["last_active_at"] + record["expires_after"]["days"] * 86_400
            if record["expires_after"] else None}


@pytest.mark.parametrize("expires_after", [None, {"anchor": "last_active_at", "days": 7}])
def test_a_new_store_is_the_sdks_vector_store(expires_after):
    record = new_vector_store("vs_1", 100, "notes", "about otters", expires_after, {"team": "research"})
    assert record == {"id": "vs_1", "object": "vector_store", "created_at": 100, "name": "notes",
                      "description": "about otters", "expires_after": expires_after, "last_active_at": 100,
                      "metadata": {"team": "research"}}
    store = strict(VectorStore, store_view(record, 100))
    assert (store.status, store.file_counts.total, store.usage_bytes) == ("completed", 0, 0)
    assert store.expires_at == (100 + 7 * 86_400 if expires_after else None)


def test_a_store_without_a_name_is_named_empty_and_has_no_metadata():
    record = new_vector_store("vs_1", 100)
    assert (record["name"], record["description"], record["metadata"], record["expires_after"]) == ("", None, {}, None)
    strict(VectorStore, store_view(record, 100))


def test_a_new_store_file_is_the_sdks_vector_store_file():
    record = new_vector_store_file("file-1", "vs_1", 100, STATIC, {"topic": "otters", "year": 2024})
    assert record == {"id": "file-1", "object": "vector_store.file", "created_at": 100, "vector_store_id": "vs_1",
                      "status": "in_progress", "usage_bytes": 0, "last_error": None, "chunking_strategy": STATIC,
                      "attributes": {"topic": "otters", "year": 2024}}
    store_file = strict(VectorStoreFile, public_file(record))
    assert store_file.chunking_strategy.type == "static" and store_file.attributes == {"topic": "otters", "year": 2024}
    assert new_vector_store_file("file-1", "vs_1", 100, STATIC)["attributes"] == {}


def test_a_new_file_batch_is_the_sdks_file_batch():
    record = new_file_batch("vsfb_1", "vs_1", 100)
    assert record == {"id": "vsfb_1", "object": "vector_store.files_batch", "created_at": 100,
                      "vector_store_id": "vs_1", "cancelled": False}
    file_counts, _ = counts([], record["id"])
    view = {**{key: value for key, value in record.items() if key != "cancelled"}, "file_counts": file_counts,
            "status": batch_status(record, file_counts)}
    assert strict(VectorStoreFileBatch, view).status == "completed"
