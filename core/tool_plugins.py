"""Tools as plug-ins: the one interface every tool of a run implements, and the set a deployment runs.

Why: a tool touches every stage of a run — what the model is offered, where its
calls go, how a call runs, what the run step records and streams, what the model
reads back in later turns. When each stage switched on the tool's kind itself, a
new tool meant editing all of them; now each stage asks the call's plug-in, and a
new tool is one module plus one line in the registry (tools/plugins/__init__.py).

The import rule: this module and every core function that takes a `Tools` are
pure, and this module imports no subpackage of core (the event log and both wires use it).
The plug-ins themselves do I/O (`resources`, `execute`, `poll`), so they live
in tools/plugins/ and core never imports them: the engine (activities/) takes the
registry from tools.plugins and hands it to core's functions, and tests do the same.

Routing keeps the security rule of core.chat_turns: a built-in claims only its own
name and only when the run has it; every other name belongs to the functions
plug-in, whose route (server, client or undeclared) is core.chat_turns's decision.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence

from core import run_machine
from core.run_bookkeeping import Produced, RunBookkeeping, Source, StepBookkeeping

# An Assistants stream event, (name, data), as core.run_events.payloads builds them: the same alias, not
# imported (core.run_events uses the plug-ins, so this interface does not import core.run_events).
Event = tuple[str, dict[str, Any]]

Where = Literal["server", "client", "undeclared"]


@dataclass(frozen=True)
class Offer:
    """What a run lets the model call this turn: its tools (`run`), the function names it declares,
    and the opted-in server tools among them that this deployment runs."""

    run: dict[str, Any]
    declared: frozenset[str]
    server_tools: frozenset[str]


@dataclass(frozen=True)
class Route:
    """Where a model call goes: the plug-in that owns it, and whether it runs here (an activity), goes
    to the client (requires_action) or is answered at once as undeclared."""

    tool: "ToolPlugin"
    where: Where


@dataclass(frozen=True)
class StepCall:
    """A call as its run step first stores it, and what the step's bookkeeping keeps beside it
    (maps of StepBookkeeping by field name, e.g. file_search's query under the call's id)."""

    call: dict[str, Any]
    books: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnContext:
    """What a plug-in may read to prepare a model turn: the run, its bookkeeping, the thread messages
    the model sees and this run's steps so far."""

    principal: str
    run: dict[str, Any]
    books: RunBookkeeping
    history: list[dict[str, Any]]
    steps: list[tuple[dict[str, Any], StepBookkeeping]]


@dataclass(frozen=True)
class CallContext:
    """One server-side call being executed or polled, with the run and step it belongs to."""

    principal: str
    thread_id: str
    run_id: str
    step_id: str
    call: dict[str, Any]
    run: dict[str, Any]
    run_books: RunBookkeeping
    step_books: StepBookkeeping

    @property
    def call_id(self) -> str:
        return str(self.call["id"])


@dataclass(frozen=True)
class Waiting:
    """A call that cannot finish yet: the orchestrator polls it on durable timers (no activity sleeps).
    `location` is what to poll (it may carry a signature: never in a step or an event); empty when
    the plug-in only waits for something of its own (a store still ingesting)."""

    location: str
    retry_after_seconds: float
    deadline_seconds: float


@dataclass(frozen=True)
class Finished:
    """A call's result as its step records it: `fill` writes the public part into (a copy of) the
    stored call; `model_text`, when given, is what the model reads (kept in the step's bookkeeping —
    a function's output lives in the call itself); `kept` extends bookkeeping lists (produced files,
    sources); `undo` cleans up if the result cannot be stored (no orphan files on a retry)."""

    fill: Callable[[dict[str, Any]], None]
    model_text: str | None = None
    kept: dict[str, list[Produced] | list[Source]] = field(default_factory=dict)
    undo: Callable[[], None] | None = None


@dataclass(frozen=True)
class ItemView:
    """What a response's items show beyond its calls: the extra fields it includes (`include`) and its
    tools' Responses options by plug-in kind (core.wire.response_tools.run_options: e.g. the container
    a code_interpreter call runs in)."""

    include: frozenset[str] = frozenset()
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


