"""A conversation's items read from its thread: a page of messages and call items, or one item.

What is shown and in what order is core.wire.conversation_items's; here are the reads. A page reads
from its cursor on, lazily, no more than it shows: limit+1 messages (one to know more follow), and
the runs and steps, limit+1 at a time, from the cursor's place until the page is full or has passed
its last message. A step the page does not show (a message's creation: the message itself comes
from the messages) is read and skipped. The messages it shows are cited as their responses show them
(usecases.message_citations: most need no read).
The caller has established that the thread is the principal's.
"""

from __future__ import annotations

from itertools import chain, islice
from typing import Iterator, Literal

from core import ids
from core.errors import NotFound
from core.pagination import PageRequest
from core.repositories.runs import StoredRun, StoredStep
from core.tool_plugins import ItemView
from core.wire import conversation_items, response_objects
from core.wire.conversation_items import Entry
from tools.plugins import TOOLS
from usecases import message_citations, services

Order = Literal["asc", "desc"]
ONE_ITEM_PAGE = 20  # how many steps at a time retrieve reads of the run before a seeded one


def _view(run: StoredRun, include: frozenset[str]) -> ItemView:
    """A run's calls show what the read includes, with the options its response declared its tools with."""
    return ItemView(include, run.books.response_tools)


class _Seeded:
    """Which calls a run's seeded step shows only the answers of: for the step a response seeded with
    its function call outputs (its run's first), the calls the run before it made and showed there.
    Read once per run a page meets, and only for a response's run that was seeded."""

    def __init__(self, thread_id: str, page_size: int):
        self._thread_id, self._page_size = thread_id, page_size
        self._first: dict[str, str | None] = {}

    def made_earlier(self, run: StoredRun, step: StoredStep) -> frozenset[str]:
        if not run.books.seeded_steps:
            return frozenset()
        run_id = run.record["id"]
        if run_id not in self._first:
            first = next(services.runs().steps_of_owned_run(self._thread_id, run_id, "asc", page_size=1), None)
            self._first[run_id] = first.record["id"] if first is not None else None
        if self._first[run_id] != step.record["id"]:
            return frozenset()
        return self._made_before(run_id, {call["id"] for call in response_objects.function_calls(step.record)})

    def _made_before(self, run_id: str, wanted: set[str]) -> frozenset[str]:
        """Which of the calls `wanted` the run before `run_id` made: its steps from the newest (the calls a
        response hands back end its run), until all are found."""
        runs = services.runs()
        before = next(runs.runs_of_owned_thread(self._thread_id, "desc", run_id, page_size=1), None)
        found: set[str] = set()
        if before is None:
            return frozenset()
        for earlier in runs.steps_of_owned_run(self._thread_id, before.record["id"], "desc", page_size=self._page_size):
            found |= wanted & {call["id"] for call in response_objects.function_calls(earlier.record)}
            if found == wanted:
                break
        return frozenset(found)


def _entries(run: StoredRun, step: StoredStep, include: frozenset[str], order: Order, seeded: _Seeded) -> list[Entry]:
    if step.record["step_details"]["type"] != "tool_calls":
        return []
    made = conversation_items.step_items(run.record["id"], step.record, step.books, TOOLS, _view(run, include),
                                         seeded.made_earlier(run, step))
    return made if order == "asc" else made[::-1]


def _runs_from(principal: str, thread_id: str, key: str | None, cursor: conversation_items.CallPlace | None,
               order: Order, page_size: int) -> Iterator[StoredRun]:
    """The runs whose steps may come after the place `key` in `order`: the run holding it (a cursor's
    call item names its run; a message's time falls in the run before it, if any), then the runs after."""
    runs = services.runs()
    if cursor is not None:
        try:
            yield runs.load(principal, thread_id, cursor.run_id)
        except NotFound:
            pass
        yield from runs.runs_of_owned_thread(thread_id, order, cursor.run_id, page_size)
        return
    after = ids.PREFIXES["run"] + key[:ids.BODY_LENGTH] if key else None
    if order == "asc" and after is not None:
        yield from islice(runs.runs_of_owned_thread(thread_id, "desc", after, 1), 1)
    yield from runs.runs_of_owned_thread(thread_id, order, after, page_size)


