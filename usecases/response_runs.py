"""Responses as runs: the use cases behind /v1/responses, on the run engine and the threads it runs in.

A response is a durable execution like a run, because it *is* one: creating a response stores a
queued run (id `run_X` for response `resp_X`, core.ids.as_kind) and starts the same orchestration,
with one difference — the client's function calls end it (`hands_calls_back`) instead of holding it
in requires_action; the client answers with `function_call_output` items in its next response.
Where the run lives:
  - `conversation`: that thread (a conversation is a thread); the input becomes its messages.
  - `previous_response_id`: the previous response's thread when that response is still its latest
    run (a chain appends to one history); otherwise (a branch, or a conversation's response) a new
    thread holding a copy of the history up to the previous response.
  - neither: a new thread of its own.
An input that alone exceeds the model's context window is refused before anything is stored; one that
only does with its history is withdrawn by its run's first turn (core.response_withdrawal).
Function call outputs are matched to the calls they answer and seeded as the run's first step
(a completed tool_calls step), so the model reads call and output as it does within a run.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, cast

from pydantic import ValidationError

from core import ids, run_machine, settings, tokens
from core.errors import InvalidRequest, NotFound, ThreadBusy, TooLargeForOneWrite, conversation_busy
from core.pagination import PageRequest
from core.repositories.shared import responses
from core.response_withdrawal import REFUSED
from core.run_bookkeeping import RunBookkeeping, StepBookkeeping
from core.tool_plugins import ItemView
from core.turn_prompt import CONTEXT_LENGTH_EXCEEDED, context_window, input_overflow
from core.wire import conversation_items, response_objects
from core.wire.messages import MessageCreate, new_message
from core.wire.responses import FunctionCall, FunctionCallOutput, InputMessage, ResponseCreate
from core.wire.runs import RunSettings, new_run, new_step
from core.wire.threads import new_thread
from tools.plugins import TOOLS
from usecases import response_tool_resources, run_orchestration, services
from usecases.response_media import MediaReader

logger = logging.getLogger(__name__)
_WRITES = ThreadPoolExecutor(max_workers=8, thread_name_prefix="response-write")


@dataclass
class Placement:
    """Where a new response's run goes and what it starts from."""

    thread_id: str | None = None  # an existing thread; None: a new one
    conversation_id: str | None = None
    copied: list[dict] = field(default_factory=list)  # the history a new thread starts with (a branch)
    earlier_calls: dict[str, dict] = field(default_factory=dict)  # call id → the function call it names
    earlier_ids: dict[str, str] = field(default_factory=dict)  # call id → the id its item shows under
    must_answer: tuple[str, ...] = ()  # the previous response's calls, which the input must answer


def _latest_run(principal: str, thread_id: str) -> dict | None:
    page = services.runs().list(principal, thread_id, PageRequest(limit=1, order="desc"))
    return page.data[0] if page.data else None


def _function_calls(thread_id: str, run_id: str) -> tuple[dict[str, dict], dict[str, str]]:
    """The run's function calls by call id, and the ids their items show under (as its output does)."""
    calls: dict[str, dict] = {}
    shown: dict[str, str] = {}
    for step in services.runs().all_steps(thread_id, run_id):
        calls |= {call["id"]: call for call in response_objects.function_calls(step.record)}
        shown |= {call["id"]: item["id"] for _, call, item in response_objects.call_items(
            step.record, step.books, TOOLS, ItemView()) if call["id"] in calls}
    return calls, shown


def stored_response(principal: str, response_id: str) -> dict:
    """The response's record; 404 when absent, foreign, or not stored (`store: false`)."""
    record = responses().get(principal, response_id)
    if not record.get("store", True) or REFUSED in record:  # refused: being withdrawn (core.response_withdrawal)
        raise NotFound("response", response_id)
    return record


def _previous(principal: str, response_id: str) -> dict:
    try:
        return stored_response(principal, response_id)
    except NotFound:
        raise InvalidRequest(f"Previous response with id '{response_id}' not found.", param="previous_response_id",
                             code="previous_response_not_found") from None


def _history_until(principal: str, thread_id: str, last_id: str) -> list[dict]:
    """The thread's messages up to `last_id`, oldest first."""
    kept = [message for message in services.runs().messages.newest_first(thread_id) if message["id"] <= last_id]
    return kept[::-1]


