"""/v1/threads/{thread_id}/runs and /v1/threads/runs: runs and run steps.

HTTP only *requests*, through core.run_machine: create stores a queued run (claiming the thread) and
starts its orchestration (instance id = run id); cancel marks it `cancelling`
and signals the orchestration; submit_tool_outputs validates and stores the
outputs, queues the run again and signals. The orchestrator moves runs forward.
Storage calls are synchronous, so they run in worker threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

import azure.durable_functions as df
import azure.functions as func

from api import requests
from api.event_streams import sse_response
from api.routing import endpoint, pagination_params
from core import ids, run_machine, settings
from core.errors import Conflict, InvalidRequest, NotFound
from core.repositories.run_requests import Claimed
from core.repositories.runs import RunChange, StoredRun
from core.run_bookkeeping import RunBookkeeping
from core.run_events import wakeups
from core.run_events.log import Head
from core.run_protocol import RunRef
from core.tool_outputs import accept_tool_outputs
from core.transactions import PreconditionFailed
from core.wire.messages import new_message
from core.wire.runs import (
    Run,
    RunCreate,
    RunSettings,
    RunUpdate,
    SubmitToolOutputs,
    ThreadAndRunCreate,
    new_run,
)
from core.wire.threads import ThreadCreate
from tools import registry
from usecases import run_orchestration, services
from usecases.thread_creation import (
    create_thread_with_files,
    needs_attachments_indexed,
    new_thread_records,
    ready_for_thread,
)

bp = df.Blueprint()
TAG = "Runs"
# The SDK's poll helpers wait as long as this header says between retrievals of a live run:
# briskly while a run is young (most answers come within seconds), then more gently.
POLL_AFTER_YOUNG_MS, POLL_AFTER_MS, YOUNG_RUN_SECONDS = "40", "250", 10
# The SDK's poll helpers mark their retrievals, and poll again while a run is in these statuses.
POLL_HELPER_HEADER = "x-stainless-poll-helper"
POLLED_AGAIN_STATUSES = frozenset({run_machine.QUEUED, run_machine.IN_PROGRESS, run_machine.CANCELLING})
# How long such a retrieval may be held, and how often it re-reads storage meanwhile: a write of the
# run in this process hands it over at once; one made by another instance is seen on the next re-read.
# A young run's first re-read comes as soon as the SDK would have polled, each next one twice as late,
# up to RECHECK_SECONDS: a short answer made elsewhere is still seen briskly, and a waiting client
# costs a few reads a second instead of twenty.
POLL_HOLD_SECONDS, RECHECK_YOUNG_SECONDS, RECHECK_SECONDS = 10.0, 0.05, 0.25
logger = logging.getLogger(__name__)


def run_response(record: dict, status: int = 200) -> func.HttpResponse:
    response = requests.json_response(record, status)
    if record["status"] in run_machine.ACTIVE_STATUSES:
        young = services.now() - record["created_at"] < YOUNG_RUN_SECONDS
        response.headers["openai-poll-after-ms"] = POLL_AFTER_YOUNG_MS if young else POLL_AFTER_MS
    return response


def _assistant(principal: str, body: RunSettings) -> dict:
    assistant = services.assistants().get(principal, body.assistant_id) \
        if ids.is_id("assistant", body.assistant_id) else None
    if assistant is None:
        raise NotFound("assistant", body.assistant_id, param="assistant_id")
    return assistant


# A retried request is marked by the SDK (its retry count) or named by the caller (Idempotency-Key).
RETRY_COUNT_HEADER, IDEMPOTENCY_HEADER = "x-stainless-retry-count", "idempotency-key"


def retry_window() -> int:
    """How long (seconds) a retry gets what its first attempt made (RUN_RETRY_WINDOW_SECONDS)."""
    return int(settings.get_str("RUN_RETRY_WINDOW_SECONDS"))


def request_key(req: func.HttpRequest, principal: str) -> str:
    """The identity of a create request: the caller's Idempotency-Key, else a digest of who sent what where."""
    named = req.headers.get(IDEMPOTENCY_HEADER)
    digest = hashlib.sha256()
    for part in (principal, req.url.split("?")[0], named or "", "" if named else (req.get_body() or b"")):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def is_retry(req: func.HttpRequest) -> bool:
    try:
        retried = int(req.headers.get(RETRY_COUNT_HEADER) or 0) > 0
    except ValueError:
        retried = False
    return retried or bool(req.headers.get(IDEMPOTENCY_HEADER))


