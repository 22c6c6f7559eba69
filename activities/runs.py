"""The run engine's activities: every read and write a run's orchestration needs.

Each activity takes and returns small dicts (ids, counts, an outcome kind), so
durable history stays the same size however long the thread is. Each is
idempotent, because the host runs an activity at least once: a model turn
records its outcome on the run in the same transaction that stores its message
or step, and a retried turn returns that record instead of asking the model again;
a tool call whose output is stored is not run twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import azure.durable_functions as df
import openai

from activities import code_interpreter, file_search
from core import ids
from core.errors import ApiError
from core.model_client import chat_client, retry_after_seconds
from core import tokens
from core.model_context import PromptTooLarge, build_prompt, message_text
from core.pagination import PageRequest
from core.repositories.runs import RunChange
from core.repositories.shared import runs
from core.wire.messages import Message
from tools import registry

bp = df.Blueprint()

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled", "expired", "incomplete"})
# Without max_prompt_tokens, history is read back until about this many tokens.
DEFAULT_HISTORY_TOKENS = 120_000
# Model error codes meaning the prompt itself was refused (Azure OpenAI's content filter, OpenAI's policy).
PROMPT_REJECTED_CODES = frozenset({"content_filter", "content_policy_violation", "invalid_prompt"})
STEP_FINAL_STATUS = {"completed": "completed", "incomplete": "completed", "failed": "failed",
                     "cancelled": "cancelled", "expired": "expired"}


class RunCancelled(Exception):
    """The run is being cancelled: what this activity produced must not land."""


def now() -> int:
    return int(time.time())


def _engine(run: dict) -> dict:
    return run.setdefault("_engine", {"turns": {}, "round": 0, "usage": None})


def _add_usage(total: dict | None, usage: dict | None) -> dict | None:
    if usage is None:
        return total
    total = dict(total or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        total[key] += usage.get(key) or 0
    return total


# -- start ---------------------------------------------------------------------

def _to_in_progress(request: dict, from_status: str, loaded: tuple[dict, dict] | None = None) -> dict:
    """Move the run from `from_status` to in_progress (a no-op in any other status)."""
    def change(run: dict) -> RunChange:
        if run["status"] == from_status:
            run["status"] = "in_progress"
            run["started_at"] = run.get("started_at") or now()
        return RunChange(run)

    return runs().update(request["principal"], request["thread_id"], request["run_id"], change, loaded=loaded)


# -- one model turn --------------------------------------------------------------

def _chat_tools(run: dict) -> list[dict]:
    tools = []
    for tool in run.get("tools") or []:
        if tool.get("type") == "function":
            function = {key: value for key, value in tool["function"].items() if value is not None}
            tools.append({"type": "function", "function": function})
    return tools


def _tool_choice(run: dict) -> Any:
    choice = run.get("tool_choice")
    if choice in (None, "auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice["function"]["name"]}}
    return "auto"


def _history(run: dict, count: tokens.Counter) -> list[dict]:
    """The thread's messages the model may see, newest pages first until the budget is met."""
    truncation = run.get("truncation_strategy") or {}
    keep = truncation.get("last_messages") if truncation.get("type") == "last_messages" else None
    budget = run.get("max_prompt_tokens") or DEFAULT_HISTORY_TOKENS
    newest_first: list[dict] = []
    used = 0
    after = None
    while True:
        page = runs().messages.page_of_owned_thread(run["thread_id"], PageRequest(limit=100, order="desc", after=after))
        for message in page.data:
            if message.get("run_id") == run["id"] and message["role"] == "assistant":
                continue  # this run's own partial output is not context
            newest_first.append(message)
            used += count(message_text(message))
            if (keep is not None and len(newest_first) >= keep) or used > budget:
                return list(reversed(newest_first))
        if not page.has_more:
            return list(reversed(newest_first))
        after = page.data[-1]["id"]


def _model_output(step: dict, call: dict) -> str | None:
    """What the model reads back for a call: a function's output, or code_interpreter's rendered result."""
    if call["type"] == "function":
        return call["function"].get("output")
    return step.get("_engine", {}).get("outputs", {}).get(call["id"])  # code_interpreter and file_search


