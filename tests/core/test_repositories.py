"""The storage layer against Azurite: key layout, paging, concurrency, spills, deletion."""

from __future__ import annotations

import threading

import pytest
from azure.data.tables import UpdateMode

from core import ids
from core.collection import Collection
from core.errors import InvalidRequest, NotFound
from core.pagination import PageRequest
from core.repositories.assistants import AssistantRepository
from core.repositories.messages import MessageRepository
from core.repositories.runs import RunChange, RunRepository
from core.repositories.threads import ThreadRepository
from core.run_bookkeeping import RunBookkeeping


def _assistant(name: str) -> dict:
    return {"id": ids.new_id("assistant"), "created_at": 1, "name": name}


def _message(thread_id: str, text: str, run_id: str | None = None) -> dict:
    return {"id": ids.new_id("message"), "thread_id": thread_id, "created_at": 1, "role": "user",
            "content": text, "run_id": run_id}


@pytest.fixture
def thread(store, principal) -> str:
    thread_id = ids.new_id("thread")
    ThreadRepository(store).create(principal, {"id": thread_id, "created_at": 1, "metadata": {}, "tool_resources": {}})
    return thread_id


def test_every_page_shape_is_one_range_scan(store, principal):
    repo = AssistantRepository(store)
    names = [repo.insert(principal, _assistant(str(i)))["id"] for i in range(9)]

    def page(**kwargs):
        result = repo.list(principal, PageRequest(**kwargs))
        return [r["id"] for r in result.data], result.has_more

    assert page(limit=4) == (names[::-1][:4], True)
    assert page(limit=4, order="asc") == (names[:4], True)
    assert page(limit=9, order="asc") == (names, False)
    assert page(order="asc", after=names[6]) == (names[7:], False)
    assert page(order="desc", after=names[2]) == (names[:2][::-1], False)
    assert page(order="asc", before=names[5], limit=3) == (names[2:5], True)
    assert page(order="desc", before=names[5], limit=3) == (names[6:9][::-1], False)
    assert page(order="asc", after=names[1], before=names[5]) == (names[2:5], False)
    assert page(order="desc", after=names[7], before=names[3], limit=2) == ([names[6], names[5]], True)


def test_two_rows_per_record_and_owner_partitioning(store, principal):
    repo = AssistantRepository(store)
    record = repo.insert(principal, _assistant("x"))
    rows = list(repo.table.query_entities("id eq @id", parameters={"id": record["id"]}))
    assert sorted(row["RowKey"][:7] for row in rows) == ["asst-a-", "asst-d-"]
    assert len({row["PartitionKey"] for row in rows}) == 1 and principal not in rows[0]["PartitionKey"]
    with pytest.raises(NotFound):
        repo.get("someone-else", record["id"])


