"""Vector-store records from their one constructor each: what a client sees of them is the SDK's type
(strict, no unknown fields), and what is stored is what the API showed before the constructors. Their
bookkeeping is kept beside them, and records stored with it inside (`_`-prefixed keys) still read."""

from __future__ import annotations

import pytest
from openai._models import BaseModel as SdkModel
from openai.types import VectorStore
from openai.types.vector_stores import VectorStoreFile, VectorStoreFileBatch

from core import ids
from core.pagination import PageRequest
from core.repositories.vector_stores import (
    BOOKS,
    VectorStoreRepository,
    batch_status,
    beside,
    counts,
    split,
    store_status,
)
from core.vector_store_bookkeeping import BatchBookkeeping, StoreBookkeeping, StoreFileBookkeeping
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
    return {**record, "usage_bytes": usage, "file_counts": file_counts,
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
    store_file = strict(VectorStoreFile, record)
    assert store_file.chunking_strategy.type == "static" and store_file.attributes == {"topic": "otters", "year": 2024}
    assert new_vector_store_file("file-1", "vs_1", 100, STATIC)["attributes"] == {}


def test_a_new_file_batch_is_the_sdks_file_batch():
    record = new_file_batch("vsfb_1", "vs_1", 100)
    assert record == {"id": "vsfb_1", "object": "vector_store.files_batch", "created_at": 100,
                      "vector_store_id": "vs_1"}
    file_counts, _ = counts([], record["id"])
    view = {**record, "file_counts": file_counts, "status": batch_status(BatchBookkeeping(), file_counts)}
    assert strict(VectorStoreFileBatch, view).status == "completed"
    assert batch_status(BatchBookkeeping(cancelled=True), file_counts) == "cancelled"


# ---- bookkeeping beside the record ---------------------------------------------------------------

FILE = new_vector_store_file("file-1", "vs_1", 100, STATIC)
FILE_BOOKS = StoreFileBookkeeping(filename="otters.txt", batch_id="vsfb_1", segment="v1")


@pytest.mark.parametrize("kind, record, books", [
    (StoreBookkeeping, new_vector_store("vs_1", 100), StoreBookkeeping(helper=True)),
    (StoreFileBookkeeping, FILE, FILE_BOOKS),
    (BatchBookkeeping, new_file_batch("vsfb_1", "vs_1", 100), BatchBookkeeping(cancelled=True)),
])
def test_bookkeeping_is_read_from_beside_the_record_or_from_inside_it_as_stored_before(kind, record, books):
    assert split(record, beside(books), kind) == (record, books)
    inside = {"_" + name if name != "cancelled" else name: value for name, value in books.model_dump().items()}
    assert split({**record, **inside}, {"batch_id": "vsfb_1"}, kind) == (record, books)
    assert split(record, {}, kind) == (record, kind())


def test_a_store_files_batch_is_also_a_column():
    assert beside(FILE_BOOKS)["batch_id"] == "vsfb_1" and beside(StoreFileBookkeeping())["batch_id"] == ""
    assert set(beside(StoreBookkeeping(helper=True))) == {BOOKS}


def test_records_stored_with_their_bookkeeping_inside_still_read_and_move_it_beside_when_written(store, principal):
    """As the repository stored a store and a store file before their bookkeeping had a property of its own."""
    repository = VectorStoreRepository(store)
    old_store = {**new_vector_store(ids.new_id("vector_store"), 100), "_helper": True}
    repository.stores.insert(principal, old_store)
    store_id = old_store["id"]
    old_file = {**new_vector_store_file(ids.new_id("file"), store_id, 100, STATIC),
                "_filename": "otters.txt", "_batch_id": "vsfb_1", "_segment": None}
    repository.files(store_id).insert(principal, old_file, {"batch_id": "vsfb_1"})
    public_store = {key: value for key, value in old_store.items() if key != "_helper"}
    public_file = {key: value for key, value in old_file.items() if not key.startswith("_")}

    assert repository.stored_store(principal, store_id) == (public_store, StoreBookkeeping(helper=True))
    assert repository.list_stores(principal, PageRequest()).data == [public_store]
    assert repository.stored_file(principal, store_id, old_file["id"]) == (
        public_file, StoreFileBookkeeping(filename="otters.txt", batch_id="vsfb_1"))
    assert repository.list_files(principal, store_id, PageRequest(), batch_id="vsfb_1").data == [public_file]

    assert repository.settle_file(principal, store_id, old_file["id"], status="completed", usage_bytes=5, segment="v1")
    [(settled, books)] = repository.completed_files(principal, store_id)
    assert settled == {**public_file, "status": "completed", "usage_bytes": 5}
    assert books == StoreFileBookkeeping(filename="otters.txt", batch_id="vsfb_1", segment="v1")
    entity = repository.files(store_id).load(principal, old_file["id"])[1]
    assert StoreFileBookkeeping.load(entity[BOOKS]) == books and entity["batch_id"] == "vsfb_1"
    assert counts(repository.file_rows(principal, store_id), "vsfb_1")[0]["completed"] == 1

    renamed = repository.update_store(principal, store_id, lambda record: {**record, "name": "notes"})
    assert renamed == {**public_store, "name": "notes"}
    assert repository.stored_store(principal, store_id)[1] == StoreBookkeeping(helper=True)
    assert "_helper" not in repository.stores.get(principal, store_id)  # moved beside when written
