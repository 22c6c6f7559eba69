"""A run handed from its create to its first turn (core.repositories.fresh_runs), against Azurite: what the
turn would have read, taken once, dropped by a write here, and harmless when another instance wrote since."""

from __future__ import annotations

import pytest

from core import ids, run_machine
from core.repositories.fresh_runs import FreshRuns
from core.repositories.runs import RunChange, RunRepository
from core.repositories.threads import ThreadRepository
from core.run_bookkeeping import RunBookkeeping


@pytest.fixture
def thread(store, principal) -> str:
    thread_id = ids.new_id("thread")
    ThreadRepository(store).create(principal, {"id": thread_id, "created_at": 1, "metadata": {}, "tool_resources": {}})
    return thread_id


def _queued(thread_id: str) -> dict:
    return {"id": ids.new_id("run"), "thread_id": thread_id, "created_at": 1, "status": run_machine.QUEUED,
            "model": "m", "instructions": "", "tools": []}


def _start(current):
    return RunChange(run_machine.transition(current.record, run_machine.Start(), 2).run)


def test_the_fresh_run_is_what_a_read_would_give_with_its_head(store, principal, thread):
    runs = RunRepository(store)
    record = runs.create(principal, _queued(thread), RunBookkeeping(round=3), [])
    fresh = runs.fresh.take(principal, thread, record["id"])
    read = runs.load(principal, thread, record["id"])
    assert fresh is not None and (fresh.record, fresh.books, fresh.etag) == (read.record, read.books, read.etag)
    assert fresh.head == runs.events.head(thread, record["id"])
    assert runs.fresh.take(principal, thread, record["id"]) is None  # taken once


def test_a_run_created_with_its_thread_is_kept_too(store, principal):
    runs = RunRepository(store)
    thread_id = ids.new_id("thread")
    record = runs.create_with_thread(principal, {"id": thread_id, "created_at": 1, "metadata": {}, "tool_resources": {}},
                                     [], _queued(thread_id), RunBookkeeping())
    fresh = runs.fresh.take(principal, thread_id, record["id"])
    assert fresh is not None and fresh.etag == runs.load(principal, thread_id, record["id"]).etag
    assert fresh.head == runs.events.head(thread_id, record["id"])
    started = runs.update(principal, thread_id, record["id"], _start, loaded=fresh, head=fresh.head)
    assert started.record["status"] == run_machine.IN_PROGRESS


def test_another_principal_gets_nothing(store, principal, thread):
    runs = RunRepository(store)
    record = runs.create(principal, _queued(thread), RunBookkeeping(), [])
    assert runs.fresh.take("someone-else", thread, record["id"]) is None


def test_a_write_here_drops_what_the_create_kept(store, principal, thread):
    runs = RunRepository(store)
    record = runs.create(principal, _queued(thread), RunBookkeeping(), [])
    runs.update(principal, thread, record["id"], _start)
    assert runs.fresh.take(principal, thread, record["id"]) is None


def test_a_run_changed_by_another_instance_since_is_read_afresh(store, principal, thread):
    here, elsewhere = RunRepository(store), RunRepository(store)  # two processes' repositories
    record = here.create(principal, _queued(thread), RunBookkeeping(), [])
    elsewhere.update(principal, thread, record["id"],
                     lambda current: RunChange(run_machine.transition(current.record, run_machine.Cancel(), 2).run))
    stale = here.fresh.take(principal, thread, record["id"])
    assert stale is not None and stale.record["status"] == run_machine.QUEUED  # the hint does not know
    with pytest.raises(run_machine.TransitionRefused):  # the write's ETag check saw the cancel
        here.update(principal, thread, record["id"], _start, loaded=stale, head=stale.head)
    assert here.load(principal, thread, record["id"]).record["status"] == run_machine.CANCELLING


def test_the_oldest_kept_go_first():
    kept: FreshRuns[str] = FreshRuns(max_kept=2)
    for run in ("a", "b", "c"):
        kept.keep("p", "t", run, run.upper())
    assert [kept.take("p", "t", run) for run in ("a", "b", "c")] == [None, "B", "C"]
