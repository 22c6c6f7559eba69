"""The events a stored run change shows, derived from the change (core.run_events.changes): which, once each,
in OpenAI's order, checked against the SDK's own event models."""

from __future__ import annotations

import itertools

import pytest

from core import run_machine as m
from core.repositories.runs import RunChange, StoredStep, shown
from core.run_bookkeeping import StepBookkeeping
from core.run_events import payloads
from core.run_events.changes import change_events, run_opened, step_moved
from core.wire.runs import message_creation, new_step
from tests.core.test_run_event_payloads import run, strict

THREAD = {"id": "thread_1", "object": "thread", "created_at": 1, "metadata": {}, "tool_resources": {}}
STEP_STATUSES = [m.IN_PROGRESS, m.COMPLETED, m.FAILED, m.CANCELLED, m.EXPIRED]
RUN_STATUSES = ["queued", "in_progress", "requires_action", "cancelling", "cancelled", "failed", "completed",
                "incomplete", "expired"]


def step(step_id: str = "step_1", status: str = m.IN_PROGRESS) -> dict:
    record = new_step(run("in_progress"), step_id, 5, m.IN_PROGRESS, message_creation("msg_1"))
    record["_private"] = "kept out of events"
    return m.close_step(record, status, 9) if status != m.IN_PROGRESS else record


def names(events: list[payloads.Event]) -> list[str]:
    return [name for name, _ in events]


# -- a new run -----------------------------------------------------------------------


def test_a_new_run_opens_with_created_then_its_status():
    events = run_opened(run())
    assert names(events) == ["thread.run.created", "thread.run.queued"]
    assert [strict(event).id for event in events] == ["run_1", "run_1"]
    assert all("_engine" not in data for _, data in events)


def test_a_run_made_with_its_thread_shows_the_thread_first():
    events = run_opened(run(), THREAD)
    assert names(events) == ["thread.created", "thread.run.created", "thread.run.queued"]
    assert strict(events[0]).id == "thread_1"


# -- a step's status -----------------------------------------------------------------


@pytest.mark.parametrize("before, after", list(itertools.product(STEP_STATUSES, STEP_STATUSES)))
def test_a_step_shows_its_status_only_when_it_moved(before, after):
    events = step_moved(step(status=before), step(status=after))
    if before == after:
        assert events == []
    else:
        [(name, data)] = events
        assert name == f"thread.run.step.{after}" and "_private" not in data
        assert strict((name, data)).status == after


# -- a change of the run -------------------------------------------------------------


@pytest.mark.parametrize("before, after", list(itertools.product(RUN_STATUSES, RUN_STATUSES)))
def test_the_run_shows_its_status_only_when_it_moved(before, after):
    events = change_events(run(before), run(after))
    assert events == ([] if before == after else [payloads.run_status(run(after))])


def test_a_change_of_nothing_shows_nothing():
    assert change_events(run("in_progress"), run("in_progress"), [(step(), step())]) == []


def test_given_events_come_first_then_moved_steps_in_their_order_then_the_run_last():
    given = [payloads.message_delta("msg_9", "tail"), ("thread.message.incomplete", {"id": "msg_9"})]
    replaced = [(step("step_a"), step("step_a", m.CANCELLED)),
                (step("step_b", m.COMPLETED), step("step_b", m.COMPLETED)),  # unmoved: nothing
                (step("step_c"), step("step_c", m.CANCELLED))]
    events = change_events(run("cancelling"), run("cancelled"), replaced, given)
    assert events[:2] == given
    assert [(name, data["id"]) for name, data in events[2:]] == [
        ("thread.run.step.cancelled", "step_a"), ("thread.run.step.cancelled", "step_c"), ("thread.run.cancelled", "run_1")]
    assert all(strict(event) for event in events[2:])


@pytest.mark.parametrize("moved_run", [False, True])
@pytest.mark.parametrize("moves", list(itertools.product([False, True], repeat=3)))
@pytest.mark.parametrize("given", [0, 2])
def test_every_change_shows_each_thing_once(moved_run, moves, given):
    """Gapless and unrepeated: one event per given event, per moved step and for a moved run, nothing else."""
    replaced = [(step(f"step_{index}"), step(f"step_{index}", m.COMPLETED if moved else m.IN_PROGRESS))
                for index, moved in enumerate(moves)]
    extra = [payloads.message_delta("msg_1", str(index)) for index in range(given)]
    events = change_events(run("in_progress"), run("completed" if moved_run else "in_progress"), replaced, extra)
    expected = extra + [payloads.step_status(after) for before, after in replaced if after["status"] != before["status"]]
    expected += [payloads.run_status(run("completed"))] if moved_run else []
    assert events == expected
    statuses = [(name, data["id"]) for name, data in events if name != "thread.message.delta"]
    assert len(statuses) == len(set(statuses))


# -- what the repository appends -----------------------------------------------------


def test_a_stored_change_shows_its_own_events_then_what_its_replaced_steps_and_run_did():
    read = StoredStep(step(), StepBookkeeping(), "etag", None)
    answered = step(status=m.COMPLETED)
    own = [payloads.message_delta("msg_1", "x")]
    change = RunChange(run("queued"), replace_steps=[(read, answered, read.books)], events=own)
    assert shown(run("requires_action"), change) == [own[0], payloads.step_status(answered),
                                                      payloads.run_status(run("queued"))]


def test_a_stored_change_of_metadata_only_shows_nothing():
    assert shown(run("in_progress"), RunChange(dict(run("in_progress"), metadata={"k": "v"}))) == []


def test_new_steps_and_messages_show_nothing_by_themselves():
    """Without a streamed turn saying what it showed (tests/core/test_turn_events.py), a step stored whole
    (a response's replayed tool calls) is history."""
    change = RunChange(run("in_progress"), new_steps=[(step(status=m.COMPLETED), StepBookkeeping())],
                       new_messages=[{"id": "msg_1", "status": "completed"}])
    assert shown(run("in_progress"), change) == []
