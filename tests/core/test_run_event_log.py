"""The run event log against Azurite: gap-free numbering under concurrent writers, events in the
same transaction as a run change, a model turn's deltas, retried and stale attempts, deletion."""

from __future__ import annotations

import threading

import pytest

from core import ids
from core.errors import InvalidRequest
from core.repositories.runs import RunChange, RunRepository
from core.repositories.threads import ThreadRepository
from core.run_bookkeeping import RunBookkeeping
from core.run_events import payloads
from core.run_events.changes import TurnShown, turn_events
from core.run_events.log import EventLog
from core.run_events.turn import TurnOutput
from core.run_events.turn_stream import Superseded, TurnStream, claim_for, unseen_part
from core.tool_plugins import Route
from core.wire.messages import message_record
from core.wire.runs import message_creation, new_step
from tests.core.test_run_event_payloads import run
from tools.plugins import TOOLS


@pytest.fixture
def log(store) -> EventLog:
    return EventLog(store)


@pytest.fixture
def thread(store, principal) -> str:
    thread_id = ids.new_id("thread")
    ThreadRepository(store).create(principal, {"id": thread_id, "created_at": 1, "metadata": {}, "tool_resources": {}})
    return thread_id


def _event(text: str) -> payloads.Event:
    return payloads.message_delta("msg_x", text)


def _texts(log: EventLog, thread_id: str, run_id: str, after: int = 0) -> list[tuple[int, str]]:
    return [(event.seq, event.data["delta"]["content"][0]["text"]["value"])
            for event in log.read(thread_id, run_id, after, limit=1000) if event.name == "thread.message.delta"]


