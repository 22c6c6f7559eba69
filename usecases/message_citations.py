"""A conversation's message items with the annotations the response that wrote them shows.

An answer's Responses annotations come from its Assistants annotations and, for some tools, from the
calls its run made before it (core.tool_plugins `citing`). So an answer is cited without any read unless
a plug-in says its text needs the calls (`cites_calls`: a code_interpreter file link, a web search URL);
those answers are grouped by run, and each run's steps are read once, oldest first, only as far as its
last such answer, the runs at once. (A response's seeded step holds the client's function calls, which
cite nothing, so it needs no skipping here.)
The caller has established that the thread is the principal's.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from core.run_bookkeeping import StepBookkeeping
from core.wire import response_objects
from tools.plugins import TOOLS
from usecases import services

Calls = list[tuple[dict[str, Any], StepBookkeeping]]
_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="item-citations")


def _cites_calls(message: dict[str, Any]) -> bool:
    return message["role"] == "assistant" and bool(message.get("run_id")) and any(
        TOOLS.cites_calls(part["text"]["value"], part["text"].get("annotations") or [])
        for part in message.get("content") or [] if part.get("type") == "text")


def _calls_of_run(thread_id: str, run_id: str, message_ids: set[str], page_size: int) -> dict[str, Calls]:
    steps = ((step.record, step.books)
             for step in services.runs().steps_of_owned_run(thread_id, run_id, "asc", page_size=page_size))
    return response_objects.calls_before(steps, message_ids)


def message_items(thread_id: str, messages: list[dict[str, Any]], page_size: int) -> list[dict[str, Any]]:
    """`messages` of the thread as Responses `message` items, cited as their responses' output shows them
    (`page_size`: how many steps a read of a run takes at a time)."""
    wanted: dict[str, set[str]] = {}
    for message in messages:
        if _cites_calls(message):
            wanted.setdefault(message["run_id"], set()).add(message["id"])
    def read(run_id: str) -> dict[str, Calls]:
        return _calls_of_run(thread_id, run_id, wanted[run_id], page_size)

    found = list(map(read, wanted)) if len(wanted) < 2 else list(_READS.map(read, wanted))  # one read: no hand-off
    calls = {message_id: made for of_run in found for message_id, made in of_run.items()}
    return [response_objects.message_item(message, TOOLS.citing(calls.get(message["id"], []))) for message in messages]