def _as_chat_call(step: dict, call: dict) -> dict:
    if call["type"] == "function":
        name, arguments = call["function"]["name"], call["function"]["arguments"]
    elif call["type"] == file_search.TOOL_NAME:
        name, arguments = file_search.TOOL_NAME, json.dumps({"query": step["_engine"]["queries"][call["id"]]})
    else:
        name, arguments = code_interpreter.TOOL_NAME, json.dumps({"code": call["code_interpreter"]["input"]})
    return {"id": call["id"], "type": "function", "function": {"name": name, "arguments": arguments}}


def _run_turns(steps: list[dict]) -> list[dict]:
    """This run's tool exchanges so far, as chat messages (only fully answered calls)."""
    turns: list[dict] = []
    for step in steps:
        details = step["step_details"]
        if details["type"] != "tool_calls":
            continue
        calls = details["tool_calls"]
        if not calls or any(_model_output(step, call) is None for call in calls):
            continue
        turns.append({"role": "assistant", "content": None, "tool_calls": [_as_chat_call(step, call) for call in calls]})
        turns += [{"role": "tool", "tool_call_id": call["id"], "content": _model_output(step, call)}
                  for call in calls]
    return turns


def _completion_request(run: dict, messages: list[dict], tools: list[dict]) -> dict:
    request: dict[str, Any] = {"model": run["model"], "messages": messages}
    if tools:
        request["tools"] = tools
        choice = _tool_choice(run)
        if choice is not None:
            request["tool_choice"] = choice
        if run.get("parallel_tool_calls") is not None:
            request["parallel_tool_calls"] = run["parallel_tool_calls"]
    for name in ("temperature", "top_p"):
        if run.get(name) is not None:
            request[name] = run[name]
    if run.get("max_completion_tokens") is not None:
        request["max_completion_tokens"] = run["max_completion_tokens"]
    response_format = run.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") != "text":
        request["response_format"] = response_format
    return request


def _model_fault(error: openai.APIError) -> dict:
    if isinstance(error, openai.RateLimitError):
        return {"kind": "rate_limited", "retry_after": retry_after_seconds(error)}
    if isinstance(error, (openai.APIConnectionError, openai.InternalServerError)):
        return {"kind": "server_error", "message": str(error)[:500]}
    if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
        return {"kind": "server_error", "message": str(error)[:500]}
    # A run's last_error.code is one of OpenAI's three: a prompt the model's content policy
    # rejected is `invalid_prompt`; any other refusal is a request this server built wrongly.
    code = "invalid_prompt" if getattr(error, "code", None) in PROMPT_REJECTED_CODES else "server_error"
    return {"kind": "failed", "code": code, "message": f"The model refused the request: {error}"[:1000]}


@bp.activity_trigger(input_name="request")
def run_model_turn(request: dict) -> dict:
    """Ask the model once and store what it said; returns the turn's outcome (see run_lifecycle)."""
    principal, thread_id, run_id, turn = (request["principal"], request["thread_id"], request["run_id"],
                                          str(request["turn"]))
    run, entity = runs().load(principal, thread_id, run_id)
    recorded = _engine(run)["turns"].get(turn)
    if recorded is not None:
        return recorded
    if run["status"] == "queued" and turn == "0":
        run = _to_in_progress(request, "queued", loaded=(run, entity))  # the run starts with its first turn
    if run["status"] != "in_progress":
        return {"kind": "cancelled"}
    count = tokens.counter_for(run["model"])
    history = _history(run, count)
    steps = runs().all_steps(principal, thread_id, run_id) if turn != "0" else []  # no step precedes turn 0
    turn_context = TurnContext(code_files=[], produced=[])
    tools = _chat_tools(run)
    if code_interpreter.enabled(run):
        thread = runs().threads.get(principal, thread_id)
        turn_context.code_files = code_interpreter.input_files(principal, run, thread, history)
        turn_context.produced = [item for step in steps for item in step.get("_engine", {}).get("produced", [])]
        tools.append(code_interpreter.chat_tool(turn_context.code_files))
    if file_search.enabled(run):
        turn_context.sources = [item for step in steps for item in step.get("_engine", {}).get("sources", [])]
        tools.append(file_search.chat_tool())
    try:
        prompt = build_prompt(instructions=run.get("instructions") or "", thread_messages=history,
                              run_turns=_run_turns(steps), tools=tools,
                              truncation=run.get("truncation_strategy"), max_prompt_tokens=run.get("max_prompt_tokens"),
                              count=count)
    except PromptTooLarge:
        return _record_turn(principal, run, turn, {"kind": "incomplete", "reason": "max_prompt_tokens"}, None,
                            turn_context)
    try:
        completion = chat_client().chat.completions.create(**_completion_request(run, prompt.messages, tools))
    except openai.APIError as error:
        return _model_fault(error)
    return _record_turn(principal, run, turn, None, completion, turn_context)


