"""Translation between a run and Chat Completions: what one model turn asks, and what its answer means.

Pure functions only (the model-turn activity does the reading, calling and
writing): the tools the model is offered, the request, where each tool call it
makes goes, the records its answer becomes, and how a model fault is classified.

The tools themselves are plug-ins (core.tool_plugins), handed in as a `Tools`
registry by the caller: this module never names a tool kind.

Where a call goes (`route_call`) is the security-relevant decision:
  - a built-in tool's own name (code_interpreter, file_search, …), when the run
    has that tool → run here, by that plug-in;
  - a server tool the assistant opted into (metadata `server_tools`), the
    operator enabled and the run's effective tools declare → run here (a run's
    own `tools` replace the assistant's, so they can withdraw a server tool);
  - any other function the run declares → the client (requires_action), as at
    OpenAI — a same-named server tool never hijacks it;
  - a function the run never declared → answered to the model as a tool error;
    it never reaches the client or a server tool.
The last three are `function_route`, the functions plug-in's route.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import openai

from core.model_client import retry_after_seconds
from core.run_bookkeeping import StepBookkeeping, TurnOutcome
from core.run_machine import COMPLETED, IN_PROGRESS
from core.tool_plugins import Offer, Route, ToolPlugin, Tools, Where
from core.wire.messages import message_record
from core.wire.runs import message_creation, new_step

# Model error codes meaning the prompt itself was refused (Azure OpenAI's content filter, OpenAI's policy).
PROMPT_REJECTED_CODES = frozenset({"content_filter", "content_policy_violation", "invalid_prompt"})


# -- the request ----------------------------------------------------------------------


def declared_functions(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The function tools the run declares, by name, as Chat Completions wants them."""
    return {tool["function"]["name"]: {key: value for key, value in tool["function"].items() if value is not None}
            for tool in run.get("tools") or [] if tool.get("type") == "function"}


def server_tools_in_run(run: dict[str, Any], opted_in: Iterable[str]) -> frozenset[str]:
    """The opted-in server tools this run may use: only those its effective tools declare.

    Opting in names what may run here; the run's tools say what this run offers. A run created with
    `tools: []` (or only built-ins) therefore offers and runs no server tool at all.
    """
    return frozenset(opted_in) & frozenset(declared_functions(run))


def chat_tools(run: dict[str, Any], server_tools: dict[str, dict[str, Any]],
               builtin_tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the model is offered: declared functions, then the opted-in server tools (their own
    schemas, so a client's same-named declaration cannot change what runs here), then the built-in
    tools (code_interpreter, file_search) as functions."""
    functions = declared_functions(run)
    functions.update(server_tools)
    return [{"type": "function", "function": function} for function in functions.values()] + builtin_tools


def offered_by_kind(tools: Iterable[ToolPlugin], run: dict[str, Any],
                    resources: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What the model is offered by each of the run's enabled plug-ins (`tools`, in the registry's order:
    the functions first), each given what its `resources` read (by kind)."""
    return {tool.kind: tool.offered(run, resources.get(tool.kind)) for tool in tools}


def offer_of(run: dict[str, Any], server_tools: Iterable[str]) -> Offer:
    """What the run lets the model call: its declared functions, and the server tools among them
    this deployment runs (`server_tools`: opted in, enabled, declared — see server_tools_in_run)."""
    return Offer(run, frozenset(declared_functions(run)), frozenset(server_tools))


def tool_choice(run: dict[str, Any], offered: dict[str, list[dict[str, Any]]]) -> Any:
    """The run's tool_choice as Chat Completions takes it. A built-in tool (`{"type": <its kind>}`) is
    offered to the model as its plug-in's function (`offered`, by kind), so choosing the tool is choosing
    that function; a built-in the turn does not offer (the run was made before its tool was refused at
    create) leaves the model free."""
    choice = run.get("tool_choice")
    if choice in (None, "auto", "none", "required"):
        return choice
    if not isinstance(choice, dict):
        return "auto"
    if choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice["function"]["name"]}}
    definitions = offered.get(choice.get("type") or "", [])
    if len(definitions) == 1:
        return {"type": "function", "function": {"name": definitions[0]["function"]["name"]}}
    return "required" if definitions else "auto"


