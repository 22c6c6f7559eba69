"""The run engine's activities: the reads, model calls and writes a run's orchestration needs.

Decisions are elsewhere — status changes in core.run_machine, the translation to
and from Chat Completions in core.chat_turns — so each activity reads, calls the
pure functions, and persists what they return. The run's tools are the plug-ins
of tools.plugins (TOOLS), handed to core's functions from here. Each is idempotent, because the
host runs an activity at least once: a model turn records its outcome in the
run's bookkeeping in the same transaction that stores its message or step, and a
retried turn returns that record instead of asking the model again.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from itertools import chain, islice
from typing import Iterator

import azure.durable_functions as df
import openai

from core import chat_turns, response_withdrawal, run_ending, run_machine, tokens
from core.errors import NotFound
from core.message_files import StoredFiles
from core.model_client import chat_client
from core.model_context import PromptTooLarge
from core.repositories.runs import RunChange, StoredRun
from core.repositories.shared import runs
from core.run_bookkeeping import StepBookkeeping, TurnOutcome, Usage
from core.run_events.turn import Superseded, TurnOutput, TurnStream, fresh_turn_ids, stream_completion
from core.run_protocol import FinishRequest, RequireActionRequest, RequireActionResult, RunRef, TurnRequest
from core.tool_plugins import TurnContext
from core.turn_prompt import (
    REFUSED_PROMPT,
    context_overflow,
    context_window,
    earlier_runs_to_replay,
    exceeded_message,
    turn_prompt,
    turn_tools,
    visible_history,
)
from tools.plugins import TOOLS

bp = df.Blueprint()

# A turn's last streamed events, up to this many, are stored with its result instead of on their own.
HANDED_OVER_EVENTS = 20
# Reads a model turn overlaps with its own work (the history and the log's head, while the run loads).
_reads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="turn-read")
# Runs' starts, written while their first turn asks the model (they wait for reads: a pool of their own).
_starts = ThreadPoolExecutor(max_workers=8, thread_name_prefix="turn-start")


def cancelled() -> dict:
    """A cancelled turn's outcome (built when returned: a model built at import builds its schema then)."""
    return TurnOutcome(kind="cancelled").model_dump()


def now() -> int:
    return int(time.time())


# -- one model turn --------------------------------------------------------------


def _newest_first(thread_id: str) -> Iterator[dict]:
    """The thread's messages newest first, the first page already read (asked for while the run loads)."""
    messages = runs().messages.newest_first(thread_id)
    return chain(list(islice(messages, 1)), messages)


def _history(run: dict, count: tokens.Counter, newest_first: Iterator[dict]) -> list[dict]:
    """The thread's messages the model may see, oldest first (see core.turn_prompt.visible_history)."""
    return visible_history(newest_first, run, count, context_window())


def _known(value: object) -> Future:
    """`value` as a read already done."""
    done: Future = Future()
    done.set_result(value)
    return done


def _steps_of(thread_id: str, run_id: str) -> list[tuple[dict, StepBookkeeping]]:
    return [(step.record, step.books) for step in runs().all_steps(thread_id, run_id)]


