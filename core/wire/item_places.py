"""A call item's id names its place: `<prefix>_<run body><step body><slot>`, in every view alike.

A response's output, its stream, its input items and its conversation show a call (and a call's
answer) under this one id. Why a place, not the call: a model's call ids carry no time and no step,
so an item named after one could only be found again (by `after`, by retrieve) by reading the
thread's steps until it turned up; a place is found with one read and sorts by time like every
other id (core.ids). A step's calls take the slots of their index in the step, their answers the
slots after all of the step's calls, so no id moves as answers arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import ids

_SLOT_CHARS = 2
MAX_SLOTS = len(ids.ALPHABET) ** _SLOT_CHARS  # a step's items an id can name (two per call)
_BODY = 2 * ids.BODY_LENGTH + _SLOT_CHARS
_ALPHABET = frozenset(ids.ALPHABET)


@dataclass(frozen=True)
class CallPlace:
    """Where a call's item is: its run, its step and its slot in the step."""

    prefix: str
    run_id: str
    step_id: str
    slot: int

    @property
    def key(self) -> str:
        """Its place in the conversation's time order (comparable with a message id's body)."""
        return ids.body(self.step_id) + _slot(self.slot)


def _slot(slot: int) -> str:
    return ids.ALPHABET[slot // len(ids.ALPHABET)] + ids.ALPHABET[slot % len(ids.ALPHABET)]


def call_item_id(prefix: str, run_id: str, step_id: str, slot: int) -> str | None:
    """The id of the item at that place; None past what an id can name (a step of over 1,900 calls)."""
    if not 0 <= slot < MAX_SLOTS:
        return None
    return f"{prefix}_{ids.body(run_id)}{ids.body(step_id)}{_slot(slot)}"


def call_place(value: str) -> CallPlace | None:
    """The place a call item's id names; None when `value` is not shaped like one."""
    prefix, _, body = value.partition("_")
    if not prefix.isalnum() or not prefix.isascii() or len(body) != _BODY or not set(body) <= _ALPHABET:
        return None
    run_body, step_body, slot = body[:ids.BODY_LENGTH], body[ids.BODY_LENGTH:-_SLOT_CHARS], body[-_SLOT_CHARS:]
    return CallPlace(prefix, ids.PREFIXES["run"] + run_body, ids.PREFIXES["step"] + step_body,
                     ids.ALPHABET.index(slot[0]) * len(ids.ALPHABET) + ids.ALPHABET.index(slot[1]))


def placed(item: dict[str, Any], run_id: str, step_id: str, slot: int) -> dict[str, Any]:
    """A plug-in's item (its id's prefix says its kind) named by its place; as it came past MAX_SLOTS."""
    named = call_item_id(item["id"].partition("_")[0], run_id, step_id, slot)
    return {**item, "id": named} if named is not None else item


__all__ = ["MAX_SLOTS", "CallPlace", "call_item_id", "call_place", "placed"]
