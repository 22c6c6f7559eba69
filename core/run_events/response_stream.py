"""A response's stream as a view of its run's event log: `thread.*` events in, `response.*` events out.

Pure and deterministic: the same log always translates to the same events with the same
`sequence_number`s (0, 1, 2 … without gaps), so a client resuming `starting_after=N` gets exactly
the events after N — the view translates the log from its start and sends only what follows N.

    thread.run.created / queued / in_progress → response.created / queued / in_progress
    thread.message.created   → response.output_item.added (message) + response.content_part.added
    thread.message.delta     → response.output_text.delta
    thread.message.completed → response.output_text.done + content_part.done + output_item.done
    a tool call's deltas     → response.output_item.added (the item named by its place, as the output
                               names it) + what its plug-in shows as it comes
                               (function_call_arguments.delta; file_search_call.in_progress, searching …)
    its step's end           → its plug-in's closing events (function_call_arguments.done, *.completed)
                               + response.output_item.done; an answer's citations as annotation.added
    thread.run.completed / incomplete / failed → response.completed / incomplete / failed
A cancelled run's stream simply ends (the Responses API has no cancelled event).
"""

from __future__ import annotations

from typing import Any, Callable, cast

from core.run_bookkeeping import StepBookkeeping
from core.run_events.payloads import RUN_TERMINAL_EVENTS
from core.tool_plugins import ItemView, ToolPlugin, Tools
from core.wire.item_places import placed
from core.wire.response_objects import message_item, output_text_part, tool_calls

Render = Callable[[dict[str, Any], list[dict[str, Any]]], dict[str, Any]]  # (run snapshot, output so far) → the response object
BooksOf = Callable[[str], StepBookkeeping]  # a step id → what its step keeps beside its calls (stored)
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
    def __init__(self, run_id: str, render: Render, tools: Tools, books_of: BooksOf, view: ItemView,
                 skip_step: str | None = None):
        """`run_id`: the response's run, whose calls' items are named by their place in it
        (core.wire.item_places), as its output names them; `books_of` is read once per ended tool step (a
        step's bookkeeping is final when it ends, so a replay reads the same); `skip_step`: the step
        seeded with the response's input."""
        self._run_id, self._render = run_id, render
        self._tools, self._books_of, self._view, self._skip = tools, books_of, view, skip_step
        self.sequence = -1
        self.output: list[dict[str, Any]] = []
        self._run: dict[str, Any] = {}
        self._messages: dict[str, list[Any]] = {}  # message id → [output index, text so far]
        self._calls: dict[tuple[str, int], tuple[ToolPlugin, int | None]] = {}  # (step, call index) → tool, output
        self._ended: list[tuple[dict[str, Any], StepBookkeeping]] = []  # the calls so far, which answers cite
        self._done: set[int] = set()

    def feed(self, name: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The response events one log event becomes, numbered."""
        made: list[dict[str, Any]]
        if name in RUN_EVENTS:
            self._run = data if name == "thread.run.created" else self._run
            made = [{"type": RUN_EVENTS[name], "response": self._render(data, list(self.output))}]
        elif name == "thread.message.created" and data.get("role") == "assistant":
            made = self._message_added(data)
        elif name == "thread.message.delta":
            made = self._text_delta(data)
        elif name in ("thread.message.completed", "thread.message.incomplete") and data.get("role") == "assistant":
            made = self._message_done(data)
        elif name == "thread.run.step.delta":
            made = self._call_deltas(data)
        elif name in STEP_ENDS and data["id"] != self._skip:
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

    def _message_added(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        index = len(self.output)
        self._messages[message["id"]] = [index, ""]
        item = dict(message_item(message), status="in_progress", content=[])
        self.output.append(item)
        return [{"type": "response.output_item.added", "output_index": index, "item": item},
                {"type": "response.content_part.added", "item_id": message["id"], "output_index": index,
                 "content_index": 0, "part": output_text_part("")}]

    def _text_delta(self, data: dict[str, Any]) -> list[dict[str, Any]]:
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

    def _message_done(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        # A message shown whole (its opening came with it in one write) is opened here.
        made = self._message_added(message) if message["id"] not in self._messages else []
        index = self._messages[message["id"]][0]
        if index in self._done:
            return made
        self._done.add(index)
        item = message_item(message, self._tools.citing(list(self._ended)))
        self.output[index] = item
        part = item["content"][0] if item["content"] else output_text_part("")
        where = {"item_id": message["id"], "output_index": index, "content_index": 0}
        made += [{"type": "response.output_text.annotation.added", **where, "annotation_index": position,
                  "annotation": annotation} for position, annotation in enumerate(part["annotations"])]
        return made + [
            {"type": "response.output_text.done", **where, "text": part["text"], "logprobs": []},
            {"type": "response.content_part.done", **where, "part": part},
            {"type": "response.output_item.done", "output_index": index, "item": item}]

    def _item_added(self, key: tuple[str, int], tool: ToolPlugin, item: dict[str, Any] | None) -> list[dict[str, Any]]:
        if item is None:  # a kind the Responses wire does not show
            self._calls[key] = (tool, None)
            return []
        item = placed(item, self._run_id, *key)
        index = len(self.output)
        self._calls[key] = (tool, index)
        self.output.append(item)
        return [{"type": "response.output_item.added", "output_index": index, "item": dict(item)},
                *tool.response_events("opened", item, index)]

    def _call_deltas(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        made = []
        for piece in (data["delta"].get("step_details") or {}).get("tool_calls") or []:
            key = (data["id"], piece["index"])
            if key not in self._calls:
                if "id" not in piece:
                    continue
                tool = self._tools.of_delta(piece, self._run)
                made += self._item_added(key, tool, tool.response_item(piece, None, False, self._view))
            tool, index = self._calls[key]
            if index is not None and index not in self._done:
                made += tool.response_delta_events(self.output[index], index, piece)
        return made

    def _calls_done(self, step: dict[str, Any]) -> list[dict[str, Any]]:
        calls = tool_calls(step)
        if not calls:
            return []
        books = self._books_of(step["id"])
        made = []
        for position, call in enumerate(calls):
            self._ended.append((call, books))
            key = (step["id"], position)
            tool = self._tools.of(call, books)
            if key not in self._calls:
                made += self._item_added(key, tool, tool.response_item(call, None, False, self._view))
            index = self._calls[key][1]
            if index is None or index in self._done:
                continue
            self._done.add(index)
            # (a kind the Responses wire shows when its call opens is shown when it is done: never None)
            item = placed(cast(dict[str, Any], tool.response_item(call, books, True, self._view)), self._run_id,
                          *key)
            self.output[index] = item
            made += [*tool.response_events("done", item, index),
                     {"type": "response.output_item.done", "output_index": index, "item": item}]
        return made
