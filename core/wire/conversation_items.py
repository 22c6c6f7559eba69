"""A conversation's items: its thread's messages and its runs' tool calls, in one time order.

Pure functions, no I/O (usecases.conversation_items reads the pages). A call's item is the one its
response output shows (core.wire.response_objects.call_items, each plug-in's), and a call the client
answered is followed by its answer (`ToolPlugin.output_item`: a function's `function_call_output`).

Every call item is named by its place (core.wire.item_places), as the response that made it shows it.
Messages and steps merge by the time-ordered body of their ids, and a step's items follow each other by
slot. The order holds because a thread runs one
run at a time and a turn draws its message's and steps' ids together when it starts
(core.run_events.turn.fresh_turn_ids): a user's message precedes the steps of the run it starts, a
turn's calls precede the answer of the turn after them, and a response's input precedes the step
seeded with its function call outputs. A call keeps `call_id`, which both wires share.
"""

from __future__ import annotations

import heapq
from itertools import islice
from typing import Any, Iterable, Iterator, Literal

from core import ids
from core.run_bookkeeping import StepBookkeeping
from core.tool_plugins import ItemView, Tools
from core.wire.item_places import call_place, placed
from core.wire.response_objects import call_items, tool_calls

Entry = tuple[str, dict[str, Any]]  # (the item's place, as a time-ordered key; the item)


def is_item_id(value: str) -> bool:
    """A conversation item's id: a thread message's, or a call item's."""
    return ids.is_id("message", value) or call_place(value) is not None


def place_key(item_id: str) -> str:
    """Where an item (a message, or a call item, by its id) is in the conversation's time order."""
    place = call_place(item_id) if not ids.is_id("message", item_id) else None
    return place.key if place is not None else ids.body(item_id)


def step_items(step: dict[str, Any], books: StepBookkeeping, tools: Tools, view: ItemView,
               made_earlier: frozenset[str] = frozenset()) -> list[Entry]:
    """A tool_calls step's items in order, each named by its place: every call's item, then the answers
    the step holds. `made_earlier`: calls an earlier run made and showed (a step seeded with a
    response's function call outputs shows only their answers, unless the input itself gave the call)."""
    shown = call_items(step, books, tools, view)
    count = len(tool_calls(step))
    items = [item for _, call, item in shown if call["id"] not in made_earlier]
    for index, call, _ in shown:
        answer = tools.of(call, books).output_item(call, books)
        if answer is not None:
            items.append(placed(answer, step["run_id"], step["id"], count + index))
    # (an item past what an id can name, in a step of over 1,900 calls, has no place: left out)
    return [(place.key, item) for item, place in ((item, call_place(item["id"])) for item in items)
            if place is not None]


def after_place(entries: Iterable[Entry], key: str, order: Literal["asc", "desc"]) -> Iterator[Entry]:
    """`entries` (in `order`) that come after the place `key` in that order."""
    return (entry for entry in entries if (entry[0] > key if order == "asc" else entry[0] < key))


def page(messages: Iterable[Entry], calls: Iterable[Entry], order: Literal["asc", "desc"],
         limit: int) -> tuple[list[dict[str, Any]], bool]:
    """A page of items merged from messages and call items (each in `order`), and whether more follow.
    Lazy: the call items are read only as far as the page needs them."""
    merged = heapq.merge(messages, calls, key=lambda entry: entry[0], reverse=order == "desc")
    taken = [item for _, item in islice(merged, limit + 1)]
    return taken[:limit], len(taken) > limit


__all__ = ["Entry", "after_place", "is_item_id", "page",
           "place_key", "step_items"]