@dataclass
class TurnContext:
    """What a turn knows beyond the run: code_interpreter's input files and what earlier calls produced."""

    code_files: list[dict]
    produced: list[dict]
    sources: list[dict] = field(default_factory=list)  # what file_search showed the model, for citations


def _is_code_call(run: dict, name: str) -> bool:
    return name == code_interpreter.TOOL_NAME and code_interpreter.enabled(run)


def _is_search_call(run: dict, name: str) -> bool:
    return name == file_search.TOOL_NAME and file_search.enabled(run)


def _step_call(run: dict, call) -> dict:
    if _is_code_call(run, call.function.name):
        return code_interpreter.step_call(call.id, call.function.arguments)
    if _is_search_call(run, call.function.name):
        return file_search.step_call(call.id, run)
    return {"id": call.id, "type": "function",
            "function": {"name": call.function.name, "arguments": call.function.arguments, "output": None}}


def _record_turn(principal: str, run: dict, turn: str, outcome: dict | None, completion,
                 context: TurnContext) -> dict:
    """Store the turn's message or step with its outcome, unless the run stopped meanwhile."""
    choice = completion.choices[0] if completion is not None else None
    usage = completion.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}) \
        if completion is not None and completion.usage else None
    at = now()
    tool_calls = list(choice.message.tool_calls or []) if choice is not None else []
    if outcome is None and tool_calls and choice.finish_reason != "length":
        step_id = ids.new_id("step")
        server = [call.id for call in tool_calls if _is_code_call(run, call.function.name)
                  or _is_search_call(run, call.function.name) or (
            registry.server_tool(call.function.name) is not None and _declares_function(run, call.function.name))]
        outcome = {"kind": "tool_calls", "step_id": step_id, "server_calls": server,
                   "client_calls": [call.id for call in tool_calls if call.id not in server]}
        step = _step(run, step_id, at, "in_progress", {"type": "tool_calls", "tool_calls": [
            _step_call(run, call) for call in tool_calls]}, usage)
        step["_engine"] = {"queries": {call.id: file_search.query_of(call.function.arguments)
                                       for call in tool_calls if _is_search_call(run, call.function.name)}}
        message = None
    elif outcome is None:
        truncated = choice.finish_reason == "length"
        outcome = {"kind": "incomplete", "reason": "max_completion_tokens"} if truncated else {"kind": "message"}
        message = _assistant_message(run, at, choice.message.content or "", truncated, context)
        step = _step(run, ids.new_id("step"), at, "completed",
                     {"type": "message_creation", "message_creation": {"message_id": message["id"]}}, usage)
    else:
        message = step = None

    def change(current: dict) -> RunChange:
        if current["status"] != "in_progress":
            raise RunCancelled()
        engine = _engine(current)
        if turn in engine["turns"]:
            return RunChange(current)  # an earlier attempt of this activity already stored the turn
        engine["turns"][turn] = outcome
        engine["code_files"] = context.code_files
        engine["usage"] = _add_usage(engine.get("usage"), usage)
        operations, blobs = [], []
        if message is not None:
            message_operations, blob = runs().messages.prepare(principal, message)
            operations += message_operations
            blobs.append(blob)
        if step is not None:
            step_operations, blob = runs().step_operations(principal, step)
            operations += step_operations
            blobs.append(blob)
        finished = outcome["kind"] == "message"
        if finished:  # the answer and the run's completion land together: the client sees both at once
            _make_terminal(current, "completed", at)
        return RunChange(current, operations, blobs, release_thread=finished)

    try:
        stored = runs().update(principal, run["thread_id"], run["id"], change)
    except RunCancelled:
        return {"kind": "cancelled"}
    return _engine(stored)["turns"][turn]