def _earlier_attempt(principal: str, thread_id: str, key: str) -> dict | None:
    """The run an earlier attempt of this very request created (its answer was lost), if it holds the thread."""
    active = services.threads().state(principal, thread_id).active_run_id
    if not active:
        return None
    stored = services.runs().load(principal, thread_id, active)
    if stored.books.request_key != key or services.now() - stored.record["created_at"] > retry_window():
        return None
    return stored.record


def _new_run(thread_id: str, assistant: dict, body: RunSettings, additional: list, key: str | None = None,
             run_id: str | None = None) -> tuple[dict, RunBookkeeping, list[dict]]:
    """A queued run's record, bookkeeping and additional messages."""
    created_at = services.now()
    run = new_run(run_id or ids.new_id("run"), thread_id, created_at,
                  created_at + int(settings.get_str("RUN_EXPIRY_SECONDS")), assistant, body)
    books = RunBookkeeping(server_tools=sorted(registry.opted_in(assistant.get("metadata"))), request_key=key)
    messages = [dict(new_message(ids.new_id("message"), thread_id, created_at, message))
                for message in additional]
    return run, books, messages


def _store_run(principal: str, thread_id: str, assistant: dict, body: RunSettings, additional: list,
               thread: dict | None = None, key: str | None = None, run_id: str | None = None) -> dict:
    run, books, messages = _new_run(thread_id, assistant, body, additional, key, run_id)
    return services.runs().create(principal, run, books, messages, thread)


def _store_thread_and_run(principal: str, assistant: dict, body: ThreadAndRunCreate, thread_body: ThreadCreate,
                          chosen: Claimed, key: str) -> dict:
    """A new thread and a queued run on it, written together (see RunRepository.create_with_thread), with
    the ids `chosen` beforehand; if those rows exist already (an earlier attempt of this request wrote
    them, perhaps at this very moment), that attempt's run."""
    thread, thread_messages = new_thread_records(principal, thread_body, chosen.thread_id)
    run, books, _ = _new_run(thread["id"], assistant, body, [], key, chosen.run_id)
    try:
        return services.runs().create_with_thread(principal, thread, thread_messages, run, books)
    except PreconditionFailed:
        earlier = _claimed_run(principal, chosen, key)
        if earlier is None:
            raise Conflict(f"Thread {chosen.thread_id} was created concurrently; retry the request.") from None
        return earlier


def _claimed_run(principal: str, chosen: Claimed, key: str) -> dict | None:
    """The run stored under the ids an earlier attempt of this request chose, if it stored it."""
    try:
        stored = services.runs().load(principal, chosen.thread_id, chosen.run_id)
    except NotFound:
        return None
    return stored.record if stored.books.request_key == key else None


async def _start(client, principal: str, run: dict, stream: bool | None, resumed: bool = False):
    """Start the run's orchestration; answer with the run, or (stream) with a view of its events.
    `resumed`: the run was stored by an earlier attempt of this request, which may have started it."""
    await run_orchestration.start(client, principal, run, RunRef(principal, run["thread_id"], run["id"]),
                                  resumed=resumed)
    return sse_response(run["thread_id"], run["id"], 0, Head()) if stream else run_response(run)


@endpoint(bp, "POST", "threads/{thread_id}/runs", summary="Create a run", tag=TAG, body=RunCreate, response=Run,
          durable_client=True)
