"""Event payloads against the SDK's own models: strict validation, no unknown fields, and the
SDK's delta accumulator rebuilding the object the final snapshot shows."""

from __future__ import annotations

import pydantic
import pytest
from openai.lib.streaming._deltas import accumulate_delta
from openai.types.beta import AssistantStreamEvent

from core.run_events import payloads
from core.run_events.step_changes import step_change_events
from core.wire.messages import message_record
from core.wire.runs import message_creation, new_step
from tests.support.sdk_models import assert_no_unknown_fields
from tools.plugins import TOOLS, code_interpreter, functions

RUN_RECORD = {"id": "run_1", "thread_id": "thread_1", "assistant_id": "asst_1"}
ADAPTER = pydantic.TypeAdapter(AssistantStreamEvent)


def strict(event: payloads.Event):
    """Validate as the SDK does with _strict_response_validation, and refuse fields the SDK does not know."""
    name, data = event
    parsed = ADAPTER.validate_python({"event": name, "data": data}, strict=False)
    assert parsed.event == name
    assert_no_unknown_fields(parsed.data)
    return parsed.data


def tool_calls_step() -> dict:
    return new_step(RUN_RECORD, "step_1", 5, "in_progress", {"type": "tool_calls", "tool_calls": []})



def run(status: str = "queued") -> dict:
    return {"id": "run_1", "object": "thread.run", "created_at": 1, "thread_id": "thread_1",
            "assistant_id": "asst_1", "status": status, "required_action": None, "last_error": None,
            "expires_at": 600, "started_at": None, "cancelled_at": None, "failed_at": None,
            "completed_at": None, "incomplete_details": None, "model": "m", "instructions": "",
            "tools": [], "metadata": {}, "usage": None, "temperature": None, "top_p": None,
            "max_prompt_tokens": None, "max_completion_tokens": None,
            "truncation_strategy": {"type": "auto", "last_messages": None}, "response_format": "auto",
            "tool_choice": "auto", "parallel_tool_calls": True, "_engine": {"turns": {}}}


@pytest.mark.parametrize("status", ["queued", "in_progress", "requires_action", "cancelling", "cancelled",
                                    "failed", "completed", "incomplete", "expired"])
def test_run_status_events_carry_the_public_run(status):
    name, data = payloads.run_status(run(status))
    assert name == f"thread.run.{status}" and "_engine" not in data
    assert strict((name, data)).status == status


def test_created_thread_and_run():
    assert strict(payloads.run_created(run())).id == "run_1"
    thread = {"id": "thread_1", "object": "thread", "created_at": 1, "metadata": {}, "tool_resources": {}}
    assert strict(payloads.thread_created(thread)).id == "thread_1"


def test_message_opening_deltas_and_completion_rebuild_the_text():
    message = message_record("msg_1", "thread_1", 5, "assistant", [], status="in_progress", run=RUN_RECORD)
    step = new_step(RUN_RECORD, "step_1", 5, "in_progress", message_creation("msg_1"))
    opening = payloads.opening(step, message)
    assert [name for name, _ in opening] == ["thread.run.step.created", "thread.run.step.in_progress",
                                             "thread.message.created", "thread.message.in_progress"]
    for event in opening:
        strict(event)
    snapshot = strict(opening[2]).model_dump(exclude_unset=True)
    for piece in ("Hel", "lo, ", "world"):
        delta = strict(payloads.message_delta("msg_1", piece))
        assert delta.model_dump(exclude_unset=True) == {
            "id": "msg_1", "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": {"value": piece}}]}}
        content = delta.delta.model_dump(exclude_unset=True)["content"]
        snapshot.setdefault("content", [])
        if not snapshot["content"]:
            snapshot["content"].append(content[0])
        else:
            snapshot["content"][0] = accumulate_delta(snapshot["content"][0], content[0])
    assert snapshot["content"][0]["text"]["value"] == "Hello, world"
    done = dict(message, status="completed", completed_at=6,
                content=[{"type": "text", "text": {"value": "Hello, world", "annotations": []}}])
    assert payloads.message_done(done)[0] == "thread.message.completed"
    assert strict(payloads.message_done(dict(done, status="incomplete")))
    assert payloads.message_done(dict(done, status="incomplete"))[0] == "thread.message.incomplete"


