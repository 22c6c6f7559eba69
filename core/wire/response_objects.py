"""The Responses/Conversations wire as projections of the domain: runs, steps, messages and threads.

Pure functions, no I/O. A response object is its request record (core.repositories.responses)
joined with its run: the run's status, timestamps, error and usage; its output items are the run's
steps in order — a message_creation step is a `message` item (the thread message, as `output_text`
parts), each call of a tool_calls step the item its tool plug-in shows (`function_call`,
`file_search_call`, `web_search_call`, …; core.tool_plugins). A conversation is its thread; its
items are the thread's messages and its runs' calls (core.wire.conversation_items).
"""


from typing import Any, Callable, Iterable

from core import run_machine
from core.run_bookkeeping import StepBookkeeping
from core.tool_plugins import ItemView, Tools

STATUS = {run_machine.QUEUED: "queued", run_machine.IN_PROGRESS: "in_progress",
          run_machine.REQUIRES_ACTION: "in_progress", run_machine.CANCELLING: "in_progress",
          run_machine.COMPLETED: "completed", run_machine.INCOMPLETE: "incomplete", run_machine.FAILED: "failed",
          run_machine.CANCELLED: "cancelled", run_machine.EXPIRED: "failed"}
TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled"})


Cite = Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]  # (text, its Assistants annotations) → Responses annotations


def item_id(prefix: str, call_id: str) -> str:
    """An output item's id derived from its call's id (so every view names it alike): `fc_…` for
    call `call_…`."""
    return prefix + "_" + (call_id[len("call_"):] if call_id.startswith("call_") else call_id)


def call_item_id(call_id: str) -> str:
    """A function_call item's id."""
    return item_id("fc", call_id)