def place(principal: str, body: ResponseCreate) -> Placement:
    conversation_id = body.conversation_id
    if conversation_id is not None:
        try:
            services.threads().state(principal, conversation_id)
        except NotFound:
            raise NotFound("conversation", conversation_id, param="conversation") from None
        latest = _latest_run(principal, conversation_id)
        calls, shown = _function_calls(conversation_id, latest["id"]) if latest else ({}, {})
        return Placement(conversation_id, conversation_id, earlier_calls=calls, earlier_ids=shown)
    if body.previous_response_id is None:
        return Placement()
    previous = _previous(principal, body.previous_response_id)
    thread_id, run_id = previous["thread_id"], previous["run_id"]
    try:
        run = services.runs().get(principal, thread_id, run_id)
    except NotFound:  # its conversation was deleted
        raise InvalidRequest(f"Previous response with id '{previous['id']}' not found.", param="previous_response_id",
                             code="previous_response_not_found") from None
    if run["status"] in run_machine.ACTIVE_STATUSES:
        raise InvalidRequest(f"Previous response with id '{previous['id']}' is still in progress.",
                             param="previous_response_id", code="previous_response_in_progress")
    calls, shown = _function_calls(thread_id, run_id)
    answered = tuple(call_id for call_id, call in calls.items() if call["function"].get("output") is None)
    latest = _latest_run(principal, thread_id)
    if not previous.get("conversation_id") and latest is not None and latest["id"] == run_id:
        return Placement(thread_id, earlier_calls=calls, earlier_ids=shown, must_answer=answered)
    outputs = services.runs().messages.page_of_owned_thread(thread_id, PageRequest(limit=1, order="desc"),
                                                            run_id=run_id).data
    last = max([*(message["id"] for message in outputs), *previous.get("input_message_ids", [])], default="")
    copied = _history_until(principal, thread_id, last) if last else []
    return Placement(copied=copied, earlier_calls=calls, earlier_ids=shown, must_answer=answered)


@dataclass
class Input:
    """A response's input as its run takes it: thread messages, instructions, seeded calls; what input_items lists."""

    messages: list[MessageCreate] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)  # system / developer messages
    seeded_calls: list[dict] = field(default_factory=list)  # function calls with their outputs
    items: list[tuple[str, dict]] = field(default_factory=list)  # (kind, item as given) for input_items


def read_input(body: ResponseCreate, placement: Placement, media: MediaReader) -> Input:
    read = Input()
    given_calls = {item.call_id: item for item in body.items() if isinstance(item, FunctionCall)}
    answered = set()
    for index, item in enumerate(body.items()):
        if isinstance(item, InputMessage) and item.media():
            if item.role != "user":
                raise InvalidRequest(f"Invalid 'input[{index}].content': image and file parts are accepted in user "
                                     "messages only.", param=f"input[{index}].content", code="invalid_value")
            message, shown = media.message(item, f"input[{index}]")
            read.messages.append(message)
            read.items.append(("message", {"role": item.role, "parts": shown}))
        elif isinstance(item, InputMessage):
            text = item.text()
            if not text:
                raise InvalidRequest(f"Invalid 'input[{index}].content': empty text.", param=f"input[{index}].content",
                                     code="empty_string")
            if item.role in ("system", "developer"):
                read.instructions.append(text)
                read.items.append(("instruction", {"role": item.role, "text": text}))
            else:
                read.messages.append(MessageCreate(role=cast(Literal["user", "assistant"], item.role),  # not system/developer
                                                   content=text))
                read.items.append(("message", {"role": item.role, "text": text}))
        elif isinstance(item, FunctionCallOutput):
            call = given_calls.get(item.call_id)
            name, arguments = (call.name, call.arguments) if call else (None, None)
            if call is None and item.call_id in placement.earlier_calls:
                function = placement.earlier_calls[item.call_id]["function"]
                name, arguments = function["name"], function["arguments"]
            if name is None:
                raise InvalidRequest(f"No tool call found for function call output with call_id {item.call_id}.",
                                     param="input", code="invalid_value")
            answered.add(item.call_id)
            read.seeded_calls.append({"id": item.call_id, "type": "function", "function": {
                "name": name, "arguments": arguments, "output": item.output}})
            read.items.append(("function_call_output", {"call_id": item.call_id, "output": item.output,
                                                        **({"id": item.id} if item.id else {})}))
        else:
            read.items.append(("function_call", {"call_id": item.call_id, "name": item.name,
                                                 "arguments": item.arguments, **({"id": item.id} if item.id else {})}))
    for call_id in placement.must_answer:
        if call_id not in answered:
            raise InvalidRequest(f"No tool output found for function call {call_id}.", param="input",
                                 code="invalid_value")
    if not read.messages and not read.seeded_calls and placement.thread_id is None and not placement.copied:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    return read


def _instructions(body: ResponseCreate, given: Input) -> str:
    """The run's instructions: the request's, then its system and developer messages."""
    return "\n\n".join([*([body.instructions] if body.instructions else []), *given.instructions])