class ToolPlugin(ABC):
    """One kind of tool call. `kind` is the call's `type` in a run step (for a built-in, also its
    Assistants tool type and the function name the model calls).

    A plug-in whose calls have no run-step shape of their own (web search: the SDK's step types
    know only function, code_interpreter and file_search) records them in another kind's shape and
    names itself in the step's bookkeeping (`owners`, from `step_call`'s books): `Tools.of` then
    hands it the call to execute, while the shape's own rendering (deltas, model output) applies."""

    kind: str

    # -- offering ---------------------------------------------------------------

    @abstractmethod
    def enabled(self, run: dict[str, Any]) -> bool:
        """Whether the run has this tool (its effective `tools`)."""

    def resources(self, turn: TurnContext) -> Any:
        """I/O, in the model-turn activity: what the tool needs read from the run's resources before it
        is offered (code_interpreter: the files at /mnt/data). Called only when `enabled`."""
        return None

    @abstractmethod
    def offered(self, run: dict[str, Any], resources: Any) -> list[dict[str, Any]]:
        """The Chat Completions `tools` entries the model is offered (given `resources`)."""

    def run_books(self, resources: Any) -> dict[str, Any]:
        """Fields of the run's bookkeeping this turn sets from `resources` (code_interpreter's files,
        which its calls are later given)."""
        return {}

    # -- routing and the step -----------------------------------------------------

    @abstractmethod
    def route(self, name: str, offer: Offer) -> Where | None:
        """Where a model call of `name` goes if it is this tool's, else None (not its name)."""

    @abstractmethod
    def step_call(self, call_id: str, name: str, arguments: str, where: Where, run: dict[str, Any]) -> StepCall:
        """The call as the run step records it (OpenAI's run-step tool_call shape)."""

    @abstractmethod
    def model_output(self, call: dict[str, Any], books: StepBookkeeping) -> str | None:
        """What the model reads back for the call; None while it has no result."""

    @abstractmethod
    def chat_call(self, call: dict[str, Any], books: StepBookkeeping) -> tuple[str, str]:
        """The call as the model made it, (name, arguments), for later turns' chat history."""

    # -- execution (activities) ---------------------------------------------------

    def execute(self, context: CallContext) -> Finished | Waiting:
        """I/O, in an activity: run one call routed "server"."""
        raise NotImplementedError(f"{self.kind} calls do not run on the server")

    def poll(self, context: CallContext, location: str, give_up: bool) -> Finished | Waiting:
        """I/O, in an activity: look once more at a call that was Waiting; `give_up`: past its deadline."""
        raise NotImplementedError(f"{self.kind} calls never wait")

    # -- stream deltas (thread.run.step.delta) ----------------------------------------

    @abstractmethod
    def stream_start(self, step_id: str, index: int, call_id: str | None, name: str, arguments: str) -> Event:
        """The delta for a call's first piece from the streaming model."""

    def stream_arguments(self, step_id: str, index: int, arguments: str) -> Event | None:
        """The delta for a later piece of the call's arguments (None: not shown as they come)."""
        return None

    def stream_end(self, step_id: str, index: int, arguments: str) -> Event | None:
        """The delta once the model finished, given the whole arguments (None: nothing more)."""
        return None

    @abstractmethod
    def whole_call_delta(self, step_id: str, index: int, call: dict[str, Any]) -> Event:
        """A stored call as one delta, for a call no earlier delta showed: its name and input."""

    def result_deltas(self, step_id: str, index: int, before: dict[str, Any] | None,
                      after: dict[str, Any]) -> list[Event]:
        """Deltas showing what a change to the stored call added (outputs, results)."""
        return []

    # -- the run's answer ------------------------------------------------------------

    def leading_parts(self, steps: list[tuple[dict[str, Any], StepBookkeeping]]) -> list[dict[str, Any]]:
        """Message content parts the answer shows before its text (code_interpreter's figures)."""
        return []

    def annotations(self, text: str, steps: list[tuple[dict[str, Any], StepBookkeeping]]) -> list[dict[str, Any]]:
        """Annotations of the answer's text that cite what this tool produced or found."""
        return []

    # -- the Assistants wire: run steps as shown (api/run_steps.py), message attachments (api/) --------

    # The `include[]` values of a run-step request that show more of this tool's calls.
    step_includes: frozenset[str] = frozenset()

    def public_call(self, call: dict[str, Any], include: frozenset[str]) -> dict[str, Any]:
        """A stored call as its run step shows it to the client, given the request's `include[]`."""
        return call

    def attached_files(self, messages: list[dict[str, Any]]) -> list[str]:
        """The file ids `messages` attach for this tool (an attachment's `tools` name the kinds it is for)."""
        return list(dict.fromkeys(
            attachment["file_id"] for message in messages for attachment in message.get("attachments") or []
            if any(tool.get("type") == self.kind for tool in attachment.get("tools") or [])))

    # -- a response's declaration, at its create (usecases/response_tool_resources.py) -------------------

    def check_declared(self, principal: str, declared: Any, param: str, at: int) -> None:
        """I/O, before anything of the response is stored: refuse (an ApiError naming `param`, where the
        declaration is in the request) what `declared`, its core.wire.response_tools model, names that the
        caller may not use (a vector store or file not theirs, an expired container)."""
        return None

    def ready_options(self, principal: str, options: dict[str, Any], created_at: int) -> dict[str, Any]:
        """I/O, once every declaration is checked: the tool's Responses options (core.wire.response_tools.
        run_options) as its run keeps them (code_interpreter: an auto container, made now)."""
        return options

    # -- the Responses wire (core.wire.response_objects, core.run_events.response_stream) ----------

    def response_item(self, call: dict[str, Any], books: StepBookkeeping | None, done: bool,
                      view: ItemView) -> dict[str, Any] | None:
        """The call as a Responses output item (None: a kind the Responses wire does not show). `call`
        is the stored call, or while the model writes it only its first stream delta (`books` None)."""
        return None

    def output_item(self, call: dict[str, Any], books: StepBookkeeping) -> dict[str, Any] | None:
        """The call's answer as an item of its own, where the Responses wire shows one apart from the call
        (a function's `function_call_output`, which at OpenAI the client sends in its next input): a
        conversation lists it after the call. None: no answer yet, or the call's own item carries it."""
        return None

    def response_events(self, phase: Literal["opened", "done"], item: dict[str, Any],
                        output_index: int) -> list[dict[str, Any]]:
        """The tool's own stream events around its item: after `response.output_item.added` ("opened")
        and before `response.output_item.done` ("done"), unnumbered."""
        return []

    def response_delta_events(self, item: dict[str, Any], output_index: int,
                              delta: dict[str, Any]) -> list[dict[str, Any]]:
        """Stream events for a later piece of the call (a step delta of the log); may extend `item`."""
        return []

    def response_citations(self, text: str, annotations: list[dict[str, Any]],
                           calls: list[tuple[dict[str, Any], StepBookkeeping]]) -> list[dict[str, Any]]:
        """Responses annotations of an answer's `text` citing what this tool found or made in the
        response (`calls`: every tool call of its run so far), given the answer's Assistants `annotations`."""
        return []

    def cites_calls(self, text: str, annotations: list[dict[str, Any]]) -> bool:
        """Whether `response_citations` of this answer may need its run's calls (False: `annotations` are
        enough), so that a read of the answer alone reads the run's steps only when it must."""
        return False


