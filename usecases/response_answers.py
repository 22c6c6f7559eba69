"""A response's answer: its orchestration started, the response object rendered, a held create's wait.

A held create subscribes to its run's wake-ups before starting the orchestration, so every write of
the run in this process reaches it (core.run_events.wakeups): it reads storage only when none came for
RECHECK_SECONDS (a writer elsewhere), and when the write that ended the run holds all the run's steps
and messages (`handed_rows`), it renders them as written, with no read at all.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from core import run_machine, settings
from core.errors import ApiError, InvalidRequest, NotFound
from core.pagination import PageRequest
from core.repositories.shared import responses
from core.response_withdrawal import REFUSED
from core.run_bookkeeping import StepBookkeeping
from core.run_events import wakeups
from core.run_protocol import RunRef
from core.tool_plugins import ItemView
from core.turn_prompt import CONTEXT_LENGTH_EXCEEDED
from core.wire import response_objects
from tools.plugins import TOOLS
from usecases import run_orchestration, services

DEFAULT_HOLD_SECONDS = 200.0  # RESPONSE_HOLD_SECONDS's default: under the 230 s Azure's front end allows a request
RECHECK_SECONDS = 0.25
CANCEL_HOLD_SECONDS = 10.0  # a cancel answers once the response is cancelled, or as it is (cancelling) after this
logger = logging.getLogger(__name__)
_READS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="response-read")
Rows = tuple[list[tuple[dict, StepBookkeeping]], list[dict]]  # a run's steps (with bookkeeping) and messages


def hold_seconds(configured: str | None) -> float:
    """How long a non-background create waits for its answer before returning the response unfinished
    (RESPONSE_HOLD_SECONDS: a positive number of seconds; anything else is the default, logged)."""
    try:
        held = float(configured or "")
    except ValueError:
        held = 0.0
    if held > 0 and math.isfinite(held):
        return held
    if configured:
        logger.warning("RESPONSE_HOLD_SECONDS=%r is not a positive number of seconds; holding %s s",
                       configured[:40], DEFAULT_HOLD_SECONDS)
    return DEFAULT_HOLD_SECONDS


async def start(client, principal: str, record: dict, run: dict) -> None:
    """Start the response's orchestration (the run engine's, handing function calls back)."""
    await run_orchestration.start(client, principal, run,
                                  RunRef(principal, record["thread_id"], record["run_id"], hands_calls_back=True))


def created(principal: str, record: dict, run: dict) -> dict:
    """The response as just created (`run` as stored): queued, with no output (the step seeded with
    its input is not shown, and its run has no message yet), so nothing needs reading."""
    return render(principal, record, run, rows=([], []))


def handed_rows(record: dict, committed: wakeups.Committed | None) -> Rows | None:
    """The run's steps and messages as the write that ended it handed them over, when they are all the
    run has: that write stored its first turn, and no step was seeded before it (nothing else adds a
    step or a message to a run, and nothing changes a run's rows once it has ended). None: read them."""
    if committed is None or committed.books_before is None or committed.books is None:
        return None
    before = committed.books_before
    if committed.run["status"] not in run_machine.TERMINAL_STATUSES or before.turns or before.seeded_steps \
            or not committed.books.turns or record.get("seeded_step_id"):
        return None
    return (sorted(committed.steps, key=lambda step: step[0]["id"]),
            sorted((message for message in committed.messages if message.get("run_id") == record["run_id"]),
                   key=lambda message: message["id"]))


def render(principal: str, record: dict, run: dict | None = None, include: frozenset[str] | None = None,
           rows: Rows | None = None) -> dict:
    """The response object as it is now (its run, steps and messages read from the thread, unless the
    run and its `rows` are handed in as a write of them committed)."""
    thread_id, run_id = record["thread_id"], record["run_id"]
    try:
        # The run first, so what its status says has ended is in the steps and messages read after it;
        # those two at once (a held create answers as soon as its run ends: each read is latency).
        run = run or services.runs().get(principal, thread_id, run_id)
        if rows is None:
            reading_messages = _READS.submit(services.runs().messages.page_of_owned_thread, thread_id,
                                             PageRequest(limit=100, order="asc"), run_id=run_id)
            steps = [(step.record, step.books) for step in services.runs().all_steps(thread_id, run_id)]
            rows = steps, reading_messages.result().data
    except ApiError:
        raise NotFound("response", record["id"]) from None
    steps, messages = rows
    output = response_objects.output_items(steps, {message["id"]: message for message in messages}, TOOLS,
                                           item_view(record, include), record.get("seeded_step_id"))
    return response_objects.response_object(record, run, output)


def item_view(record: dict, asked: frozenset[str] | None = None) -> ItemView:
    """How the response's items show: including what its create asked for, or what this read asks for,
    with the options its tools were declared with."""
    return ItemView(asked if asked is not None else frozenset(record.get("include") or ()),
                    record.get("tool_options") or {})


def step_books(principal: str, record: dict, step_id: str) -> StepBookkeeping:
    """What a step of the response's run keeps beside its calls (the stream's view reads it once a step ends)."""
    return services.runs().load_step(principal, record["thread_id"], record["run_id"], step_id).books


async def held(client, principal: str, record: dict, run: dict) -> dict:
    """Start the just-created response (`run` as created) and answer once it has ended (see `answered`),
    subscribed before the start so that no write of its run in this process goes unseen."""
    woken = wakeups.Subscription((record["thread_id"], record["run_id"]))
    try:
        await start(client, principal, record, run)
        return await _answer(principal, record, woken, run, None)
    finally:
        woken.close()


async def streamed(client, principal: str, record: dict, run: dict) -> None:
    """Start the just-created response to be streamed, returning once its run has started: a response
    withdrawn before (its input does not fit: core.response_withdrawal) raises the create's 400 instead,
    which a stream could no longer answer."""
    woken = wakeups.Subscription((record["thread_id"], record["run_id"]))
    try:
        await start(client, principal, record, run)
        await _settled(principal, record, woken, run, None, lambda current: current["status"] != run_machine.QUEUED)
    finally:
        woken.close()


async def answered(principal: str, record: dict, hold: float | None = None) -> dict:
    """The response once its run has ended, or as it is when the hold runs out (`hold` seconds, by default
    RESPONSE_HOLD_SECONDS): then queued or in_progress, still running, for the client to poll with
    `retrieve`, as OpenAI answers a create its own hold ended."""
    woken = wakeups.Subscription((record["thread_id"], record["run_id"]))
    try:
        return await _answer(principal, record, woken, None, hold)
    finally:
        woken.close()


async def _answer(principal: str, record: dict, woken: wakeups.Subscription, known: dict | None,
                  hold: float | None) -> dict:
    """Wait on `woken` for the run to end, from `known` (the run as last seen; None: read it first)."""
    run, committed = await _settled(principal, record, woken, known, hold,
                                    lambda current: current["status"] in run_machine.TERMINAL_STATUSES)
    rows = handed_rows(record, committed)
    if rows is not None:  # nothing to read: rendered here at once, before the loop turns to other work
        return render(principal, record, run, None, rows)
    return await asyncio.to_thread(render, principal, record, run, None, rows)


async def _settled(principal: str, record: dict, woken: wakeups.Subscription, known: dict | None,
                   hold: float | None, done: Callable[[dict], bool]) -> tuple[dict, wakeups.Committed | None]:
    """Wait on `woken` until the run is `done`, or the hold runs out, from `known` (the run as last seen;
    None: read it first); returns the run and the write that handed it over, if one did."""
    deadline = time.monotonic() + (hold if hold is not None else hold_seconds(settings.get("RESPONSE_HOLD_SECONDS")))
    run: dict | None = known
    committed: wakeups.Committed | None = None
    while True:
        woken.reset()
        if woken.run is not None:  # a write in this process committed it (its owner was checked by the caller)
            run, committed = _taken(woken)
            if committed is not None and committed.gone:
                raise await asyncio.to_thread(_gone, principal, record)
        elif run is None:
            try:
                run, committed = await asyncio.to_thread(services.runs().get, principal, record["thread_id"],
                                                         record["run_id"]), None
            except NotFound:
                raise await asyncio.to_thread(_gone, principal, record) from None
            if woken.run is not None and done(woken.run):  # the write that ended it came during the read:
                run, committed = _taken(woken)  # what it handed over saves reads
        assert run is not None  # handed over or read just now
        if done(run) or time.monotonic() > deadline:
            return run, committed
        if not await woken.wait(RECHECK_SECONDS):
            run = None  # no word from a writer here: read it (one may be writing elsewhere)


def _taken(woken: wakeups.Subscription) -> tuple[dict, wakeups.Committed | None]:
    """The run as the last write here handed it over, and that write; taken, so the next one is told apart."""
    assert woken.run is not None
    run, committed, woken.run = woken.run, woken.committed, None
    return run, committed


def _gone(principal: str, record: dict) -> ApiError:
    """Why the response's run is gone: withdrawn, its input too large (the create's 400; the record goes
    now, core.response_withdrawal), or its conversation deleted meanwhile (404)."""
    try:
        message = responses().get(principal, record["id"]).get(REFUSED)
    except NotFound:
        message = None
    if message is None:
        return NotFound("response", record["id"])
    try:
        responses().delete(principal, record["id"])
    except NotFound:
        pass
    return InvalidRequest(message, param="input", code=CONTEXT_LENGTH_EXCEEDED)


async def cancel(client, principal: str, record: dict) -> dict:
    if not record["background"]:
        raise InvalidRequest("Cannot cancel a synchronous response.", code="invalid_request")
    run = await asyncio.to_thread(services.runs().get, principal, record["thread_id"], record["run_id"])
    if run["status"] not in run_machine.CANCELLABLE_STATUSES:
        return await asyncio.to_thread(render, principal, record, run)
    await run_orchestration.cancel(client, principal, record["thread_id"], record["run_id"])
    return await answered(principal, record, CANCEL_HOLD_SECONDS)
