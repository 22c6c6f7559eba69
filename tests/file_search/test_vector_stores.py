"""The Vector Stores API through the official SDK: stores, files, batches, search, errors, ownership."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import openai
import pytest

from core.file_search.segments import CONTAINER
from core.storage_connection import StorageConnection
from core.store import Store
from tests.file_search.conftest import auth_headers, strict_client, upload, wait_file
from tests.file_search.documents import (
    docx_bomb,
    docx_bytes,
    docx_of_elements,
    pdf_bytes,
    pdf_with_stream_of,
    zip_of_many_parts,
)

OTTERS = "Sea otters hold hands while sleeping so they do not drift apart. They use rocks to open shellfish."
VOLCANO = "Volcanic eruptions release magma, ash and gases. Mount Etna in Sicily is one of the most active volcanoes."
TEA = "Green tea is steeped at lower temperatures than black tea; oolong sits between them in oxidation."


def store_with(client, documents: dict[str, str | bytes], **options):
    files = [upload(client, name, data) for name, data in documents.items()]
    store = client.vector_stores.create(name="test store", file_ids=[file.id for file in files], **options)
    for file in files:
        assert wait_file(client, store.id, file.id).status == "completed"
    return client.vector_stores.retrieve(store.id), files


def test_store_lifecycle_counts_usage_and_search(sdk, azurite):
    store, files = store_with(sdk, {"otters.txt": OTTERS, "volcano.md": VOLCANO, "tea.pdf": pdf_bytes([TEA])},
                              metadata={"team": "docs"})
    assert store.object == "vector_store" and store.status == "completed" and store.metadata == {"team": "docs"}
    assert store.file_counts.completed == 3 and store.file_counts.total == 3 and store.usage_bytes > len(OTTERS)
    assert store.last_active_at and store.expires_at is None

    results = sdk.vector_stores.search(store.id, query="Which volcano is in Sicily?")
    assert results.data[0].filename == "volcano.md" and results.data[0].file_id == files[1].id
    assert "Etna" in results.data[0].content[0].text and 0 < results.data[0].score <= 1
    pdf_hit = sdk.vector_stores.search(store.id, query="oolong oxidation", max_num_results=1)
    assert [hit.filename for hit in pdf_hit.data] == ["tea.pdf"]

    listed = sdk.vector_stores.files.list(vector_store_id=store.id, order="asc")
    assert {file.id for file in listed.data} == {file.id for file in files}
    assert all(file.chunking_strategy.type == "static" and file.chunking_strategy.static.max_chunk_size_tokens == 800
               for file in listed.data)
    content = sdk.vector_stores.files.content(files[0].id, vector_store_id=store.id)
    assert [part.text for part in content] == [OTTERS]

    renamed = sdk.vector_stores.update(store.id, name="renamed", expires_after={"anchor": "last_active_at", "days": 2})
    assert renamed.name == "renamed" and renamed.expires_at == renamed.last_active_at + 2 * 86400
    assert store.id in [item.id for item in sdk.vector_stores.list()]

    deleted = sdk.vector_stores.files.delete(files[1].id, vector_store_id=store.id)
    assert deleted.deleted and deleted.object == "vector_store.file.deleted"
    after = sdk.vector_stores.search(store.id, query="Which volcano is in Sicily?")
    assert "volcano.md" not in [hit.filename for hit in after.data]
    assert sdk.vector_stores.retrieve(store.id).file_counts.total == 2

    sdk.files.delete(files[0].id)  # deleting the file removes it from its stores
    assert sdk.vector_stores.retrieve(store.id).file_counts.total == 1
    assert "otters.txt" not in [hit.filename for hit in sdk.vector_stores.search(store.id, query="otters").data]

    chunks = Store(StorageConnection(azurite.connection_string, None, None)).container(CONTAINER)
    assert len(list(chunks.list_blobs(name_starts_with=f"{store.id}/"))) == 1  # the one file left
    assert sdk.vector_stores.delete(store.id).deleted
    assert list(chunks.list_blobs(name_starts_with=f"{store.id}/")) == []  # deleting the store removes its chunks
    with pytest.raises(openai.NotFoundError):
        sdk.vector_stores.retrieve(store.id)
    with pytest.raises(openai.NotFoundError):
        sdk.vector_stores.search(store.id, query="otters")


def test_file_batch_upload_and_poll_with_attributes_and_filters(sdk):
    store = sdk.vector_stores.create(name="batch")
    twice = upload(sdk, "twice.txt", TEA)
    doubled = sdk.vector_stores.file_batches.create_and_poll(store.id, file_ids=[twice.id, twice.id],
                                                             poll_interval_ms=50)
    assert doubled.file_counts.total == 1 and doubled.file_counts.completed == 1  # a file named twice counts once
    sdk.vector_stores.files.delete(twice.id, vector_store_id=store.id)
    batch = sdk.vector_stores.file_batches.upload_and_poll(
        store.id, files=[("otters.txt", OTTERS.encode()), ("tea.txt", TEA.encode())])
    assert batch.status == "completed" and batch.file_counts.completed == 2 and batch.file_counts.total == 2
    batch_files = sdk.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id)
    assert len(batch_files.data) == 2
    otters = next(file for file in batch_files.data
                  if sdk.files.retrieve(file.id).filename == "otters.txt")
    updated = sdk.vector_stores.files.update(otters.id, vector_store_id=store.id,
                                             attributes={"topic": "animals", "year": 2024, "reviewed": True})
    assert updated.attributes == {"topic": "animals", "year": 2024, "reviewed": True}

    query = "sleeping otters and green tea"
    animals = sdk.vector_stores.search(store.id, query=query, filters={"type": "eq", "key": "topic", "value": "animals"})
    assert [hit.filename for hit in animals.data] == ["otters.txt"]
    assert animals.data[0].attributes["year"] == 2024
    both = sdk.vector_stores.search(store.id, query=query, filters={"type": "or", "filters": [
        {"type": "gte", "key": "year", "value": 2024}, {"type": "nin", "key": "topic", "value": ["animals"]}]})
    assert {hit.filename for hit in both.data} == {"otters.txt", "tea.txt"}
    everything = sdk.vector_stores.search(store.id, query=query).data
    top = sdk.vector_stores.search(store.id, query=query, ranking_options={"score_threshold": 1.0}).data
    assert len(everything) == 2 and len(top) < 2 and all(hit.score == 1.0 for hit in top)


def test_max_num_results_bounds_the_page(sdk):
    text = " ".join(f"Otters paragraph {index} about otters." for index in range(400))
    store, _ = store_with(sdk, {"otters.txt": text}, chunking_strategy={
        "type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}})
    assert len(sdk.vector_stores.search(store.id, query="otters").data) == 10  # the endpoint's default
    assert len(sdk.vector_stores.search(store.id, query="otters", max_num_results=3).data) == 3
    assert len(sdk.vector_stores.search(store.id, query="otters", max_num_results=50).data) > 10


def test_a_bad_file_fails_with_openai_codes_and_the_store_stays_usable(sdk):
    store, _ = store_with(sdk, {"otters.txt": OTTERS})
    broken = upload(sdk, "broken.pdf", b"%PDF-1.4 not really a pdf")
    image = upload(sdk, "picture.png", b"\x89PNG\r\n")
    for file, code in ((broken, "invalid_file"), (image, "unsupported_file")):
        sdk.vector_stores.files.create(vector_store_id=store.id, file_id=file.id)
        record = wait_file(sdk, store.id, file.id)
        assert record.status == "failed" and record.last_error.code == code and record.last_error.message
    store = sdk.vector_stores.retrieve(store.id)
    assert store.status == "completed" and store.file_counts.failed == 2 and store.file_counts.completed == 1
    failed = sdk.vector_stores.files.list(vector_store_id=store.id, filter="failed")
    assert {file.id for file in failed.data} == {broken.id, image.id}
    assert sdk.vector_stores.search(store.id, query="otters").data[0].filename == "otters.txt"


def test_static_chunking_is_applied(sdk):
    text = " ".join(f"word{index}" for index in range(3000))
    file = upload(sdk, "long.txt", text)
    store = sdk.vector_stores.create(file_ids=[file.id], chunking_strategy={
        "type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 0}})
    record = wait_file(sdk, store.id, file.id)
    assert record.chunking_strategy.static.max_chunk_size_tokens == 200
    chunks = [part.text for part in sdk.vector_stores.files.content(file.id, vector_store_id=store.id)]
    assert len(chunks) > 5 and " ".join(chunks) == text


def test_cancelled_batch_keeps_nothing(devhost, scripted, sdk):
    scripted.client.set_default(latency_ms=1500)  # embeddings wait too: the batch is still running
    try:
        store = sdk.vector_stores.create()
        files = [upload(sdk, f"doc{index}.txt", OTTERS) for index in range(6)]
        batch = sdk.vector_stores.file_batches.create(store.id, file_ids=[file.id for file in files])
        cancelled = sdk.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
        assert cancelled.status == "cancelled" and cancelled.file_counts.cancelled >= 1
    finally:
        scripted.client.set_default(latency_ms=0)
    for file in files:
        assert wait_file(sdk, store.id, file.id).status in ("cancelled", "completed")
    completed = {file.id for file in sdk.vector_stores.files.list(vector_store_id=store.id, filter="completed").data}
    hits = sdk.vector_stores.search(store.id, query="otters", max_num_results=50)
    assert {hit.file_id for hit in hits.data} == completed


def test_another_principal_sees_nothing(devhost, sdk):
    store, files = store_with(sdk, {"otters.txt": OTTERS})
    other = strict_client(devhost.base_url)
    for call in (lambda: other.vector_stores.retrieve(store.id),
                 lambda: other.vector_stores.update(store.id, name="x"),
                 lambda: other.vector_stores.delete(store.id),
                 lambda: other.vector_stores.search(store.id, query="otters"),
                 lambda: other.vector_stores.files.list(vector_store_id=store.id),
                 lambda: other.vector_stores.files.retrieve(files[0].id, vector_store_id=store.id)):
        with pytest.raises(openai.NotFoundError):
            call()
    assert other.vector_stores.list().data == []
    own = other.vector_stores.create()
    with pytest.raises(openai.BadRequestError) as caught:  # someone else's file cannot be attached
        other.vector_stores.files.create(vector_store_id=own.id, file_id=files[0].id)
    assert caught.value.body["param"] == "file_id"


def test_expired_store_reports_expired_and_refuses_search(azurite, sdk):
    from core.repositories.vector_stores import VectorStoreRepository

    store, _ = store_with(sdk, {"otters.txt": OTTERS}, expires_after={"anchor": "last_active_at", "days": 1})
    assert store.status == "completed" and store.expires_at == store.last_active_at + 86400
    principal = sdk.principal
    repository = VectorStoreRepository(Store(StorageConnection(azurite.connection_string, None, None)))
    repository.stores.update(principal, store.id, lambda record: {**record, "last_active_at": record["last_active_at"]
                                                                  - 86400 - 5})  # a day passes
    assert sdk.vector_stores.retrieve(store.id).status == "expired"
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.vector_stores.search(store.id, query="otters")
    assert caught.value.code == "vector_store_expired"


@pytest.mark.parametrize("body, param, code", [
    ({"name": 5}, "name", "invalid_type"),
    ({"file_ids": "file-x"}, "file_ids", "invalid_type"),
    ({"file_ids": ["file-nope"]}, "file_ids[0]", "invalid_value"),
    ({"expires_after": {"anchor": "created_at", "days": 1}}, "expires_after.anchor", "invalid_value"),
    ({"expires_after": {"anchor": "last_active_at", "days": 366}}, "expires_after.days", "integer_above_max_value"),
    ({"chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}}},
     "chunking_strategy.static.max_chunk_size_tokens", "integer_below_min_value"),
    ({"chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 201}}},
     "chunking_strategy.static", "invalid_value"),
    ({"chunking_strategy": {"type": "fancy"}}, "chunking_strategy.type", "invalid_value"),
    ({"bogus": 1}, "bogus", "unknown_parameter"),
])
def test_create_errors(devhost, body, param, code):
    response = httpx.post(f"{devhost.base_url}/vector_stores", json=body, headers=auth_headers())
    error = response.json()["error"]
    assert response.status_code == 400 and (error["param"], error["code"]) == (param, code), error
    assert error["type"] == "invalid_request_error" and error["message"]


def test_endpoint_errors(devhost, sdk):
    store = sdk.vector_stores.create()
    base = f"{devhost.base_url}/vector_stores"
    headers = auth_headers(sdk)
    cases = [
        ("GET", "/vs_unknown", None, 404, None),
        ("POST", f"/{store.id}/search", {"query": ""}, 400, "query"),
        ("POST", f"/{store.id}/search", {"query": "x", "max_num_results": 51}, 400, "max_num_results"),
        ("POST", f"/{store.id}/search", {"query": "x", "max_num_results": 0}, 400, "max_num_results"),
        ("POST", f"/{store.id}/search", {"query": "x", "ranking_options": {"score_threshold": 2}}, 400,
         "ranking_options.score_threshold"),
        ("POST", f"/{store.id}/search", {"query": "x", "filters": {"type": "eq", "key": "a", "value": [1]}}, 400,
         "filters"),
        ("POST", f"/{store.id}/search", {"query": "x", "filters": {"type": "xor", "filters": []}}, 400, "filters.type"),
        ("POST", f"/{store.id}/files", {}, 400, "file_id"),
        ("POST", f"/{store.id}/files", {"file_id": "file-x", "attributes": {str(i): i for i in range(17)}}, 400,
         "attributes"),
        ("POST", f"/{store.id}/files", {"file_id": "file-nope"}, 400, "file_id"),
        ("GET", f"/{store.id}/files/file-nope", None, 404, None),
        ("DELETE", f"/{store.id}/files/file-nope", None, 404, None),
        ("GET", f"/{store.id}/files?filter=done", None, 400, "filter"),
        ("GET", f"/{store.id}/files?limit=101", None, 400, "limit"),
        ("POST", f"/{store.id}/file_batches", {}, 400, None),
        ("POST", f"/{store.id}/file_batches", {"file_ids": ["file-a"], "files": [{"file_id": "file-a"}]}, 400, None),
        ("POST", f"/{store.id}/file_batches", {"file_ids": ["file-nope"]}, 400, "file_ids[0]"),
        ("GET", f"/{store.id}/file_batches/vsfb_nope", None, 404, None),
        ("POST", f"/{store.id}/file_batches/vsfb_nope/cancel", None, 404, None),
        ("POST", "/vs_unknown/file_batches", {"file_ids": ["file-a"]}, 404, None),
        ("POST", f"/{store.id}", {"expires_after": {"anchor": "last_active_at"}}, 400, "expires_after.days"),
    ]
    for method, path, body, status, param in cases:
        response = httpx.request(method, base + path, json=body, headers=headers)
        assert response.status_code == status, (method, path, response.text)
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"]
        if param:
            assert error["param"] == param, (path, body, error)


def test_searching_an_empty_store_gives_an_empty_page_in_hybrid_mode(devhost, sdk):
    response = httpx.post(f"{devhost.base_url}/vector_stores/{sdk.vector_stores.create().id}/search",
                          json={"query": "x"}, headers=auth_headers(sdk))
    assert response.status_code == 200 and response.headers["x-file-search-mode"] == "hybrid"
    assert response.json() == {"object": "vector_store.search_results.page", "search_query": ["x"], "data": [],
                               "has_more": False, "next_page": None}


def test_one_file_attached_by_several_requests_at_once_is_attached_once(sdk):
    store = sdk.vector_stores.create(name="racing attachments")
    file = upload(sdk, "otters.txt", OTTERS)
    start = threading.Barrier(6)

    def attach(_):
        start.wait()
        return sdk.vector_stores.files.create(vector_store_id=store.id, file_id=file.id).id

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(attach, range(6))) == [file.id] * 6  # the losers re-attach, none fails
    assert wait_file(sdk, store.id, file.id).status == "completed"
    assert [listed.id for listed in sdk.vector_stores.files.list(vector_store_id=store.id).data] == [file.id]


def test_documents_that_expand_past_the_bounds_fail_before_they_are_parsed(sdk):
    store, _ = store_with(sdk, {"otters.txt": OTTERS})
    bomb = docx_bomb(40)
    assert len(bomb) < 1024 * 1024  # the compressed size is no warning
    cases = [(upload(sdk, "bomb.docx", bomb), "of XML"), (upload(sdk, "parts.pptx", zip_of_many_parts(5000)), "parts"),
             (upload(sdk, "elements.docx", docx_of_elements(1_200_000)), "elements"),
             (upload(sdk, "stream.pdf", pdf_with_stream_of(100)), "expands past"),
             (upload(sdk, "long.txt", b"otters " * (3 * 2**20)), "of text")]
    for file, wording in cases:
        sdk.vector_stores.files.create(vector_store_id=store.id, file_id=file.id)
        record = wait_file(sdk, store.id, file.id)
        assert record.status == "failed" and record.last_error.code == "invalid_file", record
        assert wording in record.last_error.message, record.last_error.message
    fine = upload(sdk, "fine.docx", docx_bytes(["Otters hold hands while they sleep."]))
    sdk.vector_stores.files.create(vector_store_id=store.id, file_id=fine.id)
    assert wait_file(sdk, store.id, fine.id).status == "completed"
