"""Vector stores move with their files: copied between two deployments and through an archive.

The source holds a store of two small text files (ingested before the copy) and an assistant whose
file_search tool names it; on the target the store must come back with its name and metadata, the
migrated files (each with its attributes and chunking strategy), ingestion completed, searchable, and
the assistant pointing at the new store.
"""

from __future__ import annotations

import time

import openai
import pytest

from tests.migrate.snapshot import mapping
from tests.migrate.test_copy import run

pytestmark = pytest.mark.usefixtures("keys")

OTTERS = "Sea otters hold hands while sleeping so they do not drift apart."
ETNA = "Mount Etna in Sicily is one of the most active volcanoes in the world."
SMALL_CHUNKS = {"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50}}


def wait_ingested(client: openai.OpenAI, store_id: str, expected: int, timeout: float = 60.0):
    """The store once none of its files is in progress (ingestion is durable and asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        store = client.vector_stores.retrieve(store_id)
        if store.file_counts.in_progress == 0 and store.file_counts.total >= expected:
            return store
        assert time.monotonic() < deadline, f"{store_id} still ingesting: {store.file_counts}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def store(source):
    """On the source: a store of two ingested text files and an assistant whose file_search names it."""
    client = source.client
    files = [client.files.create(file=(name, text.encode()), purpose="assistants")
             for name, text in (("otters.txt", OTTERS), ("etna.txt", ETNA))]
    created = client.vector_stores.create(name="field notes", metadata={"team": "research"})
    client.vector_stores.files.create(created.id, file_id=files[0].id, attributes={"topic": "otters", "year": 2024})
    client.vector_stores.files.create(created.id, file_id=files[1].id, attributes={"topic": "volcanoes"},
                                      chunking_strategy=SMALL_CHUNKS)
    ingested = wait_ingested(client, created.id, 2)
    assert ingested.file_counts.completed == 2
    assistant = client.beta.assistants.create(
        model="gpt-4o", name="Researcher", tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [created.id]}})
    return {"id": created.id, "file_ids": [f.id for f in files], "assistant_id": assistant.id}


def check_store_on_target(target, store: dict, ids: dict) -> None:
    new_store = ids[("vector_store", store["id"])]
    copied = wait_ingested(target.client, new_store, 2)
    assert (copied.name, copied.metadata) == ("field notes", {"team": "research"})
    assert copied.file_counts.completed == 2 and copied.file_counts.failed == 0
    members = {f.id: f for f in target.client.vector_stores.files.list(new_store, limit=100)}
    otters, etna = (ids[("file", old)] for old in store["file_ids"])
    assert set(members) == {otters, etna}
    assert members[otters].attributes == {"topic": "otters", "year": 2024}
    assert members[etna].attributes == {"topic": "volcanoes"}
    assert members[etna].chunking_strategy.to_dict() == SMALL_CHUNKS
    assert members[otters].chunking_strategy.static.max_chunk_size_tokens == 800  # the default, as on the source
    filtered = target.client.vector_stores.search(new_store, query="sea otters and the volcano in Sicily",
                                                  filters={"type": "eq", "key": "topic", "value": "otters"}).data
    assert [hit.file_id for hit in filtered] == [otters]
    hits = target.client.vector_stores.search(new_store, query="Which volcano is in Sicily?").data
    assert hits and hits[0].file_id == ids[("file", store["file_ids"][1])] and "Etna" in hits[0].content[0].text
    assistant = target.client.beta.assistants.retrieve(ids[("assistant", store["assistant_id"])])
    assert assistant.tool_resources.file_search.vector_store_ids == [new_store]
    assert [tool.type for tool in assistant.tools] == ["file_search"]
    assert len(target.client.vector_stores.list().data) == 1


def test_copy_moves_a_vector_store_its_files_and_the_assistant_naming_it(source, target, store, tmp_path):
    journal = tmp_path / "mapping.jsonl"
    args = ["copy", "--source-base-url", source.base_url, "--target-base-url", target.base_url,
            "--mapping", str(journal)]
    code, report = run(tmp_path, *args)
    assert code == 0, report
    assert report["counts"]["vector_store"]["copied"] == 1, report
    assert report["verification"]["problems"] == []
    check_store_on_target(target, store, mapping(journal))

    code, again = run(tmp_path, *args)  # a rerun adds neither a store nor a membership
    assert code == 0, again
    assert again["counts"]["vector_store"] == {**again["counts"]["vector_store"], "copied": 0, "skipped": 1}
    check_store_on_target(target, store, mapping(journal))


def test_export_then_import_carries_a_vector_store(source, target, store, tmp_path):
    archive = tmp_path / "backup.tar"
    code, exported = run(tmp_path, "export", "--source-base-url", source.base_url, "--archive", str(archive))
    assert code == 0, exported
    assert exported["counts"]["vector_store"]["copied"] == 1
    assert exported["verification"]["problems"] == []
    journal = tmp_path / "import.jsonl"
    code, imported = run(tmp_path, "import", "--archive", str(archive), "--target-base-url", target.base_url,
                         "--mapping", str(journal))
    assert code == 0, imported
    assert imported["counts"]["vector_store"]["copied"] == 1
    assert imported["verification"]["problems"] == []
    check_store_on_target(target, store, mapping(journal))