def _accumulated(step: dict, deltas: list[payloads.Event]) -> dict:
    snapshot = strict(payloads.step_created(step)).model_dump(exclude_unset=True)
    for event in deltas:
        snapshot = accumulate_delta(snapshot, strict(event).delta.model_dump(exclude_unset=True))
    return snapshot


def test_function_call_deltas_accumulate_to_the_call():
    step = tool_calls_step()
    deltas = [functions.call_delta("step_1", 0, call_id="call_a", name="get_weather"),
              functions.call_delta("step_1", 0, arguments='{"city": '),
              functions.call_delta("step_1", 0, arguments='"Oslo"}'),
              functions.call_delta("step_1", 1, call_id="call_b", name="get_time", arguments="{}"),
              functions.call_delta("step_1", 0, output="sunny")]
    calls = _accumulated(step, deltas)["step_details"]["tool_calls"]
    assert calls[0] == {"index": 0, "type": "function", "id": "call_a",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}', "output": "sunny"}}
    assert calls[1]["id"] == "call_b" and calls[1]["function"]["arguments"] == "{}"


def test_code_interpreter_deltas_carry_input_logs_and_images():
    step = tool_calls_step()
    deltas = [code_interpreter.call_delta("step_1", 0, call_id="call_c", code=""),
              code_interpreter.call_delta("step_1", 0, code="print(1)"),
              code_interpreter.call_delta("step_1", 0, outputs=[
                  {"type": "logs", "logs": "1\n"}, {"type": "image", "image": {"file_id": "file-1"}}])]
    call = _accumulated(step, deltas)["step_details"]["tool_calls"][0]
    assert call["code_interpreter"]["input"] == "print(1)"
    assert call["code_interpreter"]["outputs"] == [{"index": 0, "type": "logs", "logs": "1\n"},
                                                   {"index": 1, "type": "image", "image": {"file_id": "file-1"}}]


def test_whole_calls_as_deltas_cover_every_tool_type():
    calls = [{"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{}", "output": None}},
             {"id": "call_b", "type": "code_interpreter", "code_interpreter": {"input": "1+1", "outputs": []}},
             {"id": "call_c", "type": "file_search", "file_search": {}}]
    deltas = TOOLS.call_deltas("step_1", calls)
    accumulated = _accumulated(tool_calls_step(), deltas)
    assert [call["type"] for call in accumulated["step_details"]["tool_calls"]] == [
        "function", "code_interpreter", "file_search"]


@pytest.mark.parametrize("status", ["in_progress", "completed", "failed", "cancelled", "expired"])
def test_step_status_events(status):
    step = dict(tool_calls_step(), status=status)
    name, _ = payloads.step_status(step)
    assert name == payloads.STEP_STATUS_EVENTS[status]
    assert strict(payloads.step_status(step)).status == status


def test_which_events_end_a_stream():
    assert payloads.ends_stream("thread.run.requires_action") and payloads.ends_stream("thread.run.expired")
    assert not payloads.ends_stream("thread.run.in_progress") and not payloads.ends_stream("thread.message.delta")


def test_a_step_change_shows_new_outputs_then_the_new_status():
    calls = [{"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{}", "output": None}},
             {"id": "call_b", "type": "code_interpreter", "code_interpreter": {"input": "1", "outputs": []}}]
    before = dict(tool_calls_step(), step_details={"type": "tool_calls", "tool_calls": calls})
    after = {**before, "status": "completed", "step_details": {"type": "tool_calls", "tool_calls": [
        {**calls[0], "function": {**calls[0]["function"], "output": "42"}},
        {**calls[1], "code_interpreter": {"input": "1", "outputs": [{"type": "logs", "logs": "1"}]}}]}}
    events = step_change_events(TOOLS, before, after)
    assert [name for name, _ in events] == ["thread.run.step.delta", "thread.run.step.delta",
                                            "thread.run.step.completed"]
    accumulated = _accumulated(before, events[:2])
    assert accumulated["step_details"]["tool_calls"][0]["function"]["output"] == "42"
    assert accumulated["step_details"]["tool_calls"][1]["code_interpreter"]["outputs"] == [
        {"index": 0, "type": "logs", "logs": "1"}]
    assert step_change_events(TOOLS, after, after) == []


def test_unknown_fields_are_caught():
    with pytest.raises(AssertionError):
        strict(("thread.message.delta", {"id": "m", "object": "thread.message.delta", "delta": {"bogus": 1}}))