def test_parallel_writers_get_gap_free_numbers_in_their_own_order(log, thread):
    run_id = ids.new_id("run")

    def writer(name: str) -> None:
        for index in range(8):
            log.append(thread, run_id, [_event(f"{name}{index}")])

    workers = [threading.Thread(target=writer, args=(name,)) for name in "abcdef"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stored = _texts(log, thread, run_id)
    assert [seq for seq, _ in stored] == list(range(1, 49))
    for name in "abcdef":
        assert [text for _, text in stored if text[0] == name] == [f"{name}{index}" for index in range(8)]
    assert log.head(thread, run_id).count == 48
    assert [seq for seq, _ in _texts(log, thread, run_id, after=45)] == [46, 47, 48]


def test_run_changes_append_their_events_atomically(store, principal, thread):
    runs = RunRepository(store)
    run = {"id": ids.new_id("run"), "thread_id": thread, "created_at": 1, "status": "queued"}
    runs.create(principal, run, RunBookkeeping(), [])  # its log opens with the run created and queued

    def to_in_progress(current) -> RunChange:  # a status change shows its event by itself
        return RunChange(dict(current.record, status="in_progress"))

    def refuse(current) -> RunChange:
        raise InvalidRequest("no")

    def append_deltas() -> None:
        for index in range(10):
            log_events.append(thread, run["id"], [_event(str(index))])

    log_events = runs.events
    racer = threading.Thread(target=append_deltas)
    racer.start()
    runs.update(principal, thread, run["id"], to_in_progress)
    racer.join()
    with pytest.raises(InvalidRequest):
        runs.update(principal, thread, run["id"], refuse)
    names = [event.name for event in log_events.read(thread, run["id"], 0)]
    assert names[:2] == ["thread.run.created", "thread.run.queued"]
    assert names.count("thread.run.in_progress") == 1 and len(names) == 13
    assert [event.seq for event in log_events.read(thread, run["id"], 0)] == list(range(1, 14))


def test_a_turn_streams_deltas_and_a_retry_shows_no_text_twice(log, thread):
    run_id = ids.new_id("run")
    log.append(thread, run_id, [payloads.run_created({"id": run_id, "status": "queued"})])
    fresh = iter([{"message_id": "msg_first"}, {"message_id": "msg_second"}])

    def opening() -> list[payloads.Event]:
        return [("thread.message.created", {"id": "opened"})]

    first = TurnStream(log, thread, run_id, "0")
    assert first.claim_turn(lambda: next(fresh))["message_id"] == "msg_first"
    for piece in ("Hello ", "wor"):
        first.text(piece, opening, lambda text: _event(text))
    first.close()  # the attempt dies here, having shown "Hello wor"

    retry = TurnStream(log, thread, run_id, "0")
    claim = retry.claim_turn(lambda: next(fresh))
    assert claim["message_id"] == "msg_first" and claim["text_len"] == 9 and claim["message_open"]
    for piece in ("Hello ", "world", "!"):
        retry.text(piece, opening, lambda text: _event(text))
    retry.close()
    events = log.read(thread, run_id, 0)
    assert [event.name for event in events].count("thread.message.created") == 1
    assert "".join(text for _, text in _texts(log, thread, run_id)) == "Hello world!"

    stale = first  # the first attempt comes back to life: the claim is no longer its own
    stale.text("ld", opening, lambda text: _event(text))
    with pytest.raises(Superseded):
        stale.close()
    assert "".join(text for _, text in _texts(log, thread, run_id)) == "Hello world!"


def test_a_new_turn_gets_a_fresh_claim():
    shown = {"turn": "0", "attempt": "a", "message_id": "m0", "text_len": 5, "message_open": True,
             "tools_shown": False}
    assert claim_for(shown, "0", "b", lambda: {"message_id": "new"}) == {**shown, "attempt": "b"}
    assert claim_for(shown, "1", "c", lambda: {"message_id": "m1"}) == {
        "turn": "1", "attempt": "c", "message_id": "m1", "text_len": 0, "message_open": False, "tools_shown": False}


@pytest.mark.parametrize("piece, offset, shown, unseen", [
    ("Hello", 0, 0, "Hello"), ("Hello", 0, 5, ""), ("Hello", 0, 3, "lo"), ("world", 5, 3, "world"),
    ("world", 5, 7, "rld"), ("", 0, 0, "")])
def test_unseen_part(piece, offset, shown, unseen):
    assert unseen_part(piece, offset, shown) == unseen


def test_large_events_spill_and_go_with_the_thread(store, principal, log, thread):
    run_id = ids.new_id("run")
    big = "x" * 300_000
    log.append(thread, run_id, [_event(big)])
    assert _texts(log, thread, run_id) == [(1, big)]
    ThreadRepository(store).delete(principal, thread)
    assert log.read(thread, run_id, 0) == [] and log.head(thread, run_id).count == 0


def test_an_append_is_one_row_read_back_event_by_event_from_any_point(log, thread):
    run_id = ids.new_id("run")
    log.append(thread, run_id, [_event(f"a{index}") for index in range(5)])
    log.append(thread, run_id, [_event("b0"), _event("b1")])
    rows = list(log.table.query_entities("PartitionKey eq @pk and RowKey lt @hi",
                                         parameters={"pk": thread, "hi": f"evt.{ids.body(run_id)}.:"}))
    assert len([row for row in rows if row["RowKey"].startswith(f"evt.{ids.body(run_id)}.")]) == 2
    everything = [(1, "a0"), (2, "a1"), (3, "a2"), (4, "a3"), (5, "a4"), (6, "b0"), (7, "b1")]
    for after in range(8):
        assert _texts(log, thread, run_id, after) == everything[after:]
    paged, after = [], 0
    while page := log.read(thread, run_id, after, limit=2):  # a page may end inside a row
        assert len(page) <= 2
        paged += [(event.seq, event.data["delta"]["content"][0]["text"]["value"]) for event in page]
        after = page[-1].seq
    assert paged == everything


def test_rows_of_one_event_from_before_appends_shared_a_row_are_still_read(log, thread):
    run_id = ids.new_id("run")
    for seq, text in ((1, "old1"), (2, "old2")):  # the earlier layout: one event per row, named `event`
        properties, _ = log._codec.encode({"id": f"{run_id}.{seq}", "data": _event(text)[1]}, f"threads/{thread}")
        log.table.create_entity({"PartitionKey": thread, "RowKey": f"evt.{ids.body(run_id)}.{seq:010d}",
                                 "event": "thread.message.delta", **properties})
    log.table.create_entity({"PartitionKey": thread, "RowKey": f"evt.{ids.body(run_id)}.head", "next": 3,
                             "last": "thread.message.delta", "claim": "{}"})
    log.append(thread, run_id, [_event("new3"), _event("new4")])
    assert _texts(log, thread, run_id) == [(1, "old1"), (2, "old2"), (3, "new3"), (4, "new4")]
    assert _texts(log, thread, run_id, after=1) == [(2, "old2"), (3, "new3"), (4, "new4")]


def test_a_turn_says_which_openings_it_showed_and_its_change_shows_the_rest_once(log, thread):
    """TurnOutput.shown, with a real stream: a silent turn opened nothing; a turn that wrote text and a call
    opened its message and both steps; its retry, showing nothing new, still says so (from the claim)."""
    run_id = ids.new_id("run")
    record = {**run("in_progress"), "id": run_id, "thread_id": thread}
    log.append(thread, run_id, [payloads.run_created(record)])
    fresh = iter([{"message_id": f"msg_{turn}", "message_step_id": f"step_m{turn}", "tool_step_id": f"step_t{turn}"}
                  for turn in range(2)])

    def attempt(turn: str) -> TurnOutput:
        stream = TurnStream(log, thread, run_id, turn)
        output = TurnOutput(stream, record, lambda name: Route(TOOLS.functions, "client"), TOOLS)
        output.start(lambda: stream.claim_turn(lambda: next(fresh)))
        return output

    silent = attempt("0")
    assert silent.finish(hand_over=20) == [] and silent.shown() == TurnShown(tools=TOOLS)

    talking = attempt("1")
    talking.text("Hi")
    talking.tool(0, "call_1", "f", "{}")
    assert talking.finish() == []  # all written (a hand-over's pieces would go with the change)
    turn = talking.shown()
    assert turn.opened == {"msg_1", "step_m1", "step_t1"} and turn.unwritten == ()

    retry = attempt("1")
    retry.text("Hi")
    retry.tool(0, "call_1", "f", "{}")
    assert retry.finish(hand_over=20) == [] and retry.shown().opened == turn.opened

    message = message_record("msg_1", thread, 7, "assistant", [{"type": "text", "text": {"value": "Hi", "annotations": []}}],
                             run=record)
    steps = [new_step(record, "step_m1", 7, "completed", message_creation("msg_1")),
             new_step(record, "step_t1", 7, "in_progress", {"type": "tool_calls", "tool_calls": [
                 {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}", "output": None}}]})]
    log.append(thread, run_id, turn_events(retry.shown(), steps, [message]))
    names = [event.name for event in log.read(thread, run_id, 0, limit=1000)]
    assert names.count("thread.message.created") == 1 and names.count("thread.run.step.created") == 2
    assert names[-2:] == ["thread.message.completed", "thread.run.step.completed"]
