"""The script: what the stand-in model answers next, and what it was asked.

Pure logic with no I/O, so tests and the HTTP shell share one definition of a reply.
A reply spec is a plain JSON dict (it travels over the control endpoints):

    {"content": "text"}                                   plain answer
    {"tool_calls": [{"name": "f", "arguments": {...}}]}   tool calls (optional "id")
    {"error": {"status": 429, "retry_after": 1.5}}        an HTTP fault instead of an answer
    plus optional "finish_reason", "latency_ms", "usage" and "match".

Streamed answers (`stream=True`) can be paced like a real model: "first_token_ms"
(headers and the role chunk come at once, the first content or tool-call piece
this much later), "piece_ms" (the spacing of every later piece) and "pieces"
(how many pieces the text is cut into at word starts; default a few).

A reply with "match" is kept aside and given only to a request whose last user message
contains that substring; that is how many concurrent runs each get their own answer.
"""

from __future__ import annotations

import collections
import threading
from typing import Any

FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter")
_REPLY_KEYS = {"content", "tool_calls", "finish_reason", "latency_ms", "error", "usage", "match",
               "first_token_ms", "piece_ms", "pieces"}
_USAGE_KEYS = {"prompt_tokens", "completion_tokens", "total_tokens"}


def reply_text(content: str, **options: Any) -> dict:
    """A reply spec answering with text; options are the other spec keys (match, latency_ms, ...)."""
    return validate_reply({"content": content, **options})


def reply_tool_calls(calls: list[dict], content: str | None = None, **options: Any) -> dict:
    """A reply spec calling tools: each call is {"name", "arguments" (dict or str), optional "id"}."""
    spec = {"tool_calls": calls, **options}
    if content is not None:
        spec["content"] = content
    return validate_reply(spec)


def reply_error(status: int, retry_after: float | None = None, message: str | None = None,
                **options: Any) -> dict:
    """A reply spec failing with an HTTP status, e.g. 429 with Retry-After, or 500/503."""
    error: dict[str, Any] = {"status": status}
    if retry_after is not None:
        error["retry_after"] = retry_after
    if message is not None:
        error["message"] = message
    return validate_reply({"error": error, **options})


def validate_reply(spec: Any) -> dict:
    """Check a reply spec and return it; raises ValueError so a typo fails the test that made it."""
    if not isinstance(spec, dict):
        raise ValueError(f"a reply spec must be an object, got {type(spec).__name__}")
    unknown = set(spec) - _REPLY_KEYS
    if unknown:
        raise ValueError(f"unknown reply keys {sorted(unknown)}; allowed: {sorted(_REPLY_KEYS)}")
    if "content" in spec and not isinstance(spec["content"], (str, type(None))):
        raise ValueError("content must be a string")
    for call in spec.get("tool_calls") or []:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ValueError("each tool call needs a string 'name'")
        if not isinstance(call.get("arguments", {}), (dict, str)):
            raise ValueError("tool call arguments must be a dict or a JSON string")
        if set(call) - {"name", "arguments", "id"}:
            raise ValueError("a tool call has only 'name', 'arguments' and 'id'")
    if spec.get("finish_reason") not in (None, *FINISH_REASONS):
        raise ValueError(f"finish_reason must be one of {FINISH_REASONS}")
    for key in ("latency_ms", "first_token_ms", "piece_ms"):
        _check_number(spec, key)
    pieces = spec.get("pieces")
    if pieces is not None and (isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 1):
        raise ValueError("pieces must be a positive integer")
    if "error" in spec:
        error = spec["error"]
        if not isinstance(error, dict) or not isinstance(error.get("status"), int) \
                or not 400 <= error["status"] <= 599:
            raise ValueError("error needs an integer 'status' between 400 and 599")
        _check_number(error, "retry_after")
    if "usage" in spec and (not isinstance(spec["usage"], dict) or set(spec["usage"]) - _USAGE_KEYS):
        raise ValueError(f"usage may only set {sorted(_USAGE_KEYS)}")
    if "match" in spec and not (isinstance(spec["match"], str) and spec["match"]):
        raise ValueError("match must be a non-empty string")
    return spec


def _check_number(spec: dict, key: str) -> None:
    value = spec.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
        raise ValueError(f"{key} must be a non-negative number")


def message_text(message: dict) -> str:
    """The text of a chat message, whether content is a string or a list of content parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content
                         if isinstance(part, dict) and part.get("type") == "text")
    return ""


def last_user_text(messages: list[dict]) -> str:
    """The text of the last user message, which is what match routing looks at."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message)
    return ""


def echo_reply(messages: list[dict]) -> dict:
    """The unscripted answer: repeat the input so nobody mistakes this for a model."""
    trailing_tools = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        trailing_tools.insert(0, message_text(message))
    if trailing_tools:
        return {"content": "Tool results: " + "; ".join(trailing_tools)}
    return {"content": "Echo: " + last_user_text(messages)}


class Script:
    """Queued replies, recorded requests and defaults; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matched: list[dict] = []
        self._fifo: collections.deque[dict] = collections.deque()
        self._requests: list[dict] = []
        self._received = 0
        self._default_latency_ms: float = 0
        self._sent: list[tuple[str, str, float]] = []

    def enqueue(self, replies: list[dict]) -> int:
        """Add replies (all validated first, so a bad one adds none); returns how many are pending."""
        checked = [validate_reply(reply) for reply in replies]
        with self._lock:
            for reply in checked:
                (self._matched if "match" in reply else self._fifo).append(reply)
            return len(self._matched) + len(self._fifo)

    def count_received(self) -> None:
        """Count a completion request, including ones rejected before reaching the script."""
        with self._lock:
            self._received += 1

    def take(self, body: dict) -> dict:
        """Record a completion request and return the reply it gets, with latency resolved."""
        messages = body.get("messages") or []
        user_text = last_user_text(messages)
        with self._lock:
            self._requests.append(body)
            reply = next((r for r in self._matched if r["match"] in user_text), None)
            if reply is not None:
                self._matched.remove(reply)
            elif self._fifo:
                reply = self._fifo.popleft()
            else:
                reply = echo_reply(messages)
            default_latency = self._default_latency_ms
        return {"latency_ms": default_latency, **{k: v for k, v in reply.items() if v is not None}}

    def note_sent(self, completion_id: str, piece: str, at: float) -> None:
        """Record when a streamed text piece left the server (benchmarks measure lag from here)."""
        with self._lock:
            self._sent.append((completion_id, piece, at))

    def sent(self) -> list[tuple[str, str, float]]:
        """(completion id, text piece, wall-clock time) of every streamed text piece, in order."""
        with self._lock:
            return list(self._sent)

    def requests(self) -> list[dict]:
        """Every recorded completion request body, oldest first."""
        with self._lock:
            return list(self._requests)

    def state(self) -> dict:
        """Counters for assertions such as 'every scripted reply was used'."""
        with self._lock:
            return {"received": self._received, "pending": len(self._matched) + len(self._fifo),
                    "default_latency_ms": self._default_latency_ms}

    def set_default(self, latency_ms: float | None = None) -> None:
        """Set the latency every reply without its own latency_ms waits before answering."""
        _check_number({"latency_ms": latency_ms}, "latency_ms")
        with self._lock:
            self._default_latency_ms = latency_ms or 0

    def reset(self) -> None:
        """Forget queued replies, recorded requests, counters and defaults."""
        with self._lock:
            self._matched.clear()
            self._fifo.clear()
            self._requests.clear()
            self._sent.clear()
            self._received = 0
            self._default_latency_ms = 0
