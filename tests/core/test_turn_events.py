"""A streamed turn's new steps and message, shown from the stored change (core.run_events.changes.turn_events):
every turn shape (message, tool calls, both), with nothing or the openings already streamed, with or without
unwritten pieces, ending the run or not — in OpenAI's order, checked against the SDK's own event models,
and event for event what the turn's stream itself built before these events came from the change."""

from __future__ import annotations

import itertools

import pytest
from openai.lib.streaming._deltas import accumulate_delta

from core import run_machine as m
from core.repositories.runs import RunChange, shown
from core.run_bookkeeping import StepBookkeeping
from core.run_events import payloads
from core.run_events.changes import TurnShown, change_events, turn_events
from core.wire.messages import message_record
from core.wire.runs import message_creation, new_step
from tests.core.test_run_event_payloads import run, strict
from tools.plugins import TOOLS, functions

FIGURE = {"type": "image_file", "image_file": {"file_id": "file-fig", "detail": "auto"}}
CALLS = [{"id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}', "output": None}},
         {"id": "call_b", "type": "code_interpreter", "code_interpreter": {"input": "1+1", "outputs": []}}]
SHAPES = ["message", "tools", "both"]
RUN_ENDS = ["in_progress", "completed", "requires_action", "incomplete", "failed"]
UNWRITTEN = (payloads.message_delta("msg_t", "tail"), functions.call_delta("step_tool", 0, arguments="}"))


def records(shape: str, *, truncated: bool = False, figure: bool = False) -> tuple[list[dict], list[dict]]:
    """A turn's new steps (as TurnRecords.new_steps orders them: the text's, then the calls') and messages."""
    turn_run = run("in_progress")
    steps: list[dict] = []
    messages: list[dict] = []
    if shape in ("message", "both"):
        content = [*([FIGURE] if figure else []), {"type": "text", "text": {"value": "Hi", "annotations": []}}]
        messages.append(message_record("msg_t", "thread_1", 7, "assistant", content,
                                       status="incomplete" if truncated else "completed",
                                       incomplete_reason="max_tokens" if truncated else None, run=turn_run))
        steps.append(new_step(turn_run, "step_msg", 7, m.COMPLETED, message_creation("msg_t"),
                              {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}))
    if shape in ("tools", "both"):
        steps.append(new_step(turn_run, "step_tool", 7, m.IN_PROGRESS, {"type": "tool_calls", "tool_calls": CALLS}))
    return steps, messages


def as_streamed_before(steps: list[dict], messages: list[dict], opened: frozenset[str], unwritten: tuple,
                       leading: list[dict]) -> list[payloads.Event]:
    """What the turn's stream built for the change before (TurnOutput.final_events, with its unwritten
    pieces first): the reference the wire must still match."""
    message = messages[0] if messages else None
    message_step = next((step for step in steps if step["type"] == "message_creation"), None)
    tool_step = next((step for step in steps if step["type"] == "tool_calls"), None)
    events = list(unwritten)
    if message is not None and message_step is not None:
        if "msg_t" not in opened:
            empty = dict(message, status="in_progress", content=[], completed_at=None, incomplete_at=None,
                         incomplete_details=None)
            events += payloads.opening(dict(message_step, status="in_progress", completed_at=None), empty)
            events += [payloads.content_part_delta("msg_t", index, part) for index, part in enumerate(leading)]
        events += [payloads.message_done(message), payloads.step_status(message_step)]
    if tool_step is not None and "step_tool" not in opened:
        empty = {**tool_step, "step_details": {"type": "tool_calls", "tool_calls": []}}
        events += payloads.opening(empty) + TOOLS.call_deltas("step_tool", tool_step["step_details"]["tool_calls"])
    return events


def openings_of(shape: str) -> list[frozenset[str]]:
    """Every set of openings a stream of the turn may have shown already (a message opens with its step)."""
    message = [frozenset(), frozenset({"step_msg", "msg_t"})] if shape != "tools" else [frozenset()]
    tools = [frozenset(), frozenset({"step_tool"})] if shape != "message" else [frozenset()]
    return [mine | theirs for mine, theirs in itertools.product(message, tools)]


CASES = [(shape, opened, unwritten, ended, truncated, figure)
         for shape in SHAPES for opened in openings_of(shape) for unwritten in (0, 2) for ended in RUN_ENDS
         for truncated in (False, True) for figure in (False, True)
         if shape != "tools" or not (truncated or figure)]


@pytest.mark.parametrize("shape, opened, unwritten, ended, truncated, figure", CASES)
def test_a_turn_shows_what_its_stream_did_not_then_closes_its_message_then_the_run_moves(
        shape, opened, unwritten, ended, truncated, figure):
    steps, messages = records(shape, truncated=truncated, figure=figure)
    turn = TurnShown(opened, UNWRITTEN[:unwritten], TOOLS)
    events = change_events(run("in_progress"), run(ended), new_steps=steps, new_messages=messages, turn=turn)

    expected = [name for name, _ in UNWRITTEN[:unwritten]]
    if shape != "tools":
        if "msg_t" not in opened:
            expected += ["thread.run.step.created", "thread.run.step.in_progress", "thread.message.created",
                         "thread.message.in_progress", *(["thread.message.delta"] if figure else [])]
        expected += ["thread.message.incomplete" if truncated else "thread.message.completed",
                     "thread.run.step.completed"]
    if shape != "message" and "step_tool" not in opened:
        expected += ["thread.run.step.created", "thread.run.step.in_progress"] + ["thread.run.step.delta"] * len(CALLS)
    expected += [] if ended == "in_progress" else [f"thread.run.{ended}"]
    assert [name for name, _ in events] == expected

    # The wire is what the stream built itself before (the run's new status followed it then too).
    moved = [payloads.run_status(run(ended))] if ended != "in_progress" else []
    assert events == as_streamed_before(steps, messages, opened, UNWRITTEN[:unwritten],
                                        [FIGURE] if figure else []) + moved
    for event in events:
        parsed = strict(event)
        if event[0] in ("thread.run.step.created", "thread.run.step.in_progress", "thread.message.created",
                        "thread.message.in_progress") and parsed.id != "step_tool":
            assert parsed.status == "in_progress"


@pytest.mark.parametrize("figure", [False, True])
def test_a_message_not_streamed_rebuilds_from_its_opening_and_deltas_to_its_stored_content(figure):
    steps, messages = records("message", figure=figure)
    events = turn_events(TurnShown(), steps, messages)
    opened = strict(events[2]).model_dump()
    assert opened["content"] == [] and opened["status"] == "in_progress"
    content: list = []
    for _, data in (event for event in events if event[0] == "thread.message.delta"):
        content = accumulate_delta({"content": content}, data["delta"])["content"]
    assert [{key: value for key, value in part.items() if key != "index"} for part in content] == \
        messages[0]["content"][:-1]  # the figure before the text; the text comes with the completed message
    assert strict(events[-2]).content[-1].text.value == "Hi"


def test_a_tool_step_not_streamed_shows_its_calls_whole_and_stays_in_progress():
    steps, messages = records("tools")
    events = turn_events(TurnShown(tools=TOOLS), steps, messages)
    snapshot = strict(events[0]).model_dump(exclude_unset=True)
    assert snapshot["step_details"]["tool_calls"] == [] and snapshot["status"] == "in_progress"
    for _, data in events[2:]:
        snapshot = accumulate_delta(snapshot, data["delta"])
    assert [(call["id"], call["type"]) for call in snapshot["step_details"]["tool_calls"]] == [
        ("call_a", "function"), ("call_b", "code_interpreter")]
    assert not any(name == "thread.run.step.completed" for name, _ in events)


def test_a_tool_step_not_streamed_needs_the_tools_to_show_its_calls():
    steps, messages = records("tools")
    with pytest.raises(ValueError, match="step_tool"):
        turn_events(TurnShown(), steps, messages)
    assert turn_events(TurnShown(frozenset({"step_tool"})), steps, messages) == []  # streamed: nothing is needed


def test_a_fully_streamed_turn_shows_only_its_unwritten_pieces_and_its_message_closing():
    steps, messages = records("both")
    turn = TurnShown(frozenset({"step_msg", "msg_t", "step_tool"}), UNWRITTEN)
    assert turn_events(turn, steps, messages) == [*UNWRITTEN, payloads.message_done(messages[0]),
                                                  payloads.step_status(steps[0])]


def test_the_repository_shows_a_turns_records_from_the_change_and_nothing_without_a_turn():
    steps, messages = records("message")
    change = RunChange(run("completed"), new_steps=[(step, StepBookkeeping()) for step in steps], new_messages=messages,
                       turn=TurnShown(frozenset({"step_msg", "msg_t"}), UNWRITTEN[:1]))
    assert [name for name, _ in shown(run("in_progress"), change)] == [
        "thread.message.delta", "thread.message.completed", "thread.run.step.completed", "thread.run.completed"]
    history = RunChange(run("in_progress"), new_steps=change.new_steps, new_messages=messages)
    assert shown(run("in_progress"), history) == []


@pytest.mark.parametrize("opened", [frozenset(), frozenset({"step_tool"})], ids=["unopened", "opened"])
def test_a_tool_step_stored_ended_shows_its_status_after_its_calls(opened):
    """Every call refused (undeclared functions): the step is stored completed with the turn, and no later
    change moves it, so the turn's own change shows `thread.run.step.completed`."""
    turn_run = run("in_progress")
    step = new_step(turn_run, "step_tool", 7, m.COMPLETED, {"type": "tool_calls", "tool_calls": CALLS[:1]})
    names = [name for name, _ in turn_events(TurnShown(opened=opened, tools=TOOLS), [step], [])]
    assert names[-1] == "thread.run.step.completed" and names.count("thread.run.step.completed") == 1
    assert ("thread.run.step.created" in names) == (not opened)
