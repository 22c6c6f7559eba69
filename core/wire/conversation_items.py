"""A conversation's items: its thread's messages and its runs' tool calls, in one time order.

Pure functions, no I/O (usecases.conversation_items reads the pages). A call's item is the one its
response output shows (core.wire.response_objects.call_items, each plug-in's), and a call the client
answered is followed by its answer (`ToolPlugin.output_item`: a function's `function_call_output`).

Why a call's item is named by its place, not by its call: a model's call ids carry no time and no
step, so an item named after one could only be found again (by `after`, by retrieve) by reading the
thread's steps until it turned up. `<prefix>_<run body><step body><slot>` is found with one read
and sorts by time like every other id (core.ids): messages and steps merge by the time-ordered body
of their ids, and a step's items follow each other by slot. The order holds because a thread runs one
run at a time and a turn draws its message's and steps' ids together when it starts
(core.run_events.turn.fresh_turn_ids): a user's message precedes the steps of the run it starts, a
turn's calls precede the answer of the turn after them, and a response's input precedes the step
seeded with its function call outputs. A call keeps `call_id`, which both wires share.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from itertools import islice
from typing import Any, Iterable, Iterator, Literal

from core import ids
from core.run_bookkeeping import StepBookkeeping
from core.tool_plugins import ItemView, Tools
from core.wire.response_objects import call_items, tool_calls

_SLOT_CHARS = 2
MAX_SLOTS = len(ids.ALPHABET) ** _SLOT_CHARS  # a step shows at most this many items (two per call)
_BODY = 2 * ids.BODY_LENGTH + _SLOT_CHARS
_ALPHABET = frozenset(ids.ALPHABET)

Entry = tuple[str, dict[str, Any]]  # (the item's place, as a time-ordered key; the item)


@dataclass(frozen=True)
class CallPlace:
    """Where a call's item is: its run, its step and its slot in the step (a call's item at the call's
    index, its answer after all of the step's calls)."""

    prefix: str
    run_id: str
    step_id: str
    slot: int

    @property
    def key(self) -> str:
        return ids.body(self.step_id) + _slot(self.slot)


def _slot(slot: int) -> str:
    return ids.ALPHABET[slot // len(ids.ALPHABET)] + ids.ALPHABET[slot % len(ids.ALPHABET)]


def call_item_id(prefix: str, run_id: str, step_id: str, slot: int) -> str:
    return f"{prefix}_{ids.body(run_id)}{ids.body(step_id)}{_slot(slot)}"


def call_place(value: str) -> CallPlace | None:
    """The place a call item's id names; None when `value` is not shaped like one."""
    prefix, _, body = value.partition("_")
    if not prefix.isalnum() or not prefix.isascii() or len(body) != _BODY or not set(body) <= _ALPHABET:
        return None
    run_body, step_body, slot = body[:ids.BODY_LENGTH], body[ids.BODY_LENGTH:-_SLOT_CHARS], body[-_SLOT_CHARS:]
    return CallPlace(prefix, ids.PREFIXES["run"] + run_body, ids.PREFIXES["step"] + step_body,
                     ids.ALPHABET.index(slot[0]) * len(ids.ALPHABET) + ids.ALPHABET.index(slot[1]))


def is_item_id(value: str) -> bool:
    """A conversation item's id: a thread message's, or a call item's."""
    return ids.is_id("message", value) or call_place(value) is not None


def place_key(item_id: str) -> str:
    """Where an item (a message, or a call item, by its id) is in the conversation's time order."""
    place = call_place(item_id) if not ids.is_id("message", item_id) else None
    return place.key if place is not None else ids.body(item_id)


def step_items(run_id: str, step: dict[str, Any], books: StepBookkeeping, tools: Tools, view: ItemView,
               made_earlier: frozenset[str] = frozenset()) -> list[Entry]:
    """A tool_calls step's items in order, each named by its place: every call's item, then the answers
    the step holds. `made_earlier`: calls an earlier run made and showed (a step seeded with a
    response's function call outputs shows only their answers, unless the input itself gave the call)."""
    shown = call_items(step, books, tools, view)
    count = len(tool_calls(step))
    entries = [_placed(run_id, step["id"], index, item) for index, call, item in shown
               if call["id"] not in made_earlier]
    for index, call, _ in shown:
        answer = tools.of(call, books).output_item(call, books)
        if answer is not None:
            entries.append(_placed(run_id, step["id"], count + index, answer))
    return [entry for entry in entries if entry[0]]


def _placed(run_id: str, step_id: str, slot: int, item: dict[str, Any]) -> Entry:
    if slot >= MAX_SLOTS:
        return "", item  # past what an id can name (a step of over 1,900 calls): left out
    prefix = item["id"].partition("_")[0]
    place = CallPlace(prefix, run_id, step_id, slot)
    return place.key, {**item, "id": call_item_id(prefix, run_id, step_id, slot)}


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


__all__ = ["MAX_SLOTS", "CallPlace", "Entry", "after_place", "call_item_id", "call_place", "is_item_id", "page",
           "place_key", "step_items"]