def test_image_parts_come_as_deltas_before_the_text():
    delta = strict(payloads.image_delta("msg_1", 0, "file-1"))
    assert delta.delta.content[0].type == "image_file" and delta.delta.content[0].image_file.file_id == "file-1"


def _accumulated_by_id(events: list) -> dict:
    """What a client's accumulator makes of the deltas, per object id."""
    snapshots: dict = {}
    for _, data in events:
        snapshots[data["id"]] = accumulate_delta(snapshots.get(data["id"], {}), data["delta"])
    return snapshots


def test_merge_deltas_joins_adjacent_text_and_argument_pieces_and_keeps_what_a_client_accumulates():
    events = [
        payloads.message_delta("msg_1", "Hé"), payloads.message_delta("msg_1", "llo "), payloads.message_delta("msg_1", "🌍"),
        functions.call_delta("step_1", 0, call_id="call_a", name="lookup", arguments='{"q"'),
        functions.call_delta("step_1", 0, arguments=': "x"'), functions.call_delta("step_1", 0, arguments="}"),
        functions.call_delta("step_1", 1, call_id="call_b", name="other", arguments=""),
        functions.call_delta("step_1", 1, arguments="{}"),
    ]
    before = [(name, dict(data)) for name, data in events]
    merged = payloads.merge_deltas(events)
    assert merged == [  # a call's first delta stays apart: the SDK shows it as the call created, the rest as deltas
        payloads.message_delta("msg_1", "Héllo 🌍"),
        functions.call_delta("step_1", 0, call_id="call_a", name="lookup", arguments='{"q"'),
        functions.call_delta("step_1", 0, arguments=': "x"}'),
        functions.call_delta("step_1", 1, call_id="call_b", name="other", arguments=""),
        functions.call_delta("step_1", 1, arguments="{}")]
    assert events == before  # the pieces given are not changed
    assert _accumulated_by_id(merged) == _accumulated_by_id(events)
    for event in merged:
        strict(event)


@pytest.mark.parametrize("first, second", [
    (payloads.message_delta("msg_1", "a"), payloads.message_delta("msg_2", "b")),  # another message
    (payloads.message_delta("msg_1", "a", 0), payloads.message_delta("msg_1", "b", 1)),  # another part
    (payloads.image_delta("msg_1", 0, "file-1"), payloads.message_delta("msg_1", "b", 1)),  # not text
    (payloads.message_delta("msg_1", "a"), ("thread.message.delta", {  # text with annotations
        "id": "msg_1", "object": "thread.message.delta", "delta": {"content": [
            {"index": 0, "type": "text", "text": {"value": "b", "annotations": []}}]}})),
    (functions.call_delta("step_1", 0, arguments="{"), functions.call_delta("step_1", 1, arguments="}")),
    (functions.call_delta("step_1", 0, call_id="call_a", name="f", arguments="{"),  # the call's first
     functions.call_delta("step_1", 0, arguments="}")),
    (functions.call_delta("step_1", 0, arguments="{"),  # a later piece naming a call starts a new one
     functions.call_delta("step_1", 0, call_id="call_b", name="f", arguments="}")),
    (functions.call_delta("step_1", 0, arguments="{}"),
     functions.call_delta("step_1", 0, arguments="", output="done")),  # an output is not an argument
    (functions.call_delta("step_1", 0, arguments="{}", output="done"),
     functions.call_delta("step_1", 0, arguments="x")),
    (code_interpreter.call_delta("step_1", 0, code="print("), code_interpreter.call_delta("step_1", 0, code="1)")),
    (functions.call_delta("step_1", 0, arguments="{"), functions.call_delta("step_2", 0, arguments="}")),
    (payloads.message_delta("msg_1", "a"), functions.call_delta("step_1", 0, arguments="}")),
])
def test_merge_deltas_leaves_pieces_that_do_not_extend_the_same_string(first, second):
    assert payloads.merge_deltas([first, second]) == [first, second]


def test_merge_deltas_never_joins_across_another_event():
    events = [payloads.message_delta("msg_1", "a"), ("thread.run.step.completed", {"id": "step_9"}),
              payloads.message_delta("msg_1", "b")]
    assert payloads.merge_deltas(events) == events
    assert payloads.merge_deltas([]) == []