def completion_request(run: dict[str, Any], messages: list[dict[str, Any]], tools: list[dict[str, Any]],
                       choice: Any = None, reasoning_effort: str | None = None) -> dict[str, Any]:
    """The Chat Completions request of a turn: `tools` offered, `choice` as tool_choice made it."""
    request: dict[str, Any] = {"model": run["model"], "messages": messages}
    if reasoning_effort is not None:
        request["reasoning_effort"] = reasoning_effort
    if tools:
        request["tools"] = tools
        if choice is not None:
            request["tool_choice"] = choice
        if run.get("parallel_tool_calls") is not None:
            request["parallel_tool_calls"] = run["parallel_tool_calls"]
    for name in ("temperature", "top_p", "max_completion_tokens"):
        if run.get(name) is not None:
            request[name] = run[name]
    response_format = run.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") != "text":
        request["response_format"] = response_format
    return request


def run_turns(steps: list[tuple[dict[str, Any], StepBookkeeping]], tools: Tools) -> list[dict[str, Any]]:
    """This run's tool exchanges so far, as chat messages (only steps whose every call is answered)."""
    turns: list[dict[str, Any]] = []
    for step, books in steps:
        details = step["step_details"]
        if details["type"] != "tool_calls" or not details["tool_calls"]:
            continue
        calls = details["tool_calls"]
        outputs = [tools.model_output(call, books) for call in calls]
        if any(output is None for output in outputs):
            continue
        turns.append({"role": "assistant", "content": None, "tool_calls": [_as_chat_call(call, books, tools) for call in calls]})
        turns += [{"role": "tool", "tool_call_id": call["id"], "content": output}
                  for call, output in zip(calls, outputs)]
    return turns


def step_exchanges(steps: list[tuple[dict[str, Any], StepBookkeeping]], tools: Tools
                   ) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each answered tool_calls step's exchange as chat messages, with the step's id (an earlier run's,
    placed in a response's prompt by core.model_context.build_prompt)."""
    return [(step["id"], turns) for step, books in steps if (turns := run_turns([(step, books)], tools))]


def model_output(call: dict[str, Any], books: StepBookkeeping) -> str | None:
    """What the model reads back for a call, for a caller without the registry (the HTTP layer's
    submit_tool_outputs): the output the call holds itself (a function's), else what the step's
    bookkeeping keeps (a built-in's). The engine asks the call's plug-in (Tools.model_output)."""
    body = call.get(call["type"]) or {}
    return body["output"] if "output" in body else books.outputs.get(call["id"])


def _as_chat_call(call: dict[str, Any], books: StepBookkeeping, tools: Tools) -> dict[str, Any]:
    name, arguments = tools.of(call, books).chat_call(call, books)
    return {"id": call["id"], "type": "function", "function": {"name": name, "arguments": arguments}}


# -- the answer ------------------------------------------------------------------------


def route_call(name: str, offer: Offer, tools: Tools) -> Route:
    """Where a tool call the model made goes (see the module docstring): a built-in that claims the
    name, else the functions plug-in (`function_route`)."""
    return tools.route(name, offer)


def function_route(name: str, offer: Offer) -> Where:
    """Where a call no built-in claimed goes: an opted-in server tool the run declares runs here;
    any other declared function goes to the client (never hijacked); the rest are undeclared."""
    if name in offer.declared:
        return "server" if name in offer.server_tools else "client"
    return "undeclared"


def undeclared_output(name: str) -> str:
    return json.dumps({"error": f"there is no tool named {name!r} in this run; use only the tools you were given"})


@dataclass(frozen=True)
class ModelAnswer:
    """One model reply, however it arrived (a whole completion, or a stream put back together)."""

    content: str | None
    tool_calls: tuple[tuple[str, str, str], ...]  # (id, name, arguments)
    finish_reason: str | None
    usage: dict[str, Any] | None


def answer_of(completion: Any) -> ModelAnswer:
    choice = completion.choices[0]
    usage = completion.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}) \
        if completion.usage else None
    calls = tuple((call.id, call.function.name, call.function.arguments) for call in choice.message.tool_calls or [])
    return ModelAnswer(choice.message.content, calls, choice.finish_reason, usage)


@dataclass(frozen=True)
class TurnRecords:
    """What a model turn stores: its outcome, and the message and/or tool-calls step it produced."""

    outcome: TurnOutcome
    tool_step: dict[str, Any] | None = None
    tool_books: StepBookkeeping = field(default_factory=StepBookkeeping)
    message: dict[str, Any] | None = None
    message_step: dict[str, Any] | None = None

    def new_steps(self) -> list[tuple[dict[str, Any], StepBookkeeping]]:
        """The steps to insert, in the order the model produced them (its text, then its calls)."""
        steps = [(self.message_step, StepBookkeeping())] if self.message_step else []
        return steps + ([(self.tool_step, self.tool_books)] if self.tool_step else [])


