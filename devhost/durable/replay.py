"""One orchestration episode: replay history through the SDK and apply its decisions.

This is the host's side of the out-of-process protocol. Each episode feeds one
new message (start, activity result, timer, external event) to the orchestrator
as new history, then turns the actions it returns into history events and work
for the engine. One message per episode keeps the host's sequence numbers in
step with the SDK's, including the hidden timers and re-schedules of
`call_activity_with_retry`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from azure.durable_functions.models.actions.ActionType import ActionType
from azure.functions import meta
from azure.functions.durable_functions import OrchestrationTriggerConverter

from devhost.durable import history as h
from devhost.durable.state import InstanceState

# The SDK's own action numbers, as its orchestrator returns them.
CALL_ACTIVITY = ActionType.CALL_ACTIVITY.value
CALL_ACTIVITY_WITH_RETRY = ActionType.CALL_ACTIVITY_WITH_RETRY.value
CONTINUE_AS_NEW = ActionType.CONTINUE_AS_NEW.value
CREATE_TIMER = ActionType.CREATE_TIMER.value
WAIT_FOR_EVENT = ActionType.WAIT_FOR_EXTERNAL_EVENT.value
COMPOUND = (ActionType.WHEN_ANY.value, ActionType.WHEN_ALL.value)
# The SDK's replay schema the host declares (V2: task_all/task_any as compound actions).
UPPER_SCHEMA_VERSION = 1
_OUT_OF_PROC_LABEL = "\n\n$OutOfProcData$:"


@dataclass
class Work:
    """Something the engine must start once the episode is persisted."""

    kind: str  # "activity" | "timer"
    sequence: int
    name: str = ""
    input: str | None = None
    fire_at: str = ""


@dataclass
class EpisodeResult:
    work: list[Work] = field(default_factory=list)
    cancelled_timers: list[int] = field(default_factory=list)


class OrchestratorOutcome:
    def __init__(self, state_json: dict[str, Any], error: str | None):
        self.is_done = bool(state_json.get("isDone"))
        self.actions = state_json.get("actions") or []
        self.output = state_json.get("output")
        self.custom_status = state_json.get("customStatus")
        self.error = error


def invoke_orchestrator(orchestrator: Callable[..., str], param: str, state: InstanceState,
                        history: list[dict[str, Any]]) -> OrchestratorOutcome:
    """Call the SDK's orchestrator handle with host-format JSON, as the worker would."""
    context = {
        "history": history, "instanceId": state.instance_id, "isReplaying": False,
        "parentInstanceId": None, "input": state.input, "upperSchemaVersion": UPPER_SCHEMA_VERSION,
    }
    datum = meta.Datum(json.dumps(context), "string")
    try:
        result = orchestrator(**{param: OrchestrationTriggerConverter.decode(datum, trigger_metadata=None)})
    except Exception as error:  # the SDK reports orchestrator failures as exceptions carrying its state
        message = str(error)
        if _OUT_OF_PROC_LABEL in message:
            message, state_text = message.split(_OUT_OF_PROC_LABEL, 1)
            return OrchestratorOutcome(json.loads(state_text), message)
        return OrchestratorOutcome({}, message)
    return OrchestratorOutcome(json.loads(result), None)