def _call_entries(principal: str, thread_id: str, after: str | None, order: Order, bound: str | None,
                  include: frozenset[str], page_size: int) -> Iterator[Entry]:
    """The call items after the item `after` in `order`, up to the place `bound` (the last message the
    page may show: nothing past it can be on the page)."""
    key = conversation_items.place_key(after) if after else None
    cursor = conversation_items.call_place(after) if after and not ids.is_id("message", after) else None
    steps_after = ids.PREFIXES["step"] + key[:ids.BODY_LENGTH] if key else None

    seeded = _Seeded(thread_id, page_size)

    def past(body: str) -> bool:
        return bound is not None and (body > bound if order == "asc" else body < bound)

    for run in _runs_from(principal, thread_id, key, cursor, order, page_size):
        run_id = run.record["id"]
        if order == "asc" and past(ids.body(run_id)):
            return  # its steps are later still
        steps: Iterator[StoredStep] = services.runs().steps_of_owned_run(thread_id, run_id, order, steps_after,
                                                                         page_size)
        if cursor is not None and run_id == cursor.run_id:
            steps = chain(_held(principal, thread_id, run_id, cursor.step_id), steps)
        for step in steps:
            if past(ids.body(step.record["id"])):
                return
            entries = _entries(run, step, include, order, seeded)
            yield from conversation_items.after_place(entries, key, order) if key else entries
        if order == "desc" and past(ids.body(run_id)):
            return  # older runs' steps are older still


def _held(principal: str, thread_id: str, run_id: str, step_id: str) -> Iterator[StoredStep]:
    """The cursor's own step (the rest of its items follow the cursor), if it is still there."""
    try:
        yield services.runs().step_of_held_run(principal, thread_id, run_id, step_id)
    except NotFound:
        return


def page(principal: str, thread_id: str, request: PageRequest, include: frozenset[str]) -> tuple[list[dict], bool]:
    """A page of the conversation's items in `request.order` after the item `request.after`."""
    order: Order = request.order
    key = conversation_items.place_key(request.after) if request.after else None
    message_cursor = ids.PREFIXES["message"] + key[:ids.BODY_LENGTH] if key else None
    read = services.messages().page_of_owned_thread(thread_id, PageRequest(
        limit=request.limit, order=order, after=message_cursor))
    messages = [(ids.body(message["id"]), response_objects.message_item(message)) for message in read.data]
    # With more messages than the page holds, nothing past its last message can be on it, and more follow.
    bound = messages[-1][0] if read.has_more else None
    calls = _call_entries(principal, thread_id, request.after, order, bound, include, request.limit + 1)
    items, has_more = conversation_items.page(messages, calls, order, request.limit)
    return _cited(thread_id, items, read.data, request.limit + 1), has_more or read.has_more


def _cited(thread_id: str, items: list[dict], messages: list[dict], page_size: int) -> list[dict]:
    """The page's items with its messages cited (only those it shows: citing one may read its run)."""
    shown = {item["id"] for item in items if item["type"] == "message"}
    cited = {item["id"]: item for item in message_citations.message_items(
        thread_id, [message for message in messages if message["id"] in shown], page_size)}
    return [cited.get(item["id"], item) if item["type"] == "message" else item for item in items]


def item(principal: str, thread_id: str, item_id: str, include: frozenset[str]) -> dict:
    """One item by its id; 404 when the thread has none of that id."""
    if ids.is_id("message", item_id):
        try:
            message = services.messages().get(principal, thread_id, item_id)
        except NotFound:
            raise NotFound("item", item_id) from None
        return message_citations.message_items(thread_id, [message], ONE_ITEM_PAGE)[0]
    place = conversation_items.call_place(item_id)
    try:
        if place is None:
            raise NotFound("item", item_id)
        run = services.runs().load(principal, thread_id, place.run_id)
        step = services.runs().step_of_held_run(principal, thread_id, place.run_id, place.step_id)
    except NotFound:
        raise NotFound("item", item_id) from None
    shown = [made for _, made in _entries(run, step, include, "asc", _Seeded(thread_id, ONE_ITEM_PAGE)) if made["id"] == item_id]
    if not shown:
        raise NotFound("item", item_id)
    return shown[0]