def _run_record(run_id: str, thread_id: str, created_at: int, body: ResponseCreate, given: Input) -> dict:
    settings_body = {"assistant_id": "", "model": body.model, "instructions": _instructions(body, given),
                     "tools": [tool.run_tool() for tool in body.declared_tools], "metadata": body.metadata,
                     "temperature": body.temperature, "top_p": body.top_p,
                     "max_completion_tokens": body.max_output_tokens, "tool_choice": body.run_tool_choice(),
                     "parallel_tool_calls": body.parallel_tool_calls, "response_format": body.response_format()}
    try:
        run_settings = RunSettings.model_validate({key: value for key, value in settings_body.items()
                                                   if value is not None})
    except ValidationError as error:
        raise InvalidRequest(f"Invalid request: {error.errors(include_url=False)[0]['msg']}") from None
    nobody = {"id": "", "model": body.model, "instructions": "", "tools": [], "response_format": "auto"}
    return new_run(run_id, thread_id, created_at, created_at + settings.get_int("RUN_EXPIRY_SECONDS"), nobody,
                   run_settings)


def _seeded_ids(seeded: dict | None) -> dict[tuple[str, str], str]:
    """The ids the seeded step's items show under in the run's thread, by (item type, call id)."""
    return {(item["type"], item["call_id"]): item["id"] for _, item in conversation_items.step_items(
        seeded, StepBookkeeping(), TOOLS, ItemView()) if "call_id" in item} if seeded else {}


def _call_item_id(kind: str, item: dict, placement: Placement, seeded: dict[tuple[str, str], str]) -> str:
    """The id an input call or output shows under, as the thread shows it: a call the run before made is
    that run's item (a conversation, a chain and a branch show it once, there); outside a conversation
    (where nobody reads the thread's copy) a call given back with its id keeps it, as at OpenAI; else
    the seeded step's item, or, shown nowhere else (a call given without its output), an id of its own."""
    earlier = placement.earlier_ids.get(item["call_id"]) if kind == "function_call" else None
    given = item.get("id") if placement.conversation_id is None else None
    own = ("fco_" if kind == "function_call_output" else "fc_") + ids.body(ids.new_id("call"))
    return earlier or given or seeded.get((kind, item["call_id"])) or own


def _input_items(given: Input, message_ids: list[str], placement: Placement, seeded: dict | None) -> list[dict]:
    """The response's input as items (input_items), in the order given."""
    items, ids_left, seeded_ids = [], iter(message_ids), _seeded_ids(seeded)
    for kind, item in given.items:
        if kind == "message":
            item_id = next(ids_left)
            parts = item.get("parts") or [{"type": "input_text", "text": item["text"]} if item["role"] == "user" else
                                          response_objects.output_text_part(item["text"])]
            items.append({"id": item_id, "type": "message", "role": item["role"], "status": "completed",
                          "content": parts})
        elif kind == "instruction":
            items.append({"id": ids.new_id("message"), "type": "message",
                          "role": item["role"], "status": "completed",
                          "content": [{"type": "input_text", "text": item["text"]}]})
        else:
            items.append({"type": kind, "status": "completed", **item,
                          "id": _call_item_id(kind, item, placement, seeded_ids)})
    return items


def _busy(body: ResponseCreate, placement: Placement) -> InvalidRequest:
    """One active run per thread, said in the Responses API's words about what the caller named: its
    conversation, or the previous response another one was created from meanwhile."""
    if placement.conversation_id is not None:
        return conversation_busy(placement.conversation_id)
    return InvalidRequest(f"Another response created from previous response '{body.previous_response_id}' is already "
                          "in progress; create this one once that one has finished.", param="previous_response_id",
                          code="previous_response_in_progress")


def _effort(body: ResponseCreate) -> str | None:
    """The reasoning effort the model is asked for (Chat Completions' reasoning_effort)."""
    return body.reasoning.effort if body.reasoning else None


def _echoed(body: ResponseCreate) -> dict:
    """What the response shows back as asked (service_tier: the one used, always `default` here)."""
    return {"reasoning": body.reasoning.wire() if body.reasoning else None, "max_tool_calls": body.max_tool_calls,
            "prompt_cache_key": body.prompt_cache_key, "safety_identifier": body.safety_identifier,
            "top_logprobs": body.top_logprobs}


def _withdraw(principal: str, inserting: Future, response_id: str) -> None:
    """Remove the record of a response whose run was not stored (nobody was given its id)."""
    try:
        inserting.result()
        responses().delete(principal, response_id)
    except Exception:  # noqa: BLE001 - not inserted, or left unreachable: its id was never returned
        logger.warning("withdrawing the record of unstored response %s failed", response_id, exc_info=True)