@bp.activity_trigger(input_name="request")
def run_model_turn(request: dict) -> dict:
    """Ask the model once and store what it said; returns the turn's outcome (see orchestrators.run_lifecycle)."""
    turn = TurnRequest.of(request)
    messages = _reads.submit(_newest_first, turn.thread_id)  # wanted by the prompt
    # The first turn of a run created in this process takes it, and its log's head, as the create stored them.
    fresh = runs().fresh.take(turn.principal, turn.thread_id, turn.run_id) if turn.turn == 0 else None
    heading = _known(fresh.head) if fresh is not None else \
        _reads.submit(runs().events.head, turn.thread_id, turn.run_id)  # wanted by the start or the claim
    try:
        stored = fresh or runs().load(turn.principal, turn.thread_id, turn.run_id)
    except NotFound:  # its thread was deleted, or its response withdrawn (by an earlier attempt of this turn)
        return cancelled()
    recorded = stored.books.turns.get(str(turn.turn))
    if recorded is not None:
        return recorded.model_dump()
    count = tokens.counter_for(stored.record["model"])
    stream = TurnStream(runs().events, turn.thread_id, turn.run_id, str(turn.turn))
    starting = None
    first = stored.record["status"] == run_machine.QUEUED and turn.turn == 0
    # A response withdrawn if its prompt does not fit starts once the prompt is known to fit (its stream
    # answers once the run has started; core.response_withdrawal); the model is asked as early.
    withdrawable = first and stored.books.withdraws is not None
    if first and not withdrawable:
        # The run starts with its first turn. The model is asked while that write is under way; what
        # it says is shown and stored only after it (a cancel that came first ends the turn unheard).
        starting = _starts.submit(_start, turn, stored, heading, stream)
    elif not first and stored.record["status"] != run_machine.IN_PROGRESS:
        return cancelled()
    run, books = stored.record, stored.books
    history = _history(run, count, messages.result())  # while the run starts
    replayed = [_reads.submit(_steps_of, turn.thread_id, earlier)  # a response reads earlier runs' tool calls
                for earlier in earlier_runs_to_replay(run, books, history)]
    steps = _steps_of(turn.thread_id, turn.run_id) \
        if turn.turn or stored.books.seeded_steps else []  # no step precedes turn 0 unless seeded
    brought = turn_tools(TOOLS, TurnContext(turn.principal, run, books, history, steps))
    enabled, resources, kept, tools = brought.enabled, brought.resources, brought.kept, brought.offered
    window = context_window()
    try:
        prompt = turn_prompt(run, history, steps, tools, TOOLS, count, StoredFiles(turn.principal),
                             books.truncation, window, [step for reading in replayed for step in reading.result()])
        overflow = context_overflow(books.truncation, prompt.estimated_tokens, window)
        refused = TurnOutcome(kind="failed", code=REFUSED_PROMPT, message=overflow) if overflow else None
    except PromptTooLarge:  # even the newest message does not fit: a run ends incomplete, a response failed
        refused = TurnOutcome(kind="incomplete", reason="max_prompt_tokens") if books.truncation is None else \
            TurnOutcome(kind="failed", code=REFUSED_PROMPT, message=exceeded_message(window))
    if refused is not None and withdrawable:  # never started: as if never created, its create answers 400
        response_withdrawal.withdraw(turn.principal, stored, refused.message or exceeded_message(window))
        return cancelled()
    if withdrawable:
        starting = _starts.submit(_start, turn, stored, heading, stream)
    if refused is not None:  # the prompt cannot be sent: the run ends without asking the model
        records = chat_turns.TurnRecords(refused)
        try:
            stored = starting.result() if starting else stored
        except run_machine.TransitionRefused:
            return cancelled()
        return _record_turn(turn, records, None, kept, loaded=stored)
    offer = chat_turns.offer_of(run, resources[TOOLS.functions.kind])
    route = partial(chat_turns.route_call, offer=offer, tools=TOOLS)
    output = TurnOutput(stream, run, route, TOOLS,
                        leading_parts=[part for tool in enabled for part in tool.leading_parts(steps)])
    output.start(partial(_claimed_by_start, starting, stream) if starting else
                 lambda: stream.claim_turn(fresh_turn_ids, heading.result()))
    try:
        try:
            asked = chat_turns.completion_request(run, prompt.messages, tools, brought.choice, books.reasoning_effort)
            completion = stream_completion(chat_client(), asked, output.text, output.tool)
        except openai.APIError as error:
            output.finish(broken=True)
            return chat_turns.fault_outcome(error).model_dump()
        unwritten = output.finish(hand_over=HANDED_OVER_EVENTS)
    except (Superseded, run_machine.TransitionRefused):  # the run ended, or was cancelled before it started
        return cancelled()
    stored = starting.result() if starting else stored  # settled: the claim waited for it
    answer = chat_turns.answer_of(completion)
    claim = output.claim
    records = chat_turns.records_for_answer(
        run, answer, route, chat_turns.TurnIds(claim["message_id"], claim["message_step_id"], claim["tool_step_id"],
                                               now()),
        text_shown=output.message_open,
        message_content=lambda text: chat_turns.answer_content(text, enabled, steps))
    return _record_turn(turn, records, answer.usage, kept, output, unwritten, loaded=stored)