async def runs_create(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    body = requests.body(req, RunCreate)
    thread_id = req.route_params["thread_id"]
    key, retried = request_key(req, principal), is_retry(req)
    resumed = False

    def store() -> dict:
        nonlocal resumed
        references = []
        for index, message in enumerate(body.additional_messages or []):
            references += message.referenced_file_ids(f"additional_messages[{index}]")
        if references:  # an unknown thread is a 404 before any file is looked at (the write checks it too)
            services.threads().state(principal, thread_id)
            services.require_files(principal, references)
        assistant = _assistant(principal, body)
        try:
            return _store_run(principal, thread_id, assistant, body, body.additional_messages or [], key=key)
        except InvalidRequest:
            earlier = _earlier_attempt(principal, thread_id, key) if retried else None
            if earlier is None:
                raise
            resumed = True
            return earlier

    run = await asyncio.to_thread(store)
    return await _start(client, principal, run, body.stream, resumed=resumed)


@endpoint(bp, "POST", "threads/runs", summary="Create a thread and run it", tag=TAG, body=ThreadAndRunCreate,
          response=Run, durable_client=True)
async def threads_create_and_run(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    body = requests.body(req, ThreadAndRunCreate)
    key = request_key(req, principal)

    assistant = await asyncio.to_thread(_assistant, principal, body)
    chosen, retried = await asyncio.to_thread(_choose_ids, principal, key, is_retry(req))
    earlier = await asyncio.to_thread(_claimed_run, principal, chosen, key) if retried else None
    if earlier is not None:  # an earlier attempt of this request stored its run; its answer was lost
        return await _start(client, principal, earlier, body.stream, resumed=True)
    thread_body = body.thread or ThreadCreate()
    if body.tool_resources is not None and thread_body.tool_resources is None:
        thread_body = thread_body.model_copy(update={"tool_resources": body.tool_resources})
    if needs_attachments_indexed(thread_body):  # the thread must exist before its attachments are indexed
        thread = await asyncio.to_thread(_existing_thread, principal, chosen.thread_id)
        if thread is None:
            thread = await create_thread_with_files(client, principal, thread_body, chosen.thread_id,
                                                    store_id=chosen.vector_store_id)
        run = await asyncio.to_thread(_store_claimed_run, principal, thread, assistant, body, chosen, key)
    else:
        thread_body = await ready_for_thread(client, principal, thread_body, store_id=chosen.vector_store_id)
        run = await asyncio.to_thread(_store_thread_and_run, principal, assistant, body, thread_body, chosen, key)
    return await _start(client, principal, run, body.stream, resumed=retried)


def _choose_ids(principal: str, key: str, retried: bool) -> tuple[Claimed, bool]:
    """The thread and run ids this create_and_run writes, and whether an earlier attempt chose them: a
    retry's are those its first attempt chose (recorded before it wrote anything); any other request's
    are new, and recorded."""
    if retried:
        earlier = services.run_requests().claimed(principal, key, services.now() - retry_window())
        if earlier is not None:
            return earlier, True
    chosen = Claimed(ids.new_id("thread"), ids.new_id("run"), services.now(), ids.new_id("vector_store"))
    services.run_requests().claim(principal, key, chosen)
    return chosen, False


def _existing_thread(principal: str, thread_id: str) -> dict | None:
    try:
        return services.threads().get(principal, thread_id)
    except NotFound:
        return None


def _store_claimed_run(principal: str, thread: dict, assistant: dict, body: ThreadAndRunCreate, chosen: Claimed,
                       key: str) -> dict:
    """The run on a thread made for it beforehand; if the thread holds it already, the earlier attempt's."""
    try:
        return _store_run(principal, thread["id"], assistant, body, [], thread, key=key, run_id=chosen.run_id)
    except InvalidRequest:
        earlier = _claimed_run(principal, chosen, key)
        if earlier is None:
            raise
        return earlier


@endpoint(bp, "GET", "threads/{thread_id}/runs", summary="List runs", tag=TAG, list_of=Run,
          query=pagination_params())
def runs_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    page = services.runs().list(principal, req.route_params["thread_id"], requests.page_request(req, "run"))
    return requests.json_response(page.wire())


def recheck_seconds(record: dict, now: int, rechecked: int) -> float:
    """How long a held retrieval waits for a wake-up before it re-reads the run from storage, after
    `rechecked` re-reads in this hold."""
    if now - record["created_at"] >= YOUNG_RUN_SECONDS:
        return RECHECK_SECONDS
    return min(RECHECK_SECONDS, RECHECK_YOUNG_SECONDS * 2 ** min(rechecked, 8))


def holds_poll(headers, status: str) -> bool:
    """Whether to hold a retrieval until the run moves on: only for the SDK's poll helpers (they mark
    their requests), and only while the run is in a status they would simply poll again."""
    return (headers.get(POLL_HELPER_HEADER) or "").lower() == "true" and status in POLLED_AGAIN_STATUSES


@endpoint(bp, "GET", "threads/{thread_id}/runs/{run_id}", summary="Retrieve a run", tag=TAG, response=Run)
async def runs_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    """A run as it is now; for the SDK's poll helpers, as soon as it reaches a status they return on
    (or after POLL_HOLD_SECONDS): the answer arrives when the run finishes, not on the next poll tick,
    and a long run costs one request per hold instead of one per tick."""
    thread_id, run_id = req.route_params["thread_id"], req.route_params["run_id"]
    woken = wakeups.Subscription((thread_id, run_id))  # a write of the run in this process wakes it at once
    try:
        record = await asyncio.to_thread(services.runs().get, principal, thread_id, run_id)
        deadline, rechecked = time.monotonic() + POLL_HOLD_SECONDS, 0
        while holds_poll(req.headers, record["status"]) and (left := deadline - time.monotonic()) > 0:
            if not await woken.wait(min(left, recheck_seconds(record, services.now(), rechecked))):
                woken.run = None  # one handed over during this read is newer
                record = await asyncio.to_thread(services.runs().get, principal, thread_id, run_id)
                rechecked += 1
                continue
            woken.reset()
            if woken.run is not None:  # a write of the run handed it over (its owner was checked above)
                record, woken.run = woken.run, None
    finally:
        woken.close()
    return run_response(record)


@endpoint(bp, "POST", "threads/{thread_id}/runs/{run_id}", summary="Modify a run", tag=TAG, body=RunUpdate,
          response=Run)
def runs_update(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    body = requests.body(req, RunUpdate)

    def change(current: StoredRun) -> RunChange:
        run = dict(current.record)
        if body.metadata is not None:
            run["metadata"] = body.metadata
        return RunChange(run)

    return run_response(services.runs().update(principal, req.route_params["thread_id"], req.route_params["run_id"],
                                               change).record)


@endpoint(bp, "POST", "threads/{thread_id}/runs/{run_id}/cancel", summary="Cancel a run", tag=TAG, response=Run,
          durable_client=True)
async def runs_cancel(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    thread_id, run_id = req.route_params["thread_id"], req.route_params["run_id"]
    return run_response(await run_orchestration.cancel(client, principal, thread_id, run_id))


@endpoint(bp, "POST", "threads/{thread_id}/runs/{run_id}/submit_tool_outputs", summary="Submit tool outputs",
          tag=TAG, body=SubmitToolOutputs, response=Run, durable_client=True)
async def runs_submit_tool_outputs(req: func.HttpRequest, client, principal: str) -> func.HttpResponse:
    body = requests.body(req, SubmitToolOutputs)
    thread_id, run_id = req.route_params["thread_id"], req.route_params["run_id"]
    outputs = {output.tool_call_id: output.output for output in body.tool_outputs}
    replayed = await asyncio.to_thread(_stored_submission, principal, thread_id, run_id, outputs)
    if replayed is not None:  # an earlier attempt stored these outputs and its answer was lost
        run, round_ = replayed
        if run["status"] == run_machine.QUEUED:  # its signal may never have reached the orchestration
            await run_orchestration.signal(client, principal, thread_id, run_id, run_machine.tool_outputs_event(round_),
                          {"round": round_}, lost_as=run_machine.FAILED)
            run = await asyncio.to_thread(services.runs().get, principal, thread_id, run_id)
        if body.stream:
            head = await asyncio.to_thread(services.runs().events.head, thread_id, run_id)
            return sse_response(thread_id, run_id, head.count, head)
        return run_response(run)

    submitted = [(output.tool_call_id, output.output) for output in body.tool_outputs]
    written, head = await asyncio.to_thread(_accept_tool_outputs, principal, thread_id, run_id, submitted)
    run, round_ = written.record, written.books.round
    if await run_orchestration.signal(client, principal, thread_id, run_id, run_machine.tool_outputs_event(round_),
                     {"round": round_}, lost_as=run_machine.FAILED):
        raise InvalidRequest(f"Run {run_id} can no longer take tool outputs: its orchestration no longer exists, "
                             f"so the run has been ended as failed. Start a new run.", code="run_orchestration_lost")
    return sse_response(thread_id, run_id, head.count, head) if body.stream else run_response(run)


def _accept_tool_outputs(principal: str, thread_id: str, run_id: str,
                         submitted: list[tuple[str, str]]) -> tuple[StoredRun, Head]:
    """Store the outputs on the step the run waits on and queue the run: (the run as written, the
    event log's head before it, from which a stream of the run continues). What the write applies
    is decided by core.tool_outputs from what is loaded here first."""
    runs = services.runs()
    stored = runs.load(principal, thread_id, run_id)
    head = runs.events.head(thread_id, run_id)
    step_id = stored.books.action_step if stored.record["status"] == run_machine.REQUIRES_ACTION else None
    step = runs.load_step(principal, thread_id, run_id, step_id) if step_id else None
    written = runs.update(principal, thread_id, run_id,
                          lambda current: accept_tool_outputs(current, step, submitted, services.now()),
                          loaded=stored, head=head)
    return written, head


def _stored_submission(principal: str, thread_id: str, run_id: str, outputs: dict) -> tuple[dict, int] | None:
    """(run, round) when the run no longer waits for outputs because exactly these were stored already
    (a retried submit_tool_outputs whose first attempt committed); None to go the normal way."""
    stored = services.runs().load(principal, thread_id, run_id)
    if stored.record["status"] == run_machine.REQUIRES_ACTION or not stored.books.action_step:
        return None
    try:
        step = services.runs().load_step(principal, thread_id, run_id, stored.books.action_step)
    except NotFound:
        return None
    calls = {call["id"]: call for call in step.record["step_details"].get("tool_calls", [])}
    for call_id, output in outputs.items():
        call = calls.get(call_id)
        if call is None or call.get("type") != "function" or call["function"].get("output") != output:
            return None
    return stored.record, stored.books.round