def _refuse_oversized_input(body: ResponseCreate, given: Input, created_at: int) -> None:
    """A create whose instructions and input alone exceed the model's context window is a 400, as at OpenAI,
    before anything is stored or readied (an input with images or files is left to its first turn)."""
    messages = [new_message(ids.new_id("message"), ids.new_id("thread"), created_at, message) for message in given.messages]
    if any(part.get("type") != "text" for message in messages for part in message.get("content") or []) or \
            any(message.get("attachments") for message in messages):
        return
    overflow = input_overflow(body.truncation or "disabled", _instructions(body, given), messages,
                              tokens.counter_for(body.model), context_window())
    if overflow:
        raise InvalidRequest(overflow, param="input", code=CONTEXT_LENGTH_EXCEEDED)


def create(principal: str, body: ResponseCreate) -> tuple[dict, dict]:
    """Store a queued response: its run (in its thread, with its input), seeded calls, and its record."""
    placement = place(principal, body)
    media = MediaReader(principal)
    given = read_input(body, placement, media)
    created_at = services.now()
    _refuse_oversized_input(body, given, created_at)
    response_tool_resources.check_tools(principal, body, created_at)
    media.store(created_at)
    options = response_tool_resources.tool_options(principal, body, created_at)
    response_id = ids.new_id("response")
    run_id = ids.as_kind("run", response_id)
    thread: dict | None = None
    if placement.thread_id is None:
        thread = new_thread(ids.new_id("thread"), created_at, None)
        thread_id: str = thread["id"]
    else:
        thread_id = placement.thread_id
    run = _run_record(run_id, thread_id, created_at, body, given)
    copies = [dict(message, id=ids.new_id("message"), thread_id=thread_id, run_id=None) for message in placement.copied]
    messages = [new_message(ids.new_id("message"), thread_id, created_at, message) for message in given.messages]
    books = RunBookkeeping(seeded_steps=bool(given.seeded_calls), response_tools=options,
                           reasoning_effort=_effort(body), truncation=body.truncation or "disabled",
                           replays_tool_calls=True,
                           withdraws=None if body.background else "thread" if thread is not None else "run")
    seeded = [(new_step(run, ids.new_id("step"), created_at, run_machine.COMPLETED,
                        {"type": "tool_calls", "tool_calls": given.seeded_calls}, None), StepBookkeeping())] \
        if given.seeded_calls else []
    record = {
        "id": response_id, "created_at": created_at, "thread_id": thread_id, "run_id": run_id,
        "conversation_id": placement.conversation_id, "previous_response_id": body.previous_response_id,
        "model": body.model, "instructions": body.instructions,
        "tools": [tool.wire() for tool in body.declared_tools],
        "tool_choice": body.tool_choice_wire(),
        "parallel_tool_calls": body.parallel_tool_calls if body.parallel_tool_calls is not None else True,
        "store": body.store if body.store is not None else True, "background": bool(body.background),
        "max_output_tokens": body.max_output_tokens, "temperature": body.temperature, "top_p": body.top_p,
        "text": {"format": body.text_format(), "verbosity": (body.text.verbosity if body.text else None) or "medium"},
        "metadata": body.metadata or {}, "truncation": body.truncation, "user": body.user,
        "include": sorted(set(body.include or ())), "tool_options": options,
        "input_message_ids": [message["id"] for message in messages],
        "input_items": _input_items(given, [message["id"] for message in messages], placement,
                                    seeded[0][0] if seeded else None),
        "seeded_step_id": seeded[0][0]["id"] if seeded else None, **_echoed(body),
    }
    # The record is inserted while the run is: its id reaches nobody before both are stored, so one
    # whose run was not stored is withdrawn unseen, and a run whose record was not is failed.
    inserting = _WRITES.submit(responses().insert, principal, record)
    try:
        if thread is None:
            services.runs().create(principal, run, books, messages, steps=seeded)
        else:
            services.runs().create_with_thread(principal, thread, copies + messages, run, books, show_thread=False,
                                               steps=seeded)
    except BaseException as error:
        _withdraw(principal, inserting, response_id)
        if isinstance(error, ThreadBusy):
            raise _busy(body, placement) from None
        if isinstance(error, TooLargeForOneWrite):
            raise InvalidRequest(f"The input's {len(messages)} messages are too many to add to a conversation with "
                                 "one response (they are stored with it, at once): add some first with "
                                 "conversations.items.create, then create the response with the rest.",
                                 param="input") from None
        raise
    try:
        inserting.result()
    except BaseException:
        run_orchestration.fail_unstarted(principal, run)
        raise
    return record, run