def flatten(actions: list[Any]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for action in actions:
        if isinstance(action, list):
            flat.extend(flatten(action))
        elif action.get("actionType") in COMPOUND:
            flat.extend(flatten(action.get("compoundActions", [])))
        else:
            flat.append(action)
    return flat


def describe(action: dict[str, Any]) -> list[Any]:
    """What must be identical between replays: the action's type and target."""
    return [action["actionType"], action.get("functionName") or action.get("externalEventName") or ""]


class NonDeterministicError(Exception):
    pass


def new_events_for(message: dict[str, Any], state: InstanceState, now: datetime) -> list[dict[str, Any]] | None:
    """History events for one inbox message, or None when the message is stale."""
    kind = message["kind"]
    sequence = str(message.get("sequence"))
    if kind == "start":
        return [h.execution_started(now, state.name, state.input)]
    if kind in ("activity_completed", "activity_failed"):
        if state.pending_activities.pop(sequence, None) is None:
            return None  # a duplicate delivery of an activity that already reported
        if kind == "activity_completed":
            return [h.task_completed(now, int(sequence), message["result"])]
        return [h.task_failed(now, int(sequence), message["reason"], message["details"])]
    if kind == "timer_fired":
        fire_at = state.pending_timers.pop(sequence, None)
        return None if fire_at is None else [h.timer_fired(now, int(sequence), fire_at)]
    if kind == "event":
        return [h.event_raised(now, message["name"], message["input"])]
    raise ValueError(f"unknown message kind {kind}")


def run_episode(state: InstanceState, message: dict[str, Any], orchestrator: Callable[..., str],
                param: str, now: datetime) -> EpisodeResult:
    """Apply one message to `state` (mutated in place); return the work to start."""
    result = EpisodeResult()
    events = new_events_for(message, state, now)
    if events is None:
        return result
    if message["kind"] == "start":
        state.status = "Running"
    replayed = [dict(event, IsPlayed=True) for event in state.history]
    new = [h.orchestrator_started(now), *events]
    outcome = invoke_orchestrator(orchestrator, param, state, replayed + new)
    state.history.extend(new)
    _advance_retry_chain(state, message, now, result)
    try:
        _schedule_new_actions(state, outcome, now, result)
    except NonDeterministicError as error:
        outcome.error = f"Non-Deterministic workflow detected: {error}"
    state.history.append(h.orchestrator_completed(now))
    state.custom_status = outcome.custom_status
    _finish(state, outcome, result)
    return result


def _advance_retry_chain(state: InstanceState, message: dict[str, Any], now: datetime,
                         result: EpisodeResult) -> None:
    """Host side of call_activity_with_retry: a timer after each failure, then a re-schedule."""
    sequence = str(message.get("sequence"))
    chain = state.retry_chains.pop(sequence, None)
    if chain is None or message["kind"] == "activity_completed":
        return
    if message["kind"] == "activity_failed":
        # After the last attempt the SDK still waits for one (immediate) timer before failing.
        delay_ms = chain["interval_ms"] if chain["attempts"] < chain["max_attempts"] else 0
        timer = state.next_sequence
        state.next_sequence += 1
        fire_at = h.iso(now + timedelta(milliseconds=delay_ms))
        state.history.append(h.timer_created(now, timer, fire_at))
        state.pending_timers[str(timer)] = fire_at
        state.retry_chains[str(timer)] = chain
        result.work.append(Work("timer", timer, fire_at=fire_at))
    elif message["kind"] == "timer_fired" and chain["attempts"] < chain["max_attempts"]:
        chain["attempts"] += 1
        task = state.next_sequence
        state.next_sequence += 1
        state.history.append(h.task_scheduled(now, task, chain["name"], chain["input"]))
        state.pending_activities[str(task)] = {"name": chain["name"], "input": chain["input"]}
        state.retry_chains[str(task)] = chain
        result.work.append(Work("activity", task, chain["name"], chain["input"]))


def _schedule_new_actions(state: InstanceState, outcome: OrchestratorOutcome, now: datetime,
                          result: EpisodeResult) -> None:
    actions = flatten(outcome.actions)
    for index, (known, action) in enumerate(zip(state.scheduled, actions)):
        if known[:2] != describe(action):
            raise NonDeterministicError(
                f"action {index} was {known[:2]} in history but the orchestrator now emits {describe(action)}")
        if action["actionType"] == CREATE_TIMER and action.get("isCanceled") and str(known[2]) in state.pending_timers:
            del state.pending_timers[str(known[2])]
            result.cancelled_timers.append(known[2])
    if len(actions) < len(state.scheduled) and not (outcome.is_done or outcome.error):
        raise NonDeterministicError(
            f"history has {len(state.scheduled)} actions but the orchestrator now emits {len(actions)}")
    for action in actions[len(state.scheduled):]:
        state.scheduled.append(describe(action) + [_schedule(state, action, now, result)])


def _schedule(state: InstanceState, action: dict[str, Any], now: datetime, result: EpisodeResult) -> int | None:
    action_type = action["actionType"]
    if action_type in (WAIT_FOR_EVENT, CONTINUE_AS_NEW):
        return None  # no history event of their own
    sequence = state.next_sequence
    state.next_sequence += 1
    if action_type in (CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY):
        name, input_json = action["functionName"], action.get("input")
        state.history.append(h.task_scheduled(now, sequence, name, input_json))
        state.pending_activities[str(sequence)] = {"name": name, "input": input_json}
        if action_type == CALL_ACTIVITY_WITH_RETRY:
            options = action["retryOptions"]
            state.retry_chains[str(sequence)] = {
                "name": name, "input": input_json, "attempts": 1,
                "interval_ms": options["firstRetryIntervalInMilliseconds"],
                "max_attempts": options["maxNumberOfAttempts"]}
        result.work.append(Work("activity", sequence, name, input_json))
    elif action_type == CREATE_TIMER:
        fire_at = action["fireAt"]
        state.history.append(h.timer_created(now, sequence, fire_at))
        state.pending_timers[str(sequence)] = fire_at
        result.work.append(Work("timer", sequence, fire_at=fire_at))
    else:
        raise NonDeterministicError(f"action type {action_type} is not supported by devhost")
    return sequence


def _finish(state: InstanceState, outcome: OrchestratorOutcome, result: EpisodeResult) -> None:
    if outcome.error is not None:
        state.status = "Failed"
        state.output = f"Orchestrator function '{state.name}' failed: {outcome.error}"
    elif outcome.is_done:
        continue_as_new = next((a for a in flatten(outcome.actions) if a["actionType"] == CONTINUE_AS_NEW), None)
        if continue_as_new is not None:
            _restart_as_new(state, continue_as_new.get("input"))
            result.work.clear()
            return
        state.status = "Completed"
        state.output = outcome.output
    else:
        return
    # A finished instance leaves nothing behind to run.
    state.pending_activities.clear()
    state.pending_timers.clear()
    state.retry_chains.clear()
    result.work.clear()


def _restart_as_new(state: InstanceState, input_json: str | None) -> None:
    """continue_as_new: a fresh history with new input; undelivered events carry over."""
    state.execution_id = uuid.uuid4().hex
    state.input = input_json
    state.history = []
    state.scheduled = []
    state.next_sequence = 0
    state.pending_activities.clear()
    state.pending_timers.clear()
    state.retry_chains.clear()
    state.inbox.insert(0, {"kind": "start", "execution_id": state.execution_id})