@dataclass(frozen=True)
class TurnIds:
    """Ids and the time for a turn's records, drawn by the caller (the same on a retried attempt, so
    what a stream showed and what is stored match): this module draws nothing."""

    message_id: str
    message_step_id: str
    tool_step_id: str
    at: int


def records_for_answer(run: dict[str, Any], answer: ModelAnswer, route: Callable[[str], Route], ids: TurnIds, *,
                       message_content: Callable[[str], list[dict[str, Any]]], text_shown: bool = False) -> TurnRecords:
    """The outcome and records of a model reply: a tool-calls step (calls routed; undeclared ones
    answered at once) — with the text the model wrote before its calls kept as a message when a
    client was shown it (`text_shown`) — or the assistant's message with its message_creation step."""
    if answer.tool_calls and answer.finish_reason != "length":
        calls: list[dict[str, Any]] = []
        server: list[str] = []
        client: list[str] = []
        kept: dict[str, dict[str, Any]] = {}
        for call_id, name, arguments in answer.tool_calls:
            routed = route(name)
            made = routed.tool.step_call(call_id, name, arguments, routed.where, run)
            calls.append(made.call)
            for books_field, entries in made.books.items():
                kept.setdefault(books_field, {}).update(entries)
            {"server": server, "client": client}.get(routed.where, []).append(call_id)
        step = new_step(run, ids.tool_step_id, ids.at, IN_PROGRESS, {"type": "tool_calls", "tool_calls": calls},
                        answer.usage)
        if not server and not client:  # every call was undeclared: answered already, the model goes on
            step = dict(step, status=COMPLETED, completed_at=ids.at)
        outcome = TurnOutcome(kind="tool_calls", step_id=ids.tool_step_id, server_calls=server, client_calls=client)
        books = StepBookkeeping.model_validate(kept)
        if not (text_shown and answer.content):
            return TurnRecords(outcome, step, books)
        text = [{"type": "text", "text": {"value": answer.content, "annotations": []}}]
        return TurnRecords(outcome, step, books,
                           message=message_record(ids.message_id, run["thread_id"], ids.at, "assistant", text, run=run),
                           message_step=new_step(run, ids.message_step_id, ids.at, COMPLETED,
                                                 message_creation(ids.message_id)))
    truncated = answer.finish_reason == "length"
    outcome = TurnOutcome(kind="incomplete", reason="max_completion_tokens") if truncated \
        else TurnOutcome(kind="message")
    message = message_record(ids.message_id, run["thread_id"], ids.at, "assistant",
                             message_content(answer.content or ""), status="incomplete" if truncated else "completed",
                             incomplete_reason="max_tokens" if truncated else None, run=run)
    return TurnRecords(outcome, message=message, message_step=new_step(run, ids.message_step_id, ids.at, COMPLETED,
                                                                       message_creation(ids.message_id), answer.usage))


def answer_content(text: str, tools: Iterable[ToolPlugin],
                   steps: list[tuple[dict[str, Any], StepBookkeeping]]) -> list[dict[str, Any]]:
    """The answer's parts: what the run's tools show before the text (code_interpreter's figures), then
    the text with every tool's annotations (file paths, citations) in the order they appear."""
    tools = list(tools)
    annotations = sorted((note for tool in tools for note in tool.annotations(text, steps)),
                         key=lambda annotation: annotation["start_index"])
    return [part for tool in tools for part in tool.leading_parts(steps)] + [
        {"type": "text", "text": {"value": text, "annotations": annotations}}]


def fault_outcome(error: openai.APIError) -> TurnOutcome:
    """A model error as a turn outcome: retryable (429, 5xx, connection) or the run's honest failure."""
    if isinstance(error, openai.RateLimitError):
        return TurnOutcome(kind="rate_limited", retry_after=retry_after_seconds(error))
    if isinstance(error, (openai.APIConnectionError, openai.InternalServerError)) or (
            isinstance(error, openai.APIStatusError) and error.status_code >= 500):
        return TurnOutcome(kind="server_error", message=str(error)[:500])
    # A run's last_error.code is one of OpenAI's three: a prompt the model's content policy
    # rejected is `invalid_prompt`; any other refusal is a request this server built wrongly.
    code = "invalid_prompt" if getattr(error, "code", None) in PROMPT_REJECTED_CODES else "server_error"
    return TurnOutcome(kind="failed", code=code, message=f"The model refused the request: {error}"[:1000])
