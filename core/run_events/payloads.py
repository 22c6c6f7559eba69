"""OpenAI's streaming event payloads, built from our records: pure functions, no I/O.

An event is a `(name, data)` pair. Snapshots (`thread.run.*`, `thread.run.step.*`,
`thread.message.*` other than deltas, `thread.created`) carry the object as the API
returns it; deltas carry only what was added, shaped so that the SDK's accumulator
(`openai.lib.streaming._deltas.accumulate_delta`) rebuilds the object: strings are
concatenated, list entries are merged by their `index`.
"""

from __future__ import annotations

from typing import Any

Event = tuple[str, dict[str, Any]]

# The events after which a stream has nothing more to say until the client acts (or ever).
RUN_TERMINAL_EVENTS = frozenset({"thread.run.completed", "thread.run.incomplete", "thread.run.failed",
                                 "thread.run.cancelled", "thread.run.expired"})
STREAM_END_EVENTS = RUN_TERMINAL_EVENTS | {"thread.run.requires_action"}
STEP_STATUS_EVENTS = {"in_progress": "thread.run.step.in_progress", "completed": "thread.run.step.completed",
                      "failed": "thread.run.step.failed", "cancelled": "thread.run.step.cancelled",
                      "expired": "thread.run.step.expired"}


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the API shows it: private bookkeeping (keys starting with `_`) removed."""
    return {key: value for key, value in record.items() if not key.startswith("_")}


def ends_stream(name: str) -> bool:
    return name in STREAM_END_EVENTS


def thread_created(thread: dict[str, Any]) -> Event:
    return "thread.created", public(thread)


def run_status(run: dict[str, Any]) -> Event:
    """`thread.run.<status>` with the run's snapshot (queued, in_progress, requires_action, …)."""
    return f"thread.run.{run['status']}", public(run)


def run_created(run: dict[str, Any]) -> Event:
    return "thread.run.created", public(run)


def step_created(step: dict[str, Any]) -> Event:
    return "thread.run.step.created", public(step)


def step_status(step: dict[str, Any]) -> Event:
    return STEP_STATUS_EVENTS[step["status"]], public(step)


def message_created(message: dict[str, Any]) -> Event:
    return "thread.message.created", public(message)


def message_in_progress(message: dict[str, Any]) -> Event:
    return "thread.message.in_progress", public(message)


def message_done(message: dict[str, Any]) -> Event:
    """`thread.message.completed` or `.incomplete`, as the stored message says."""
    name = "thread.message.incomplete" if message["status"] == "incomplete" else "thread.message.completed"
    return name, public(message)


def message_delta(message_id: str, text: str, index: int = 0) -> Event:
    return "thread.message.delta", {"id": message_id, "object": "thread.message.delta", "delta": {
        "content": [{"index": index, "type": "text", "text": {"value": text}}]}}


def content_part_delta(message_id: str, index: int, part: dict[str, Any]) -> Event:
    """A whole content part of a message (what a tool shows before the text, e.g. a figure) as a delta."""
    return "thread.message.delta", {"id": message_id, "object": "thread.message.delta", "delta": {
        "content": [{"index": index, **part}]}}


def image_delta(message_id: str, index: int, file_id: str) -> Event:
    """An image part of a message."""
    return content_part_delta(message_id, index, {"type": "image_file",
                                                  "image_file": {"file_id": file_id, "detail": "auto"}})


def step_delta(step_id: str, call: dict[str, Any]) -> Event:
    """A piece of one tool call (the call carries its `index`); tools build the call's body
    (core.tool_plugins)."""
    return "thread.run.step.delta", {"id": step_id, "object": "thread.run.step.delta", "delta": {
        "step_details": {"type": "tool_calls", "tool_calls": [call]}}}


def merge_deltas(events: list[Event]) -> list[Event]:
    """`events` with each run of adjacent deltas that only add text to the same message part, or
    `arguments` to the same tool call (as function calls stream), made one delta: what a client accumulates is the same,
    and a burst of the model's pieces costs one row instead of one each."""
    merged: list[Event] = []
    for event in events:
        joined = _joined(merged[-1], event) if merged else None
        if joined is None:
            merged.append(event)
        else:
            merged[-1] = joined
    return merged


def _joined(first: Event, second: Event) -> Event | None:
    """One delta saying what `first` then `second` say, when they only extend the same string."""
    (name, data), (next_name, next_data) = first, second
    if name != next_name or data["id"] != next_data["id"]:
        return None
    if name == "thread.message.delta":
        parts, next_parts = data["delta"]["content"], next_data["delta"]["content"]
        if not (len(parts) == len(next_parts) == 1 and parts[0]["type"] == next_parts[0]["type"] == "text"
                and parts[0]["index"] == next_parts[0]["index"]
                and set(parts[0]["text"]) == set(next_parts[0]["text"]) == {"value"}):
            return None
        text = parts[0]["text"]["value"] + next_parts[0]["text"]["value"]
        return message_delta(data["id"], text, parts[0]["index"])
    if name == "thread.run.step.delta":
        calls = data["delta"]["step_details"].get("tool_calls") or []
        next_calls = next_data["delta"]["step_details"].get("tool_calls") or []
        if not (len(calls) == len(next_calls) == 1 and calls[0]["type"] == next_calls[0]["type"]
                and calls[0]["index"] == next_calls[0]["index"]):
            return None
        kind, index = calls[0]["type"], calls[0]["index"]
        if not (set(calls[0]) == set(next_calls[0]) == {"index", "type", kind}
                and set(calls[0][kind]) == set(next_calls[0][kind]) == {"arguments"}):
            return None  # a call's first delta (its id and name) stays its own: the SDK shows it as created
        return step_delta(data["id"], {"index": index, "type": kind,
                                       kind: {"arguments": calls[0][kind]["arguments"] + next_calls[0][kind]["arguments"]}})
    return None


def error(message: str, code: str = "server_error") -> Event:
    return "error", {"error": {"message": message, "type": "server_error", "param": None, "code": code}}


def opening(step: dict[str, Any], message: dict[str, Any] | None = None) -> list[Event]:
    """What OpenAI sends when a step starts: the step created and in progress, then its message."""
    events = [step_created(step), ("thread.run.step.in_progress", public(step))]
    if message is not None:
        events += [message_created(message), message_in_progress(message)]
    return events