def test_concurrent_updates_are_serialized_by_etag(store, principal):
    repo = AssistantRepository(store)
    record = repo.insert(principal, {**_assistant("counter"), "metadata": {}})
    barrier = threading.Barrier(6)

    def bump(key: str) -> None:
        barrier.wait()
        repo.update(principal, record["id"], lambda current: {**current, "metadata": {**current["metadata"], key: "1"}})

    workers = [threading.Thread(target=bump, args=(f"k{i}",)) for i in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert set(repo.get(principal, record["id"])["metadata"]) == {f"k{i}" for i in range(6)}  # no lost update
    listed = repo.list(principal, PageRequest())
    assert listed.data[0]["metadata"] == repo.get(principal, record["id"])["metadata"]  # both rows agree


def test_large_records_spill_to_blobs_and_are_cleaned_up(store, principal, thread):
    messages = MessageRepository(store)
    text = "ü" * 256_000
    record = messages.create(principal, _message(thread, text))
    entity = Collection("msg").get(messages.table, thread, record["id"])
    assert entity.get("blob") and not any(key.startswith("d0") for key in entity)
    assert messages.get(principal, thread, record["id"])["content"] == text
    updated = messages.update(principal, thread, record["id"], lambda current: {**current, "content": "small"})
    assert updated["content"] == "small"
    assert list(store.container("records").list_blobs(name_starts_with=f"threads/{thread}/")) == []
    middle = "m" * 150_000  # several inline chunks
    record = messages.create(principal, _message(thread, middle))
    assert messages.get(principal, thread, record["id"])["content"] == middle


def test_active_run_blocks_messages_except_its_own(store, principal, thread):
    threads, messages = ThreadRepository(store), MessageRepository(store)
    threads.transact(principal, thread, lambda state: ({"active_run_id": "run_x"}, []))
    assert threads.state(principal, thread).active_run_id == "run_x"
    with pytest.raises(InvalidRequest, match="while a run run_x is active"):
        messages.create(principal, _message(thread, "user"))
    with messages.staged() as staged:  # the run's own output lands through the run's writes, as the engine does
        own_output = messages.insert_ops(principal, _message(thread, "assistant output", run_id="run_x"), staged)
        threads.transact(principal, thread, lambda state: ({}, own_output))
    assert [m["content"] for m in messages.list(principal, thread, PageRequest(), run_id="run_x").data] == \
        ["assistant output"]
    threads.transact(principal, thread, lambda state: ({"active_run_id": ""}, []))
    messages.create(principal, _message(thread, "user again"))


def test_delete_thread_purges_partition_including_runs_and_steps(store, principal, thread):
    threads, messages = ThreadRepository(store), MessageRepository(store)
    messages.create(principal, _message(thread, "x" * 300_000))
    messages.create(principal, _message(thread, "small"))
    run_rows = Collection("run").create_ops(thread, ids.new_id("run"), {"owner": principal})
    threads.transact(principal, thread, lambda state: ({}, run_rows))
    threads.delete(principal, thread)
    assert list(threads.table.query_entities("PartitionKey eq @pk", parameters={"pk": thread})) == []
    assert list(store.container("records").list_blobs(name_starts_with=f"threads/{thread}/")) == []
    with pytest.raises(NotFound):
        messages.create(principal, _message(thread, "late"))


def test_writes_never_land_in_a_deleted_thread(store, principal, thread):
    threads, messages = ThreadRepository(store), MessageRepository(store)
    state = threads.state(principal, thread)
    threads.table.update_entity({"PartitionKey": thread, "RowKey": "thread", "touched": 1}, mode=UpdateMode.MERGE)
    threads.table.delete_entity(thread, "thread")  # deleted after we looked at it
    with pytest.raises(NotFound):
        messages.create(principal, _message(thread, "orphan?"))
    assert list(threads.table.query_entities("PartitionKey eq @pk", parameters={"pk": thread})) == []
    assert state.active_run_id is None


def test_thread_create_larger_than_one_transaction(store, principal):
    threads, messages = ThreadRepository(store), MessageRepository(store)
    thread_id = ids.new_id("thread")
    records = [_message(thread_id, f"m{i}") for i in range(120)]  # 240 rows: three transactions
    with messages.staged() as staged:
        operations = [op for record in records for op in messages.insert_ops(principal, record, staged)]
    threads.create(principal, {"id": thread_id, "created_at": 1, "metadata": {}, "tool_resources": {}}, operations)
    listed = messages.list(principal, thread_id, PageRequest(limit=100, order="asc"))
    assert [m["content"] for m in listed.data] == [f"m{i}" for i in range(100)] and listed.has_more


# -- runs: a write that loses leaves nothing behind -----------------------------------------

def _run(thread_id: str) -> dict:
    return {"id": ids.new_id("run"), "thread_id": thread_id, "created_at": 1, "status": "in_progress"}


def _spills(store, thread_id: str) -> list[str]:
    return sorted(blob.name for blob in store.container("records").list_blobs(name_starts_with=f"threads/{thread_id}/"))


def test_a_run_write_that_loses_a_race_leaves_no_spilled_blob(store, principal, thread):
    runs = RunRepository(store)
    run = runs.create(principal, _run(thread), RunBookkeeping(), [])
    attempts = []

    def change(current):
        attempts.append(current.record.get("metadata"))
        if len(attempts) == 1:  # another writer changes the run between our read and our write
            runs.update(principal, thread, run["id"], lambda other: RunChange(dict(other.record, metadata={"k": "v"})))
        big = _message(thread, "x" * 300_000, run_id=run["id"])  # spills to a blob
        return RunChange(dict(current.record, status="completed"), new_messages=[big], release_thread=True)

    stored = runs.update(principal, thread, run["id"], change)

    assert attempts == [None, {"k": "v"}]  # the first attempt lost and was redone from a fresh read
    assert stored.record["status"] == "completed" and stored.record["metadata"] == {"k": "v"}
    (kept,) = _spills(store, thread)  # only the committed message's body; the losing attempt's is gone
    (message,) = MessageRepository(store).list(principal, thread, PageRequest()).data
    assert message["content"] == "x" * 300_000
    assert MessageRepository(store).table.get_entity(thread, Collection("msg").key("a", message["id"]))["blob"] == kept


def test_a_run_write_refused_by_the_thread_leaves_no_spilled_blob(store, principal, thread):
    runs = RunRepository(store)
    run = runs.create(principal, _run(thread), RunBookkeeping(), [])
    ThreadRepository(store).table.delete_entity(thread, "thread")  # the thread is deleted under the run

    def change(current):
        return RunChange(current.record, new_messages=[_message(thread, "y" * 300_000, run_id=run["id"])])

    with pytest.raises(NotFound):
        runs.update(principal, thread, run["id"], change)
    assert _spills(store, thread) == []


def test_bookkeeping_is_stored_beside_the_run_never_in_it(store, principal, thread):
    runs = RunRepository(store)
    run = runs.create(principal, _run(thread), RunBookkeeping(round=2, server_tools=["send_email"]), [])
    stored = runs.load(principal, thread, run["id"])
    assert stored.books.round == 2 and stored.books.server_tools == ["send_email"]
    assert stored.record == run and "books" not in stored.record
