"""A response's stream as a view of its run's event log: `thread.*` events in, `response.*` events out.

Pure and deterministic: the same log always translates to the same events with the same
`sequence_number`s (0, 1, 2 … without gaps), so a client resuming `starting_after=N` gets exactly
the events after N — the view translates the log from its start and sends only what follows N.

    thread.run.created / queued / in_progress → response.created / queued / in_progress
    thread.message.created   → response.output_item.added (message) + response.content_part.added
    thread.message.delta     → response.output_text.delta
    thread.message.completed → response.output_text.done + content_part.done + output_item.done
    a function call's deltas → response.output_item.added (function_call) + function_call_arguments.delta
    its step's end           → response.function_call_arguments.done + response.output_item.done
    thread.run.completed / incomplete / failed → response.completed / incomplete / failed
A cancelled run's stream simply ends (the Responses API has no cancelled event).
"""

from __future__ import annotations

from typing import Callable

from core.run_events.payloads import RUN_TERMINAL_EVENTS
from core.wire.response_objects import call_item_id, function_call_item, function_calls, message_item, output_text_part

Render = Callable[[dict, list[dict]], dict]  # (run snapshot, output so far) → the response object
RUN_EVENTS = {"thread.run.created": "response.created", "thread.run.queued": "response.queued",
              "thread.run.in_progress": "response.in_progress", "thread.run.completed": "response.completed",
              "thread.run.incomplete": "response.incomplete", "thread.run.failed": "response.failed",
              "thread.run.expired": "response.failed"}
STEP_ENDS = frozenset({"thread.run.step.completed", "thread.run.step.failed", "thread.run.step.cancelled",
                       "thread.run.step.expired"})


def ends(name: str) -> bool:
    """The log event after which a response's stream has nothing more to say."""
    return name in RUN_TERMINAL_EVENTS


class ResponseStream:
    def __init__(self, render: Render):
        self._render = render
        self.sequence = -1
        self.output: list[dict] = []
        self._messages: dict[str, list] = {}  # message id → [output index, text so far]
        self._calls: dict[tuple[str, int], int] = {}  # (step id, call index) → output index
        self._done: set[int] = set()

    def feed(self, name: str, data: dict) -> list[dict]:
        """The response events one log event becomes, numbered."""
        if name in RUN_EVENTS:
            made = [{"type": RUN_EVENTS[name], "response": self._render(data, list(self.output))}]
        elif name == "thread.message.created" and data.get("role") == "assistant":
            made = self._message_added(data)
        elif name == "thread.message.delta":
            made = self._text_delta(data)
        elif name in ("thread.message.completed", "thread.message.incomplete") and data.get("role") == "assistant":
            made = self._message_done(data)
        elif name == "thread.run.step.delta":
            made = self._call_deltas(data)
        elif name in STEP_ENDS:
            made = self._calls_done(data)
        elif name == "error":
            error = data.get("error") or {}
            made = [{"type": "error", "code": error.get("code"), "message": error.get("message") or "",
                     "param": error.get("param")}]
        else:
            made = []
        for event in made:
            self.sequence += 1
            event["sequence_number"] = self.sequence
        return made

    def _message_added(self, message: dict) -> list[dict]:
        index = len(self.output)
        self._messages[message["id"]] = [index, ""]
        item = dict(message_item(message), status="in_progress", content=[])
        self.output.append(item)
        return [{"type": "response.output_item.added", "output_index": index, "item": item},
                {"type": "response.content_part.added", "item_id": message["id"], "output_index": index,
                 "content_index": 0, "part": output_text_part("")}]

    def _text_delta(self, data: dict) -> list[dict]:
        opened = self._messages.get(data["id"])
        if opened is None:
            return []
        made = []
        for part in data["delta"].get("content") or []:
            if part.get("type") != "text" or not part["text"].get("value"):
                continue
            opened[1] += part["text"]["value"]
            made.append({"type": "response.output_text.delta", "item_id": data["id"], "output_index": opened[0],
                         "content_index": 0, "delta": part["text"]["value"], "logprobs": []})
        return made

    def _message_done(self, message: dict) -> list[dict]:
        # A message shown whole (its opening came with it in one write) is opened here.
        made = self._message_added(message) if message["id"] not in self._messages else []
        index = self._messages[message["id"]][0]
        if index in self._done:
            return made
        self._done.add(index)
        item = message_item(message)
        self.output[index] = item
        text = "".join(part["text"] for part in item["content"])
        return made + [
            {"type": "response.output_text.done", "item_id": message["id"], "output_index": index, "content_index": 0,
             "text": text, "logprobs": []},
            {"type": "response.content_part.done", "item_id": message["id"], "output_index": index,
             "content_index": 0, "part": output_text_part(text)},
            {"type": "response.output_item.done", "output_index": index, "item": item}]

    def _call_added(self, key: tuple[str, int], call_id: str, name: str) -> list[dict]:
        index = len(self.output)
        self._calls[key] = index
        item = {"id": call_item_id(call_id), "type": "function_call", "call_id": call_id, "name": name,
                "arguments": "", "status": "in_progress"}
        self.output.append(item)
        return [{"type": "response.output_item.added", "output_index": index, "item": dict(item)}]

    def _call_deltas(self, data: dict) -> list[dict]:
        made = []
        for call in (data["delta"].get("step_details") or {}).get("tool_calls") or []:
            if call.get("type") != "function":
                continue
            key, function = (data["id"], call["index"]), call["function"]
            if key not in self._calls:
                if "id" not in call:
                    continue
                made += self._call_added(key, call["id"], function.get("name") or "")
            index = self._calls[key]
            piece = function.get("arguments") or ""
            if piece and index not in self._done:
                self.output[index]["arguments"] += piece
                made.append({"type": "response.function_call_arguments.delta", "item_id": self.output[index]["id"],
                             "output_index": index, "delta": piece})
        return made

    def _calls_done(self, step: dict) -> list[dict]:
        made = []
        for position, call in enumerate(function_calls(step)):
            key = (step["id"], position)
            if key not in self._calls:
                made += self._call_added(key, call["id"], call["function"]["name"])
            index = self._calls[key]
            if index in self._done:
                continue
            self._done.add(index)
            item = function_call_item(call, "completed")
            self.output[index] = item
            made += [{"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": index,
                      "name": item["name"], "arguments": item["arguments"]},
                     {"type": "response.output_item.done", "output_index": index, "item": item}]
        return made