def _record_turn(turn: TurnRequest, records: chat_turns.TurnRecords, usage: dict | None, kept: dict,
                 output: TurnOutput | None = None, unwritten: list | None = None, loaded: StoredRun | None = None
                 ) -> dict:
    """Store the turn's message or step with its outcome, unless the run stopped meanwhile.

    An answer completes the run in the same transaction, so a client sees both at once; the
    turn's last streamed events not written yet (`unwritten`) are stored with it, and the events
    of its message and steps beyond what it streamed are derived from the change. The run as
    `loaded` and the log's head as the turn left it save the reads before the write (a stale one
    costs a retry). `kept`: what the run's tools keep in its
    bookkeeping from this turn (code_interpreter's files)."""
    key = str(turn.turn)
    shown = output.shown(unwritten or []) if output else None  # the change shows the rest (core.run_events.changes)

    def change(current: StoredRun) -> RunChange:
        if key in current.books.turns:
            return RunChange(current.record)  # an earlier attempt of this activity already stored the turn
        if current.record["status"] != run_machine.IN_PROGRESS:
            raise run_machine.TransitionRefused("the run stopped while the model answered")
        total = (current.books.usage or Usage()).plus(usage)
        books = current.books.model_copy(update={
            "turns": {**current.books.turns, key: records.outcome}, **kept, "usage": total})
        record, release = current.record, False
        if records.outcome.kind == "message":
            moved = run_machine.transition(record, run_machine.Finish(run_machine.COMPLETED, usage=total.model_dump()),
                                           now())
            record, release = moved.run, moved.release_thread
        return RunChange(record, books, new_messages=[records.message] if records.message else [],
                         new_steps=records.new_steps(), release_thread=release, turn=shown)

    try:
        stored = runs().update(turn.principal, turn.thread_id, turn.run_id, change, loaded=loaded,
                               head=output.head if output else None)
    except run_machine.TransitionRefused:
        return cancelled()
    return stored.books.turns[key].model_dump()


# -- requires_action and back ------------------------------------------------------


@bp.activity_trigger(input_name="request")
def run_require_action(request: dict) -> dict:
    """in_progress → requires_action, asking the client for the calls it must answer."""
    asked = RequireActionRequest.of(request)
    step = runs().load_step(asked.principal, asked.thread_id, asked.run_id, asked.step_id).record
    wanted = set(asked.client_calls)
    calls = tuple({"id": call["id"], "type": "function",
                   "function": {"name": call["function"]["name"], "arguments": call["function"]["arguments"]}}
                  for call in step["step_details"]["tool_calls"] if call["id"] in wanted)

    def change(current: StoredRun) -> RunChange:
        moved = run_machine.transition(current.record, run_machine.RequireAction(asked.round, calls), now())
        return RunChange(moved.run, current.books.model_copy(update={"round": asked.round,
                                                                     "action_step": asked.step_id}))

    try:
        stored = runs().update(asked.principal, asked.thread_id, asked.run_id, change)
    except run_machine.TransitionRefused:
        return RequireActionResult(asked=False).wire()
    return RequireActionResult(asked=True, expires_at=stored.record["expires_at"]).wire()


@bp.activity_trigger(input_name="request")
def run_resume(request: dict) -> dict:
    """After the client's outputs were accepted (run queued again): back to in_progress."""
    ref = RunRef.of(request)
    try:
        return {"status": _apply(ref, run_machine.Start()).record["status"]}
    except run_machine.TransitionRefused:
        return {"status": runs().get(ref.principal, ref.thread_id, ref.run_id)["status"]}


def _apply(ref: RunRef, event: run_machine.Event) -> StoredRun:
    """A status change with nothing else to write."""
    def change(current: StoredRun) -> RunChange:
        return RunChange(run_machine.transition(current.record, event, now()).run)

    return runs().update(ref.principal, ref.thread_id, ref.run_id, change)


def _claimed_by_start(starting: Future, stream: TurnStream) -> dict:
    """The first turn's claim of the event log, once the run's start wrote it."""
    starting.result()
    return stream.claim


def _start(turn: TurnRequest, loaded: StoredRun, heading: Future, stream: TurnStream) -> StoredRun:
    """queued → in_progress, claiming the event log for the first turn in the same write (after the
    head `heading` reads); the turn's stream goes on from the head that write left."""
    def change(current: StoredRun) -> RunChange:
        return RunChange(run_machine.transition(current.record, run_machine.Start(), now()).run,
                         claim=lambda previous: stream.claim_for(previous, fresh_turn_ids))

    started = runs().update(turn.principal, turn.thread_id, turn.run_id, change, loaded=loaded, head=heading.result())
    assert started.head is not None  # the write claimed the log: it left a head
    stream.adopt(started.head)
    return started


# -- finish ----------------------------------------------------------------------


@bp.activity_trigger(input_name="request")
def run_finish(request: dict) -> dict:
    """Put the run in its terminal status, close its open steps and release the thread."""
    status = run_ending.end_run(FinishRequest.of(request))
    return {"status": status or "gone"}  # gone: the thread was deleted meanwhile

