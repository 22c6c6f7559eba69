"""Function tools as a plug-in: the functions a run declares, and the opted-in server tools among them.

Every model call no built-in claims is this plug-in's. Where it goes is
core.chat_turns's security rule (`function_route`): an opted-in server tool this
deployment enables and the run declares runs here (tools/registry.py runs it;
tools/business.py follows a Logic App's 202 + Location); any other declared
function goes to the client; an undeclared name is answered at once as a tool
error. The step records OpenAI's `function` shape {name, arguments, output}; the
output is what the model reads back.
"""

from __future__ import annotations

from typing import Any, Literal

from core import chat_turns
from core.run_bookkeeping import StepBookkeeping
from core.run_events import payloads
from core.run_events.payloads import Event
from core.tool_plugins import CallContext, Finished, ItemView, Offer, StepCall, ToolPlugin, TurnContext, Waiting, Where
from core.wire.response_objects import item_id
from tools import business, registry
from tools.registry import Pending, ToolError

KIND = "function"


def call_delta(step_id: str, index: int, *, call_id: str | None = None, name: str | None = None,
               arguments: str = "", output: str | None = None) -> Event:
    """A function call's first delta names it (id, name); later ones add arguments, or the output."""
    function: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    if output is not None:
        function["output"] = output
    call: dict[str, Any] = {"index": index, "type": KIND, KIND: function}
    if call_id is not None:
        call["id"] = call_id
    return payloads.step_delta(step_id, call)


def _answered(output: str) -> Finished:
    return Finished(fill=lambda call: call[KIND].update(output=output))


class Functions(ToolPlugin):
    kind = KIND

    def enabled(self, run: dict) -> bool:
        return True  # a run without functions is offered none: `offered` lists what it declares

    def resources(self, turn: TurnContext) -> dict[str, dict]:
        """The server tools this deployment runs and this run declares, as the model is offered them
        (their own schemas, so a client's same-named declaration cannot change what runs here)."""
        return {name: registry.chat_tool_definition(name)["function"]
                for name in sorted(chat_turns.server_tools_in_run(turn.run, turn.books.server_tools))
                if registry.server_tool(name) is not None}

    def offered(self, run: dict, resources: dict[str, dict] | None) -> list[dict]:
        return chat_turns.chat_tools(run, resources or {}, [])

    def route(self, name: str, offer: Offer) -> Where:
        return chat_turns.function_route(name, offer)

    def step_call(self, call_id: str, name: str, arguments: str, where: Where, run: dict) -> StepCall:
        output = chat_turns.undeclared_output(name) if where == "undeclared" else None
        return StepCall({"id": call_id, "type": KIND, KIND: {"name": name, "arguments": arguments, "output": output}})

    def model_output(self, call: dict, books: StepBookkeeping) -> str | None:
        return call[KIND].get("output")

    def chat_call(self, call: dict, books: StepBookkeeping) -> tuple[str, str]:
        return call[KIND]["name"], call[KIND]["arguments"]

    def execute(self, context: CallContext) -> Finished | Waiting:
        output = registry.invoke(context.call[KIND]["name"], context.call[KIND]["arguments"])
        if isinstance(output, Pending):  # started, not finished: the orchestrator polls on durable timers
            return Waiting(output.location, output.retry_after_seconds, output.deadline_seconds)
        return _answered(output)

    def poll(self, context: CallContext, location: str, give_up: bool) -> Finished | Waiting:
        decision: business.Done | Pending | business.Failed
        if give_up:
            decision = business.Failed("the operation was accepted but did not finish in time; its outcome is unknown")
        else:
            try:
                status, headers, body = business.poll_once(location)
                decision = business.poll_decision(status, headers, body, polled=location)
            except ToolError as error:
                decision = business.Failed(str(error))
        if isinstance(decision, Pending):
            return Waiting(decision.location, decision.retry_after_seconds, decision.deadline_seconds)
        return _answered(business.outcome_text(decision))

    def stream_start(self, step_id: str, index: int, call_id: str | None, name: str, arguments: str) -> Event:
        return call_delta(step_id, index, call_id=call_id, name=name, arguments=arguments)

    def stream_arguments(self, step_id: str, index: int, arguments: str) -> Event | None:
        return call_delta(step_id, index, arguments=arguments) if arguments else None

    def whole_call_delta(self, step_id: str, index: int, call: dict) -> Event:
        return call_delta(step_id, index, call_id=call["id"], name=call[KIND]["name"], arguments=call[KIND]["arguments"])

    def result_deltas(self, step_id: str, index: int, before: dict | None, after: dict) -> list[Event]:
        output = after[KIND].get("output")
        if output is not None and (before is None or before[KIND].get("output") is None):
            return [call_delta(step_id, index, output=output)]
        return []

    def response_item(self, call: dict, books: StepBookkeeping | None, done: bool,
                      view: ItemView) -> dict:
        function = call[KIND]
        shown_whole = books is not None or done  # else the call's first stream delta: its pieces show the arguments
        arguments = (function.get("arguments") or "") if shown_whole else ""
        return {"id": item_id("fc", call["id"]), "type": "function_call", "call_id": call["id"],
                "name": function.get("name") or "", "arguments": arguments,
                "status": "completed" if done else "in_progress"}

    def output_item(self, call: dict, books: StepBookkeeping) -> dict | None:
        output = call[KIND].get("output")
        if output is None:
            return None
        return {"id": item_id("fco", call["id"]), "type": "function_call_output", "call_id": call["id"],
                "output": output, "status": "completed"}

    def response_events(self, phase: Literal["opened", "done"], item: dict, output_index: int) -> list[dict]:
        if phase == "opened":
            return []
        return [{"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": output_index,
                 "name": item["name"], "arguments": item["arguments"]}]

    def response_delta_events(self, item: dict, output_index: int, delta: dict) -> list[dict]:
        piece = (delta.get(KIND) or {}).get("arguments") or ""
        if not piece:
            return []
        item["arguments"] += piece
        return [{"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": output_index,
                 "delta": piece}]


TOOL = Functions()