def _declares_function(run: dict, name: str) -> bool:
    return any(tool.get("type") == "function" and tool["function"]["name"] == name for tool in run.get("tools") or [])


def _assistant_message(run: dict, at: int, text: str, truncated: bool, context: TurnContext) -> dict:
    content = code_interpreter.message_content(text, context.produced)
    content[-1]["text"]["annotations"] = sorted(
        content[-1]["text"]["annotations"] + file_search.citations(text, context.sources),
        key=lambda annotation: annotation["start_index"])
    return Message(
        id=ids.new_id("message"), created_at=at, thread_id=run["thread_id"],
        status="incomplete" if truncated else "completed",
        incomplete_details={"reason": "max_tokens"} if truncated else None,
        completed_at=None if truncated else at, incomplete_at=at if truncated else None,
        role="assistant", content=content,
        assistant_id=run["assistant_id"], run_id=run["id"], attachments=[], metadata={},
    ).model_dump(mode="json")


def _step(run: dict, step_id: str, at: int, status: str, details: dict, usage: dict | None) -> dict:
    return {
        "id": step_id, "object": "thread.run.step", "created_at": at, "run_id": run["id"],
        "assistant_id": run["assistant_id"], "thread_id": run["thread_id"], "type": details["type"],
        "status": status, "cancelled_at": None, "completed_at": at if status == "completed" else None,
        "expired_at": None, "failed_at": None, "last_error": None, "step_details": details,
        "usage": usage, "metadata": {},
    }


# -- tools -----------------------------------------------------------------------

@bp.activity_trigger(input_name="request")
def run_tool_call(request: dict) -> dict:
    """Execute one server-side function call and store its output on the step.

    A run that is no longer in progress (cancelled meanwhile) gets no new side effects."""
    principal, thread_id, run_id = request["principal"], request["thread_id"], request["run_id"]
    step_id, call_id = request["step_id"], request["call_id"]
    run = runs().get(principal, thread_id, run_id)
    if run["status"] != "in_progress":
        return {"call_id": call_id}
    step = runs().load_step(principal, thread_id, run_id, step_id)[0]
    call = _call_in(step, call_id)
    if _model_output(step, call) is not None:
        return {"call_id": call_id}  # a repeated delivery of a call already run
    if call["type"] == file_search.TOOL_NAME:
        result = file_search.execute(principal, run, step["_engine"]["queries"][call_id])

        def record(current: dict) -> dict:
            engine = current.setdefault("_engine", {})
            if call_id not in engine.setdefault("outputs", {}):
                _call_in(current, call_id)[file_search.TOOL_NAME]["results"] = result["results"]
                engine["outputs"][call_id] = result["model_output"]
                engine.setdefault("sources", []).extend(result["sources"])
            return complete_if_answered(current)
    elif call["type"] == "function":
        output = registry.execute(call["function"]["name"], call["function"]["arguments"])

        def record(current: dict) -> dict:
            current_call = _call_in(current, call_id)
            if current_call["function"]["output"] is None:
                current_call["function"]["output"] = output
            return complete_if_answered(current)
    else:
        result = code_interpreter.execute(principal, thread_id, call["code_interpreter"]["input"],
                                          _engine(run).get("code_files") or [])

        def record(current: dict) -> dict:
            engine = current.setdefault("_engine", {})
            if call_id not in engine.setdefault("outputs", {}):
                _call_in(current, call_id)["code_interpreter"]["outputs"] = result["outputs"]
                engine["outputs"][call_id] = result["model_output"]
                engine.setdefault("produced", []).extend(result["produced"])
            return complete_if_answered(current)

    runs().update_step(principal, thread_id, run_id, step_id, record)
    return {"call_id": call_id}


