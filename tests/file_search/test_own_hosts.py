"""Vector stores on devhosts of this module's own: one without an embeddings model (keyword-only
search, which says so) and one killed in the middle of an ingestion."""

from __future__ import annotations

import time

import pytest

import scripted_model
from core.file_search.segments import CONTAINER
from core.storage_connection import StorageConnection
from core.store import Store
from tests.conftest import devhost_env
from tests.file_search.conftest import strict_client, upload, wait_file
from tests.support.devhost_proc import ROOT, DevhostProcess

TEXT = " ".join(f"Durable ingestion survives crash number {index}." for index in range(600))  # several chunks


@pytest.fixture(scope="module")
def own_model():
    handle = scripted_model.start_in_thread()
    yield handle
    handle.stop()


def test_without_embeddings_search_is_keyword_only_and_says_so(azurite, own_model, tmp_path):
    env = devhost_env(azurite, own_model, OPENAI_EMBEDDINGS_MODEL="")
    host = DevhostProcess(ROOT, env, tmp_path / "devhost.log").start()
    try:
        client = strict_client(host.base_url)
        file = upload(client, "notes.txt", "Keyword search finds the walrus. Nothing else is here.")
        store = client.vector_stores.create(file_ids=[file.id])
        assert wait_file(client, store.id, file.id).status == "completed"
        response = client.vector_stores.with_raw_response.search(store.id, query="walrus")
        assert response.headers["x-file-search-mode"] == "keyword"
        hits = response.parse().data
        assert [hit.filename for hit in hits] == ["notes.txt"] and hits[0].score == 1.0
        assert client.vector_stores.search(store.id, query="elephant").data == []
    finally:
        host.stop()


def test_a_crash_mid_ingestion_resumes_without_duplicates(azurite, own_model, tmp_path):
    host = DevhostProcess(ROOT, devhost_env(azurite, own_model), tmp_path / "devhost.log").start()
    try:
        client = strict_client(host.base_url)
        file = upload(client, "crash.txt", TEXT)
        own_model.client.set_default(latency_ms=4000)  # the embeddings call is under way when the host dies
        store = client.vector_stores.create(file_ids=[file.id])
        time.sleep(1.5)
        assert client.vector_stores.files.retrieve(file.id, vector_store_id=store.id).status == "in_progress"
        host.kill()
        own_model.client.set_default(latency_ms=0)
        host.start()
        record = wait_file(client, store.id, file.id, timeout=90)
        assert record.status == "completed"
        chunks = [part.text for part in client.vector_stores.files.content(file.id, vector_store_id=store.id)]
        assert len(chunks) > 1 and len(chunks) == len(set(chunks))
        hits = client.vector_stores.search(store.id, query="durable ingestion crashes", max_num_results=50)
        assert len(hits.data) == len(chunks)
        blobs = Store(StorageConnection(azurite.connection_string, None, None)).container(CONTAINER)
        assert len(list(blobs.list_blobs(name_starts_with=f"{store.id}/{file.id}/"))) == 1  # one segment version
    finally:
        own_model.client.set_default(latency_ms=0)
        host.stop()


def test_the_azure_ai_search_backend_indexes_searches_and_deletes(azurite, own_model, tmp_path):
    from tests.file_search.search_standin import SearchStandIn

    service = SearchStandIn()
    env = devhost_env(azurite, own_model, FILE_SEARCH_BACKEND="azure_ai_search", AZURE_SEARCH_ENDPOINT=service.url,
                      AZURE_SEARCH_API_KEY="stand-in-key", AZURE_SEARCH_INDEX="chunks",
                      REQUESTS_CA_BUNDLE=str(service.ca_path))
    host = DevhostProcess(ROOT, env, tmp_path / "devhost.log").start()
    try:
        client = strict_client(host.base_url)
        walrus = upload(client, "walrus.txt", "The walrus uses its tusks to haul itself onto the ice.")
        owl = upload(client, "owl.txt", "Snowy owls hunt lemmings across the tundra in daylight.")
        store = client.vector_stores.create(file_ids=[walrus.id, owl.id])
        for file in (walrus, owl):
            assert wait_file(client, store.id, file.id).status == "completed"
        assert len(service.documents["chunks"]) == 2
        assert service.indexes["chunks"]["fields"][-1]["dimensions"] == 512  # the scripted embeddings' size
        hits = client.vector_stores.search(store.id, query="walrus tusks").data
        assert hits[0].filename == "walrus.txt" and hits[0].score == 1.0  # first in both rankings
        assert service.searches[-1]["vectorQueries"][0]["fields"] == "vector"
        assert store.id in service.searches[-1]["filter"]
        client.vector_stores.files.delete(walrus.id, vector_store_id=store.id)
        assert [hit.filename for hit in client.vector_stores.search(store.id, query="walrus tusks owls").data] \
            == ["owl.txt"]
        assert len(service.documents["chunks"]) == 1
        client.vector_stores.delete(store.id)
        assert service.documents["chunks"] == {}
    finally:
        host.stop()
        service.close()