def output_text_part(text: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": annotations or [], "logprobs": []}


def no_citations(text: str, annotations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return []


def _input_part(part: dict[str, Any]) -> dict[str, Any] | None:
    """A user message's content part as a Responses input part (None: a kind it has no input part for)."""
    kind = part.get("type")
    if kind == "text":
        return {"type": "input_text", "text": part["text"]["value"]}
    if kind == "image_file":
        return {"type": "input_image", "detail": part["image_file"].get("detail", "auto"),
                "file_id": part["image_file"]["file_id"], "image_url": None}
    if kind == "image_url":
        return {"type": "input_image", "detail": part["image_url"].get("detail", "auto"), "file_id": None,
                "image_url": part["image_url"]["url"]}
    return None


def message_item(message: dict[str, Any], cite: Cite = no_citations) -> dict[str, Any]:
    """A thread message as a Responses `message` item: assistant text as output_text (`cite` turns its
    annotations into the Responses wire's); a user's text and images as input_text and input_image, and
    its attachments without tools (input files) as input_file."""
    if message["role"] == "assistant":
        content = [output_text_part(part["text"]["value"], cite(part["text"]["value"], part["text"].get("annotations")
                                                                or []))
                   for part in message.get("content") or [] if part.get("type") == "text"]
    else:
        content = [shown for shown in map(_input_part, message.get("content") or []) if shown is not None]
        content += [{"type": "input_file", "file_id": attachment["file_id"], "filename": None}
                    for attachment in message.get("attachments") or [] if not attachment.get("tools")]
    return {"id": message["id"], "type": "message", "role": message["role"], "status": message["status"],
            "content": content}


def function_call_item(call: dict[str, Any], status: str) -> dict[str, Any]:
    function = call["function"]
    return {"id": call_item_id(call["id"]), "type": "function_call", "call_id": call["id"], "name": function["name"],
            "arguments": function["arguments"], "status": status}


def function_calls(step: dict[str, Any]) -> list[dict[str, Any]]:
    details = step["step_details"]
    return [call for call in details.get("tool_calls") or [] if call.get("type") == "function"] \
        if details["type"] == "tool_calls" else []


def tool_calls(step: dict[str, Any]) -> list[dict[str, Any]]:
    details = step["step_details"]
    return list(details.get("tool_calls") or []) if details["type"] == "tool_calls" else []


def call_items(step: dict[str, Any], books: StepBookkeeping, tools: Tools,
               view: ItemView) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """A step's calls as their plug-ins show them, (index in the step, call, item), in order (a call the
    Responses wire does not show is left out): a response's output and a conversation's items alike."""
    done = step["status"] != run_machine.IN_PROGRESS
    shown = ((index, call, tools.of(call, books).response_item(call, books, done, view))
             for index, call in enumerate(tool_calls(step)))
    return [(index, call, item) for index, call, item in shown if item is not None]


def output_items(steps: list[tuple[dict[str, Any], StepBookkeeping]], messages: dict[str, dict[str, Any]], tools: Tools,
                 view: ItemView, skip_step: str | None = None) -> list[dict[str, Any]]:
    """The output of a response's run: its steps in order, each call as its plug-in shows it, each
    answer citing what the calls before it found (`skip_step`: the step seeded with its input)."""
    items: list[dict[str, Any]] = []
    calls: list[tuple[dict[str, Any], StepBookkeeping]] = []
    for step, books in steps:
        if step["id"] == skip_step:
            continue
        details = step["step_details"]
        if details["type"] == "message_creation":
            message = messages.get(details["message_creation"]["message_id"])
            if message is not None:
                items.append(message_item(message, tools.citing(list(calls))))
            continue
        calls += [(call, books) for call in tool_calls(step)]
        items += [item for _, _, item in call_items(step, books, tools, view)]
    return items


def calls_before(steps: Iterable[tuple[dict[str, Any], StepBookkeeping]], message_ids: set[str]
                 ) -> dict[str, list[tuple[dict[str, Any], StepBookkeeping]]]:
    """For each of a run's answers `message_ids`, the calls its run made before it (what `output_items`
    cites it with): `steps` oldest first, taken no further than the last of those answers."""
    before: dict[str, list[tuple[dict[str, Any], StepBookkeeping]]] = {}
    calls: list[tuple[dict[str, Any], StepBookkeeping]] = []
    for step, books in steps:
        details = step["step_details"]
        if details["type"] == "message_creation":
            if details["message_creation"]["message_id"] in message_ids:
                before[details["message_creation"]["message_id"]] = list(calls)
                if len(before) == len(message_ids):
                    break
            continue
        calls += [(call, books) for call in tool_calls(step)]
    return before


def usage(run_usage: dict[str, Any] | None) -> dict[str, Any] | None:
    if not run_usage:
        return None
    return {"input_tokens": run_usage.get("prompt_tokens", 0),
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": run_usage.get("completion_tokens", 0),
            "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": run_usage.get("total_tokens", 0)}


def _error(run: dict[str, Any]) -> dict[str, Any] | None:
    if run["status"] == run_machine.EXPIRED:
        return {"code": "server_error", "message": "The response expired before it finished."}
    error = run.get("last_error")
    if run["status"] != run_machine.FAILED or not error:
        return None
    code = error.get("code") if error.get("code") in ("rate_limit_exceeded", "invalid_prompt",
                                                      "context_length_exceeded") else "server_error"
    return {"code": code, "message": error.get("message") or ""}


def response_object(record: dict[str, Any], run: dict[str, Any], output: list[dict[str, Any]]) -> dict[str, Any]:
    """The `response` object: what was asked (`record`) joined with how its run went."""
    status = STATUS[run["status"]]
    incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
    conversation = {"id": record["conversation_id"]} if record.get("conversation_id") else None
    return {
        "id": record["id"], "object": "response", "created_at": record["created_at"], "status": status,
        "background": record["background"], "completed_at": run.get("completed_at"),
        "conversation": conversation, "error": _error(run), "incomplete_details": incomplete,
        "instructions": record.get("instructions"), "max_output_tokens": record.get("max_output_tokens"),
        "max_tool_calls": record.get("max_tool_calls"), "metadata": record.get("metadata") or {}, "model": record["model"],
        "output": output, "parallel_tool_calls": record["parallel_tool_calls"],
        "previous_response_id": record.get("previous_response_id"), "reasoning": record.get("reasoning") or {"effort": None, "summary": None},
        "prompt_cache_key": record.get("prompt_cache_key"), "safety_identifier": record.get("safety_identifier"),
        "service_tier": "default", "store": record["store"], "top_logprobs": record.get("top_logprobs") or 0,
        "temperature": record["temperature"] if record.get("temperature") is not None else 1.0,
        "text": record["text"], "tool_choice": record["tool_choice"], "tools": record["tools"],
        "top_p": record["top_p"] if record.get("top_p") is not None else 1.0,
        "truncation": record.get("truncation") or "disabled",
        "usage": usage(run.get("usage")) if status in TERMINAL else None, "user": record.get("user"),
    }


def response_deleted(response_id: str) -> dict[str, Any]:
    return {"id": response_id, "object": "response.deleted", "deleted": True}


# -- conversations -------------------------------------------------------------------


def conversation_object(thread: dict[str, Any]) -> dict[str, Any]:
    return {"id": thread["id"], "object": "conversation", "created_at": thread["created_at"],
            "metadata": thread.get("metadata") or {}}


def conversation_deleted(conversation_id: str) -> dict[str, Any]:
    return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}


def item_list(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": items, "first_id": items[0]["id"] if items else None,
            "last_id": items[-1]["id"] if items else None, "has_more": has_more}


__all__ = ["STATUS", "TERMINAL", "Cite", "call_item_id", "call_items", "calls_before", "item_id", "no_citations", "tool_calls", "conversation_deleted", "conversation_object", "function_call_item",
           "function_calls", "item_list", "message_item", "output_items", "output_text_part",
           "response_deleted", "response_object", "usage"]
