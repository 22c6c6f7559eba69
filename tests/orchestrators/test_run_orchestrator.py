"""The run orchestrator driven directly, without a host: a stand-in for the Durable context plays
the activities, timers and external events, and the test reads what the orchestrator asked for."""

from __future__ import annotations

from datetime import datetime, timezone

from azure.durable_functions.models.Task import TaskState

from core import run_protocol as protocol
from core.run_machine import CANCEL_EVENT, tool_outputs_event
from orchestrators.runs import orchestrate

REF = {"principal": "p", "thread_id": "thread_1", "run_id": "run_1"}
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


class StandInTask:
    def __init__(self, kind: str, name: str = "", payload=None, members=()):
        self.kind, self.name, self.payload, self.members = kind, name, payload, list(members)
        self.state, self.result, self.cancelled = TaskState.RUNNING, None, False

    def cancel(self):
        self.cancelled = True


class StandInContext:
    """Enough of DurableOrchestrationContext for orchestrate(): activities answer through `handlers`
    (name → function(payload) → result, or an exception to fail the task), and a handler may raise
    an external event, which then wins the race it is in."""

    def __init__(self, handlers: dict):
        self.handlers = handlers
        self.calls: list[tuple[str, dict]] = []
        self.raised: set[str] = set()
        self.timers: list[datetime] = []
        self.current_utc_datetime = START

    def get_input(self):
        return dict(REF)

    def set_custom_status(self, status):
        self.status = status

    def raise_event(self, name: str):
        self.raised.add(name)

    def call_activity_with_retry(self, name, retry, payload):
        return StandInTask("activity", name, payload)

    def wait_for_external_event(self, name):
        return StandInTask("event", name)

    def create_timer(self, fire_at):
        self.timers.append(fire_at)
        return StandInTask("timer", payload=fire_at)

    def task_any(self, tasks):
        return StandInTask("any", members=tasks)

    def task_all(self, tasks):
        return StandInTask("all", members=tasks)

    def _run(self, task: StandInTask):
        self.calls.append((task.name, task.payload))
        try:
            task.result, task.state = self.handlers[task.name](task.payload), TaskState.SUCCEEDED
        except Exception as error:  # the activity failed past its retries
            task.result, task.state = error, TaskState.FAILED

    def resolve(self, task: StandInTask):
        """What the orchestrator receives for the task it yielded."""
        if task.kind == "activity":
            self._run(task)
            return task.result
        if task.kind == "all":
            for member in task.members:
                self._run(member)
            task.state, task.result = TaskState.SUCCEEDED, [member.result for member in task.members]
            return task.result
        # task_any: the work finishes first, unless an event raised meanwhile won; timers fire last.
        work = next((member for member in task.members if member.kind in ("activity", "all")), None)
        if work is not None:
            self.resolve(work)
        raised = next((member for member in task.members if member.kind == "event" and member.name in self.raised),
                      None)
        if raised or work:
            return raised or work
        timer = next(member for member in task.members if member.kind == "timer")
        self.current_utc_datetime = max(self.current_utc_datetime, timer.payload)  # the clock moves to the timer
        return timer


def run_to_end(context: StandInContext) -> str:
    generator, sent = orchestrate(context), None
    try:
        while True:
            sent = context.resolve(generator.send(sent))
    except StopIteration as done:
        return done.value


def drive(handlers: dict) -> tuple[str, StandInContext]:
    context = StandInContext(handlers)
    return run_to_end(context), context


def names(context: StandInContext) -> list[str]:
    return [name for name, _ in context.calls]


def turns(*outcomes):
    """A model-turn handler answering turn N with outcomes[N]."""
    return lambda payload: outcomes[payload["turn"]]


def test_an_answer_completes_the_run_in_the_turn_itself():
    status, context = drive({protocol.MODEL_TURN: turns({"kind": "message"})})
    assert status == "completed"
    assert names(context) == [protocol.MODEL_TURN]  # no separate finish: the turn stored the completion
    assert context.calls[0][1] == {**REF, "turn": 0}


def test_server_calls_fan_out_then_the_model_is_asked_again():
    tool_turn = {"kind": "tool_calls", "step_id": "step_1", "server_calls": ["c1", "c2"], "client_calls": []}
    status, context = drive({protocol.MODEL_TURN: turns(tool_turn, {"kind": "message"}),
                             protocol.TOOL_CALL: lambda payload: {"call_id": payload["call_id"]}})
    assert status == "completed"
    assert names(context) == [protocol.MODEL_TURN, protocol.TOOL_CALL, protocol.TOOL_CALL, protocol.MODEL_TURN]
    assert [payload["call_id"] for name, payload in context.calls if name == protocol.TOOL_CALL] == ["c1", "c2"]


def test_only_undeclared_calls_go_straight_to_the_next_turn():
    answered = {"kind": "tool_calls", "step_id": "step_1", "server_calls": [], "client_calls": []}
    status, context = drive({protocol.MODEL_TURN: turns(answered, {"kind": "message"})})
    assert status == "completed" and names(context) == [protocol.MODEL_TURN, protocol.MODEL_TURN]


def _client_turn():
    return {"kind": "tool_calls", "step_id": "step_1", "server_calls": [], "client_calls": ["c1"]}