class Tools:
    """The plug-ins a deployment runs. The functions plug-in owns every name no built-in claims, and is
    offered first (declared functions, then server tools, then built-ins, as before plug-ins)."""

    def __init__(self, functions: ToolPlugin, builtins: Sequence[ToolPlugin]):
        self.functions = functions
        self.builtins = tuple(builtins)
        self.all = (functions, *self.builtins)
        self._by_kind = {tool.kind: tool for tool in self.all}
        if len(self._by_kind) != len(self.all):
            raise ValueError("two tool plug-ins of one kind")

    @property
    def builtin_kinds(self) -> frozenset[str]:
        return frozenset(tool.kind for tool in self.builtins)

    def enabled(self, run: dict[str, Any]) -> list[ToolPlugin]:
        return [tool for tool in self.all if tool.enabled(run)]

    def of(self, call: dict[str, Any], books: StepBookkeeping | None = None) -> ToolPlugin:
        """The plug-in of a stored call: the owner its step's bookkeeping names, else by its `type`."""
        owner = books.owners.get(call["id"]) if books is not None else None
        return self._by_kind[owner or call["type"]]

    def route(self, name: str, offer: Offer) -> Route:
        for tool in (*self.builtins, self.functions):
            where = tool.route(name, offer)
            if where is not None:
                return Route(tool, where)
        raise LookupError(f"no tool plug-in routes {name!r}")  # the functions plug-in routes every name

    def of_kind(self, kind: str) -> ToolPlugin:
        """The plug-in of `kind` (a Responses declaration's, by its run options)."""
        return self._by_kind[kind]

    def model_output(self, call: dict[str, Any], books: StepBookkeeping) -> str | None:
        return self.of(call, books).model_output(call, books)

    @property
    def step_includes(self) -> list[str]:
        """Every `include[]` value a run-step request may ask for (each plug-in's), sorted."""
        return sorted(value for tool in self.all for value in tool.step_includes)

    def public_step(self, step: dict[str, Any], include: list[str]) -> dict[str, Any]:
        """A run step as the client sees it: each call as its plug-in shows it under `include[]`."""
        if step["step_details"].get("type") != "tool_calls":
            return step
        wanted = frozenset(include)
        calls = [self.of(call).public_call(call, wanted) for call in step["step_details"]["tool_calls"]]
        return {**step, "step_details": {**step["step_details"], "tool_calls": calls}}

    def of_delta(self, piece: dict[str, Any], run: dict[str, Any]) -> ToolPlugin:
        """The plug-in of a call seen first as a stream delta (its owner is not in the log): a built-in
        that claims the piece's name in `run`, else the plug-in of its `type`."""
        if piece.get("type") == self.functions.kind:
            name = (piece.get(self.functions.kind) or {}).get("name") or ""
            return self.route(name, Offer(run, frozenset(), frozenset())).tool
        return self._by_kind[piece["type"]]

    def citing(self, calls: list[tuple[dict[str, Any], StepBookkeeping]]
               ) -> Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]:
        """How a response's answer cites what its calls (`calls`, in order) found: (text, the answer's
        Assistants annotations) → its Responses annotations, every plug-in's, in text order."""
        def cite(text: str, annotations: list[dict[str, Any]]) -> list[dict[str, Any]]:
            found = [annotation for tool in self.all for annotation in tool.response_citations(text, annotations, calls)]
            return sorted(found, key=lambda annotation: annotation.get("start_index", annotation.get("index", 0)))
        return cite

    def cites_calls(self, text: str, annotations: list[dict[str, Any]]) -> bool:
        """Whether citing the answer `text` may need its run's calls, for any plug-in."""
        return any(tool.cites_calls(text, annotations) for tool in self.all)

    def call_deltas(self, step_id: str, calls: list[dict[str, Any]]) -> list[Event]:
        """Whole tool calls as deltas (for calls no earlier delta showed): each call's name and input."""
        return [self.of(call).whole_call_delta(step_id, index, call) for index, call in enumerate(calls)]

    def recorded(self, step: dict[str, Any], books: StepBookkeeping, call_id: str, result: Finished,
                 at: int) -> tuple[dict[str, Any], StepBookkeeping]:
        """The step once `result` is recorded for the call `call_id`, completed if every call is answered;
        a call already answered (a repeated delivery) is left as it is."""
        stored = _call_in(step, call_id)
        if self.of(stored, books).model_output(stored, books) is not None:
            return step, books
        updated = copy.deepcopy(step)
        result.fill(_call_in(updated, call_id))
        changes: dict[str, Any] = {name: [*getattr(books, name), *items] for name, items in result.kept.items()}
        if result.model_text is not None:
            changes["outputs"] = {**books.outputs, call_id: result.model_text}
        books = books.model_copy(update=changes)
        answered = {call["id"] for call in updated["step_details"]["tool_calls"]
                    if self.model_output(call, books) is not None}
        return run_machine.complete_step_if_answered(updated, answered, at), books


def search_call_events(event_prefix: str, phase: Literal["opened", "done"], item: dict[str, Any],
                       output_index: int) -> list[dict[str, Any]]:
    """A search tool's events around its Responses item (`response.file_search_call.…`): in_progress and
    searching when it opens, completed when it is done."""
    kinds = ("in_progress", "searching") if phase == "opened" else ("completed",)
    return [{"type": f"{event_prefix}.{kind}", "item_id": item["id"], "output_index": output_index} for kind in kinds]


def _call_in(step: dict[str, Any], call_id: str) -> dict[str, Any]:
    return next(call for call in step["step_details"]["tool_calls"] if call["id"] == call_id)


def builtin_run_tool(run: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The run's tool entry of type `kind` (its options), if it has one."""
    return next((tool for tool in run.get("tools") or [] if tool.get("type") == kind), None)

