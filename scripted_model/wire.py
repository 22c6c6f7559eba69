"""OpenAI Chat Completions wire shapes built from a reply spec.

Kept apart from the HTTP server so the exact JSON the SDK parses is visible in one place:
`chat.completion` objects, `chat.completion.chunk` streams and the error envelope.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
import uuid

from .script import message_text

CHARS_PER_TOKEN = 4
_MESSAGE_OVERHEAD_TOKENS = 4
DEFAULT_PIECES = 4


def estimate_tokens(text: str) -> int:
    """A deterministic rough token count (~4 characters per token); no tokenizer offline."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(body: dict) -> int:
    """Rough prompt size: each message's text and tool calls plus a fixed overhead, plus the tools."""
    total = 0
    for message in body.get("messages") or []:
        total += _MESSAGE_OVERHEAD_TOKENS + estimate_tokens(message_text(message))
        if message.get("tool_calls"):
            total += estimate_tokens(json.dumps(message["tool_calls"]))
    if body.get("tools"):
        total += estimate_tokens(json.dumps(body["tools"]))
    return total


@dataclasses.dataclass
class Answer:
    """One resolved model answer: what both the plain and the streamed shapes are built from."""

    id: str
    created: int
    model: str
    content: str | None
    tool_calls: list[dict]
    finish_reason: str
    usage: dict


def resolve(reply: dict, body: dict, model: str) -> Answer:
    """Turn a (non-error) reply spec into an answer for this request.

    A request's max_completion_tokens / max_tokens is honoured as a model would: an answer
    longer than the budget is cut to it, loses its tool calls and finishes with "length".
    """
    content = reply.get("content")
    tool_calls = [_tool_call(call) for call in reply.get("tool_calls") or []]
    finish_reason = reply.get("finish_reason") or ("tool_calls" if tool_calls else "stop")
    completion = _completion_tokens(content, tool_calls)
    budget = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(budget, int) and completion > budget and "finish_reason" not in reply:
        content = (content or "")[: budget * CHARS_PER_TOKEN]
        tool_calls, finish_reason = [], "length"
        completion = _completion_tokens(content, tool_calls)
    usage = {"prompt_tokens": prompt_tokens(body), "completion_tokens": completion}
    usage.update(reply.get("usage") or {})
    usage.setdefault("total_tokens", usage["prompt_tokens"] + usage["completion_tokens"])
    if content is None and not tool_calls:
        content = ""
    return Answer(id="chatcmpl-" + uuid.uuid4().hex[:29], created=int(time.time()), model=model,
                  content=content, tool_calls=tool_calls, finish_reason=finish_reason, usage=usage)


def _tool_call(call: dict) -> dict:
    arguments = call.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {"id": call.get("id") or "call_" + uuid.uuid4().hex[:24], "type": "function",
            "function": {"name": call["name"], "arguments": arguments}}


def _completion_tokens(content: str | None, tool_calls: list[dict]) -> int:
    return estimate_tokens(content or "") + sum(
        estimate_tokens(call["function"]["name"]) + estimate_tokens(call["function"]["arguments"])
        for call in tool_calls)


def _usage_object(usage: dict) -> dict:
    return {**usage,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0,
                                          "rejected_prediction_tokens": 0}}


def completion(answer: Answer) -> dict:
    """The non-streaming `chat.completion` object."""
    message = {"role": "assistant", "content": answer.content, "refusal": None, "annotations": []}
    if answer.tool_calls:
        message["tool_calls"] = answer.tool_calls
    return {"id": answer.id, "object": "chat.completion", "created": answer.created,
            "model": answer.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": answer.finish_reason}],
            "usage": _usage_object(answer.usage), "service_tier": "default",
            "system_fingerprint": None}


def split_content(text: str, pieces: int = DEFAULT_PIECES) -> list[str]:
    """Cut text at word starts into at most `pieces` pieces that join back to exactly the text."""
    words = [word for word in re.split(r"(?<=\s)(?=\S)", text) if word]
    if len(words) <= 1:
        return words
    size = math.ceil(len(words) / pieces)
    return ["".join(words[i:i + size]) for i in range(0, len(words), size)]


def chunks(answer: Answer, include_usage: bool, pieces: int = DEFAULT_PIECES) -> list[dict]:
    """The `chat.completion.chunk` stream, in the order OpenAI sends it (without `[DONE]`).

    Role first, then content pieces, then per tool call its id and name followed by its
    arguments in two pieces, then the finish reason; with include_usage every chunk carries
    `usage: null` and a last chunk with no choices carries the usage.
    """
    deltas: list[dict] = [{"role": "assistant", "content": "", "refusal": None}]
    deltas += [{"content": piece} for piece in split_content(answer.content or "", pieces)]
    for index, call in enumerate(answer.tool_calls):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        deltas.append({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                       "function": {"name": call["function"]["name"],
                                                    "arguments": ""}}]})
        deltas += [{"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                   for piece in (arguments[:half], arguments[half:]) if piece]
    choices = [[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]
               for delta in deltas]
    choices.append([{"index": 0, "delta": {}, "logprobs": None,
                     "finish_reason": answer.finish_reason}])
    if include_usage:
        choices.append([])
    result = []
    for chunk_choices in choices:
        chunk = {"id": answer.id, "object": "chat.completion.chunk", "created": answer.created,
                 "model": answer.model, "choices": chunk_choices, "service_tier": "default",
                 "system_fingerprint": None}
        if include_usage:
            chunk["usage"] = None if chunk_choices else _usage_object(answer.usage)
        result.append(chunk)
    return result


def error_body(status: int, message: str | None = None) -> dict:
    """OpenAI's error envelope, with the type and code OpenAI uses for the status."""
    if status == 429:
        kind, code = "requests", "rate_limit_exceeded"
        default = "Rate limit reached (scripted model). Please retry after the indicated time."
    elif status >= 500:
        kind, code = "server_error", None
        default = "The server had an error while processing your request (scripted model)."
    else:
        kind, code = "invalid_request_error", None
        default = "Invalid request (scripted model)."
    return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}


EMBEDDING_DIMENSIONS = 8


def embedding(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """A deterministic unit vector for a text (same text, same vector); no meaning, only stable shape."""
    import hashlib

    raw = []
    counter = 0
    while len(raw) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        raw.extend((byte - 127.5) / 127.5 for byte in digest)
        counter += 1
    vector = raw[:dimensions]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def embeddings(inputs: list, model: str, dimensions: int = EMBEDDING_DIMENSIONS) -> dict:
    """An OpenAI `list` of `embedding` objects for each input (strings, or token arrays as text)."""
    data = [{"object": "embedding", "index": i, "embedding": embedding(json.dumps(item), dimensions)}
            for i, item in enumerate(inputs)]
    tokens = sum(estimate_tokens(json.dumps(item)) for item in inputs)
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