def test_requires_action_waits_for_that_rounds_outputs_then_resumes():
    context_holder = {}

    def require_action(payload):
        assert payload["round"] == 1 and payload["client_calls"] == ["c1"]
        context_holder["ctx"].raise_event(tool_outputs_event(1))
        return {"asked": True, "expires_at": int(START.timestamp()) + 600}

    context = StandInContext({protocol.MODEL_TURN: turns(_client_turn(), {"kind": "message"}),
                              protocol.REQUIRE_ACTION: require_action, protocol.RESUME: lambda p: {"status": "x"}})
    context_holder["ctx"] = context
    assert run_to_end(context) == "completed"
    assert names(context) == [protocol.MODEL_TURN, protocol.REQUIRE_ACTION, protocol.RESUME, protocol.MODEL_TURN]
    assert context.timers == [datetime.fromtimestamp(int(START.timestamp()) + 600, tz=timezone.utc)]


def test_no_outputs_before_the_deadline_expires_the_run():
    status, context = drive({
        protocol.MODEL_TURN: turns(_client_turn()),
        protocol.REQUIRE_ACTION: lambda p: {"asked": True, "expires_at": int(START.timestamp()) + 600},
        protocol.FINISH: lambda p: {"status": p["status"]}})
    assert status == "expired"
    assert context.calls[-1] == (protocol.FINISH, {**REF, "status": "expired", "last_error": None,
                                                   "incomplete_reason": None})


def test_a_cancel_during_the_model_turn_wins():
    holder = {}

    def model_turn(payload):
        holder["ctx"].raise_event(CANCEL_EVENT)
        return {"kind": "message"}

    context = StandInContext({protocol.MODEL_TURN: model_turn, protocol.FINISH: lambda p: {"status": p["status"]}})
    holder["ctx"] = context
    assert run_to_end(context) == "cancelled"
    assert names(context) == [protocol.MODEL_TURN, protocol.FINISH]


def test_a_rate_limit_waits_on_a_timer_for_retry_after_then_asks_again():
    replies = iter([{"kind": "rate_limited", "retry_after": 3.0}, {"kind": "message"}])
    status, context = drive({protocol.MODEL_TURN: lambda payload: next(replies)})
    assert status == "completed"
    assert names(context) == [protocol.MODEL_TURN, protocol.MODEL_TURN]
    assert [payload["turn"] for _, payload in context.calls] == [0, 0]  # the same turn, asked again
    assert [(fire_at - START).total_seconds() for fire_at in context.timers] == [3.0]


def test_an_activity_that_keeps_failing_fails_the_run_honestly():
    def broken(payload):
        raise RuntimeError("storage unreachable")

    status, context = drive({protocol.MODEL_TURN: broken, protocol.FINISH: lambda p: {"status": p["status"]}})
    assert status == "failed"
    finish = context.calls[-1][1]
    assert finish["last_error"]["code"] == "server_error" and "storage unreachable" in finish["last_error"]["message"]


# -- a server tool that answered 202 + Location: polled on durable timers ------------------

PENDING = {"call_id": "c1", "location": "https://logic.example/status/1", "retry_after_seconds": 2.0,
           "deadline_seconds": 300.0}


def _tool_turns():
    return turns({"kind": "tool_calls", "step_id": "step_1", "server_calls": ["c1"], "client_calls": []},
                 {"kind": "message"})


def test_a_pending_tool_is_polled_on_timers_until_done_then_the_model_goes_on():
    polls = iter([{"done": False, "location": "https://logic.example/status/2", "retry_after_seconds": 5.0},
                  {"done": True}])
    status, context = drive({protocol.MODEL_TURN: _tool_turns(),
                             protocol.TOOL_CALL: lambda p: {"call_id": "c1", "pending": PENDING},
                             protocol.TOOL_POLL: lambda p: next(polls)})
    assert status == "completed"
    assert names(context) == [protocol.MODEL_TURN, protocol.TOOL_CALL, protocol.TOOL_POLL, protocol.TOOL_POLL,
                              protocol.MODEL_TURN]
    first, second = [payload for name, payload in context.calls if name == protocol.TOOL_POLL]
    assert (first["location"], second["location"]) == (PENDING["location"], "https://logic.example/status/2")
    assert not first["give_up"] and not second["give_up"]
    assert [(fire_at - START).total_seconds() for fire_at in context.timers] == [2.0, 2.0 + 5.0]  # each Retry-After


def test_a_cancel_while_polling_stops_the_polls():
    holder = {}

    def poll(payload):
        holder["ctx"].raise_event(CANCEL_EVENT)
        return {"done": False, "location": PENDING["location"], "retry_after_seconds": 2.0}

    context = StandInContext({protocol.MODEL_TURN: _tool_turns(),
                              protocol.TOOL_CALL: lambda p: {"call_id": "c1", "pending": PENDING},
                              protocol.TOOL_POLL: poll, protocol.FINISH: lambda p: {"status": p["status"]}})
    holder["ctx"] = context
    assert run_to_end(context) == "cancelled"
    assert names(context) == [protocol.MODEL_TURN, protocol.TOOL_CALL, protocol.TOOL_POLL, protocol.FINISH]
