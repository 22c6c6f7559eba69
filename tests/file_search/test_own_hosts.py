"""Vector stores on devhosts of this module's own: one without an embeddings model (keyword-only
search, which says so) and one killed in the middle of an ingestion."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import openai
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


def create_index(service, dimensions: int) -> subprocess.CompletedProcess:
    """The postprovision step's command, against the stand-in (a key instead of the deployer's sign-in)."""
    env = {**os.environ, "AZURE_SEARCH_API_KEY": "stand-in-key", "REQUESTS_CA_BUNDLE": str(service.ca_path)}
    return subprocess.run([sys.executable, "-m", "core.file_search.azure_search", "create-index", "--endpoint",
                           service.url, "--dimensions", str(dimensions), "--index", "chunks"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_the_azure_ai_search_backend_uses_the_index_provisioning_made_and_never_makes_one(azurite, own_model,
                                                                                         tmp_path):
    from tests.file_search.search_standin import SearchStandIn

    service = SearchStandIn()
    env = devhost_env(azurite, own_model, FILE_SEARCH_BACKEND="azure_ai_search", AZURE_SEARCH_ENDPOINT=service.url,
                      AZURE_SEARCH_API_KEY="stand-in-key", AZURE_SEARCH_INDEX="chunks",
                      REQUESTS_CA_BUNDLE=str(service.ca_path))
    host = DevhostProcess(ROOT, env, tmp_path / "devhost.log").start()
    try:
        client = strict_client(host.base_url)
        # No index yet: the file fails, saying what creates the index; the app has not made one.
        early = upload(client, "early.txt", "Nothing can index this yet.")
        early_store = client.vector_stores.create(file_ids=[early.id])
        failed = wait_file(client, early_store.id, early.id)
        assert failed.status == "failed" and failed.last_error.code == "server_error"
        assert "index 'chunks' does not exist" in failed.last_error.message
        assert "postprovision" in failed.last_error.message and "create-index" in failed.last_error.message
        assert service.indexes == {}

        # An index of another vector size than the embeddings (512): refused, with the size it needs.
        wrong = create_index(service, 256)
        assert wrong.returncode == 0, wrong.stderr
        second_store = client.vector_stores.create(file_ids=[early.id])
        failed = wait_file(client, second_store.id, early.id)
        assert failed.status == "failed"
        assert "does not take the embeddings' 512-dimension vectors" in failed.last_error.message
        assert "AZURE_OPENAI_EMBEDDINGS_DIMENSIONS=512" in failed.last_error.message
        refused = create_index(service, 512)
        assert refused.returncode == 3 and "exists with 256-dimension vectors" in refused.stderr
        del service.indexes["chunks"]  # as an operator deleting it would

        created = create_index(service, 512)
        assert created.returncode == 0 and "Created the search index 'chunks'" in created.stdout, created.stderr
        assert service.indexes["chunks"]["fields"][-1]["dimensions"] == 512  # the scripted embeddings' size
        assert "already there" in create_index(service, 512).stdout  # a rerun of the hook changes nothing

        walrus = upload(client, "walrus.txt", "The walrus uses its tusks to haul itself onto the ice.")
        owl = upload(client, "owl.txt", "Snowy owls hunt lemmings across the tundra in daylight.")
        store = client.vector_stores.create(file_ids=[walrus.id, owl.id])
        for file in (walrus, owl):
            assert wait_file(client, store.id, file.id).status == "completed"
        assert len(service.documents["chunks"]) == 2
        hits = client.vector_stores.search(store.id, query="walrus tusks").data
        assert hits[0].filename == "walrus.txt" and hits[0].score == 1.0  # first in both rankings
        assert service.searches[-1]["vectorQueries"][0]["fields"] == "vector"
        assert store.id in service.searches[-1]["filter"]
        client.vector_stores.files.delete(walrus.id, vector_store_id=store.id)
        assert [hit.filename for hit in client.vector_stores.search(store.id, query="walrus tusks owls").data] \
            == ["owl.txt"]
        assert len(service.documents["chunks"]) == 1

        # The index deleted under a store: its search fails with the same clear error, not empty results.
        definition = service.indexes.pop("chunks")
        with pytest.raises(openai.InternalServerError) as failure:
            client.with_options(max_retries=0).vector_stores.search(store.id, query="owls")
        assert "index 'chunks' does not exist" in failure.value.message and "postprovision" in failure.value.message
        service.indexes["chunks"] = definition

        client.vector_stores.delete(store.id)
        assert service.documents["chunks"] == {}
        assert list(service.indexes) == ["chunks"]
    finally:
        host.stop()
        service.close()