def _call_in(step: dict, call_id: str) -> dict:
    return next(call for call in step["step_details"]["tool_calls"] if call["id"] == call_id)


def complete_if_answered(step: dict) -> dict:
    # A step the run's end already closed (cancelled, expired) keeps its status: a tool that
    # returns late records what it did, but does not reopen or complete the step.
    if step["status"] == "in_progress" and all(
            _model_output(step, call) is not None for call in step["step_details"]["tool_calls"]):
        step["status"] = "completed"
        step["completed_at"] = step.get("completed_at") or now()
    return step


@bp.activity_trigger(input_name="request")
def run_require_action(request: dict) -> dict:
    """in_progress → requires_action, asking the client for the calls it must answer."""
    principal, thread_id, run_id = request["principal"], request["thread_id"], request["run_id"]
    step = runs().load_step(principal, thread_id, run_id, request["step_id"])[0]
    wanted = set(request["client_calls"])
    calls = [{"id": call["id"], "type": "function",
              "function": {"name": call["function"]["name"], "arguments": call["function"]["arguments"]}}
             for call in step["step_details"]["tool_calls"] if call["id"] in wanted]

    def change(run: dict) -> RunChange:
        if run["status"] == "requires_action" and _engine(run)["round"] == request["round"]:
            return RunChange(run)
        if run["status"] != "in_progress":
            raise RunCancelled()
        run["status"] = "requires_action"
        run["required_action"] = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}}
        _engine(run).update(round=request["round"], action_step=request["step_id"])
        return RunChange(run)

    try:
        run = runs().update(principal, thread_id, run_id, change)
    except RunCancelled:
        return {"status": "cancelled"}
    return {"status": "requires_action", "expires_at": run["expires_at"]}


@bp.activity_trigger(input_name="request")
def run_resume(request: dict) -> dict:
    """After the client's outputs were accepted (run queued again): back to in_progress."""
    return {"status": _to_in_progress(request, "queued")["status"]}


# -- finish ----------------------------------------------------------------------

def _make_terminal(run: dict, status: str, at: int) -> None:
    run["status"] = status
    run["required_action"] = None
    if status != "expired":
        run["expires_at"] = None  # as at OpenAI: only a live or expired run shows its deadline
    stamp = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at"}.get(status)
    if stamp:
        run[stamp] = at
    run["usage"] = _engine(run).get("usage") or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


@bp.activity_trigger(input_name="request")
def run_finish(request: dict) -> dict:
    """Put the run in its terminal status, close its open steps and release the thread."""
    principal, thread_id, run_id = request["principal"], request["thread_id"], request["run_id"]
    status = request["status"]
    open_steps = [step for step in runs().all_steps(principal, thread_id, run_id) if step["status"] == "in_progress"]

    def change(run: dict) -> RunChange:
        if run["status"] in TERMINAL_STATUSES:
            return RunChange(run, release_thread=True)
        at = now()
        _make_terminal(run, status, at)
        if status == "incomplete":
            run["incomplete_details"] = {"reason": request.get("incomplete_reason") or "max_completion_tokens"}
        if request.get("last_error"):
            run["last_error"] = request["last_error"]
        operations, blobs = [], []
        for step in open_steps:
            entity = runs().load_step(principal, thread_id, run_id, step["id"])[1]
            closed = dict(step, status=STEP_FINAL_STATUS[status])
            stamp_name = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at",
                          "expired": "expired_at"}[closed["status"]]
            closed[stamp_name] = at
            step_operations, blob = runs().step_operations(principal, closed, entity.metadata["etag"])
            operations += step_operations
            blobs.append(blob)
        return RunChange(run, operations, blobs, release_thread=True)

    try:
        run = runs().update(principal, thread_id, run_id, change)
    except ApiError:
        return {"status": "gone"}  # the thread was deleted meanwhile: nothing left to finish
    return {"status": run["status"]}
