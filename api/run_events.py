"""The SSE view of a run: `GET /threads/{thread_id}/runs/{run_id}/events?after=N`, and the same
stream for the run endpoints' `stream=True`.

A stream is a reader of the run's durable event log (core.run_events.log), never
its owner: it tails the log from event N, sends each event as
`id: <seq>` / `event: <name>` / `data: <json>`, and ends with `event: done` /
`data: [DONE]` after a terminal status or `requires_action`. Closing it cancels
nothing; a client resumes with `?after=N` or `Last-Event-ID` (which wins, being
what an EventSource sends when it reconnects).

Tailing reads storage, always: new events are found by polling every
RUN_EVENTS_POLL_MS, and in the process that writes them (devhost, or a Functions
instance running the activity) a writer's wake-up ends the wait at once
(RUN_EVENTS_FAST_PATH). An idle stream sends a keep-alive comment every
RUN_EVENTS_KEEPALIVE_SECONDS so proxies and clients keep the connection (a
comment line, ignored by every SSE parser).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from typing import AsyncGenerator, AsyncIterator

import azure.durable_functions as df
from azurefunctions.extensions.http.fastapi import Request, Response, StreamingResponse

from api import services
from api.routing import QueryParam, endpoint
from core import settings
from core.errors import InvalidRequest
from core.repositories.shared import events
from core.run_events import wakeups
from core.run_events.log import Head, StoredEvent
from core.run_events.payloads import RUN_TERMINAL_EVENTS, ends_stream

bp = df.Blueprint()
TAG = "Runs"
DONE = b"event: done\ndata: [DONE]\n\n"
# A comment line alone, without the blank line that would dispatch an event: after an `id:` line the
# SDK's decoder (keeping the last id, as the SSE spec says) would turn a blank line into an empty event.
KEEP_ALIVE = b": keep-alive\n"
READ_FAILURES_TOLERATED = 3
# How often a stream whose writer announces its events (in this process) still looks in storage.
SAFETY_POLL_SECONDS = 0.5
# Streams read storage on threads of their own, so many idle streams never hold up request handlers.
_READERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="run-events")
logger = logging.getLogger(__name__)


def encode(event: StoredEvent) -> bytes:
    data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.name}\ndata: {data}\n\n".encode("utf-8")


def parse_after(query_value: str | None, last_event_id: str | None) -> int:
    """The event number to continue after: Last-Event-ID if sent, else ?after=, else 0."""
    name, raw = ("Last-Event-ID", last_event_id) if last_event_id not in (None, "") else ("after", query_value)
    if raw in (None, ""):
        return 0
    if not raw.isdigit() or len(raw) > 10:
        raise InvalidRequest(f"Invalid '{name}': expected a non-negative event number, got '{raw[:40]}'.",
                             param="after", code="invalid_value")
    return int(raw)


def finished_before(head: Head, after: int) -> bool:
    """True when nothing can follow `after`: the run ended and the client has seen the end."""
    return head.last in RUN_TERMINAL_EVENTS and after >= head.count


def check_after(head: Head, after: int) -> None:
    if after > head.count:
        raise InvalidRequest(f"Invalid 'after': the run has {head.count} events so far; got {after}.",
                             param="after", code="invalid_value")


class EventsUnreadable(Exception):
    """The run's log could not be read, past READ_FAILURES_TOLERATED attempts in a row."""


async def follow(thread_id: str, run_id: str, after: int, ends=ends_stream) -> AsyncGenerator[StoredEvent | None, None]:
    """The run's stored events after `after`, through the first that `ends` the stream; None whenever
    a keep-alive is due while idle. Raises EventsUnreadable when storage keeps failing.

    Once a writer in this process has woken the stream, it is trusted to announce its events and
    storage is polled only as a safety net (SAFETY_POLL_SECONDS); events that turn up unannounced
    mean a writer elsewhere, and polling is brisk again. So a busy devhost does not spend its
    CPU on polls, and a stream fed by another instance still sees events within the poll interval.
    """
    poll = settings.get_int("RUN_EVENTS_POLL_MS") / 1000
    keep_alive = settings.get_int("RUN_EVENTS_KEEPALIVE_SECONDS")
    fast = settings.get("RUN_EVENTS_FAST_PATH") != "0"
    subscription = wakeups.Subscription((thread_id, run_id)) if fast else None
    last_sent, failures, trusted, woken = time.monotonic(), 0, False, True
    try:
        while True:
            if subscription:
                subscription.reset()
            try:
                found = await asyncio.get_running_loop().run_in_executor(_READERS, events().read, thread_id,
                                                                         run_id, after)
                failures = 0
            except Exception:
                failures += 1
                logger.exception("reading the events of %s failed", run_id)
                if failures > READ_FAILURES_TOLERATED:
                    raise EventsUnreadable(run_id) from None
                found = []
            trusted = trusted and (woken or not found)
            for event in found:
                yield event
                after, last_sent = event.seq, time.monotonic()
                if ends(event.name):
                    return
            if found:
                continue
            if time.monotonic() - last_sent >= keep_alive:
                yield None
                last_sent = time.monotonic()
            wait = min(SAFETY_POLL_SECONDS if trusted else poll,
                       max(0.0, keep_alive - (time.monotonic() - last_sent)))
            if subscription:
                woken = await subscription.wait(wait)
                trusted = trusted or woken
            else:
                await asyncio.sleep(wait)
    finally:
        if subscription:
            subscription.close()


async def tail(thread_id: str, run_id: str, after: int, head: Head) -> AsyncIterator[bytes]:
    """The run's events after `after` as SSE, until one ends the stream; keep-alives while idle."""
    if finished_before(head, after):
        yield DONE
        return
    try:
        async with aclosing(follow(thread_id, run_id, after)) as stored:
            async for event in stored:
                if event is None:
                    yield KEEP_ALIVE
                    continue
                yield encode(event)
                if ends_stream(event.name):
                    yield DONE
                    return
    except EventsUnreadable:
        yield b'event: error\ndata: {"error":{"message":"The run\'s events could not be read.",' \
              b'"type":"server_error","param":null,"code":"server_error"}}\n\n'


def sse_response(thread_id: str, run_id: str, after: int, head: Head) -> StreamingResponse:
    return StreamingResponse(tail(thread_id, run_id, after, head), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@endpoint(bp, "GET", "threads/{thread_id}/runs/{run_id}/events", summary="Stream a run's events", tag=TAG,
          event_stream=True, streaming=True,
          query=(QueryParam("after", {"type": "integer", "minimum": 0},
                            "Continue after this event number (Last-Event-ID wins when sent)."),))
async def run_events(req: Request, principal: str) -> Response:
    """Replay and tail a run's numbered events as server-sent events; the run is not affected."""
    thread_id, run_id = req.path_params["thread_id"], req.path_params["run_id"]
    after = parse_after(req.query_params.get("after"), req.headers.get("last-event-id"))

    def read_head() -> Head:
        services.runs().load(principal, thread_id, run_id)
        return events().head(thread_id, run_id)

    head = await asyncio.to_thread(read_head)
    check_after(head, after)
    return sse_response(thread_id, run_id, after, head)
