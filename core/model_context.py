"""Build the Chat Completions request for one model turn, and keep it inside its budget.

Instructions: the run's `instructions` replace the assistant's, and
`additional_instructions` are appended. History: the thread's messages, oldest
first, then the tool calls and outputs of the run so far. Truncation applies
`last_messages` first, then drops the oldest messages until the estimated
prompt fits `max_prompt_tokens`. Token counts are a deliberately conservative
estimate — a token per three ASCII characters, and per two UTF-8 bytes of anything
else (CJK, emoji), plus per-message overhead — so that a prompt we judge to fit
really does, whatever the model's tokenizer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 3
UTF8_BYTES_PER_TOKEN = 2
TOKENS_PER_MESSAGE = 6


def estimate_tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    ascii_chars = sum(1 for char in text if char < "\x80")
    other_bytes = len(text.encode("utf-8")) - ascii_chars
    return -(-ascii_chars // CHARS_PER_TOKEN) + -(-other_bytes // UTF8_BYTES_PER_TOKEN)


def message_tokens(message: dict[str, Any]) -> int:
    return TOKENS_PER_MESSAGE + estimate_tokens(message.get("content") or "") + estimate_tokens(
        message.get("tool_calls") or "")


def instructions_for(assistant: dict[str, Any], run: dict[str, Any]) -> str:
    base = run.get("instructions")
    if base is None:
        base = assistant.get("instructions") or ""
    extra = run.get("additional_instructions")
    return f"{base}\n\n{extra}".strip() if extra else base


def message_text(message: dict[str, Any]) -> str:
    """The text a model sees for a stored thread message (text parts; other parts as notes)."""
    parts = []
    for part in message.get("content") or []:
        if part.get("type") == "text":
            parts.append(part["text"]["value"])
        elif part.get("type") == "image_file":
            parts.append(f"[image file {part['image_file']['file_id']}]")
        elif part.get("type") == "image_url":
            parts.append(f"[image {part['image_url']['url']}]")
    return "\n".join(parts)


def chat_message(message: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant" if message["role"] == "assistant" else "user", "content": message_text(message)}


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, Any]]
    estimated_tokens: int
    dropped_messages: int


class PromptTooLarge(Exception):
    """Even the newest message does not fit max_prompt_tokens."""


def build_prompt(*, instructions: str, thread_messages: list[dict[str, Any]], run_turns: list[dict[str, Any]],
                 tools: list[dict[str, Any]], truncation: dict[str, Any] | None,
                 max_prompt_tokens: int | None) -> Prompt:
    """The messages for one turn: system, thread history (truncated), this run's tool exchanges.

    `thread_messages` are stored messages oldest first; `run_turns` are chat messages
    (assistant tool_calls and tool outputs) already produced in this run.
    """
    history = [chat_message(m) for m in thread_messages]
    if truncation and truncation.get("type") == "last_messages" and truncation.get("last_messages") is not None:
        keep = int(truncation["last_messages"])
        history = history[len(history) - keep:] if keep < len(history) else history
    system = [{"role": "system", "content": instructions}] if instructions else []
    fixed = sum(message_tokens(m) for m in system + run_turns) + (estimate_tokens(tools) if tools else 0)
    sizes = [message_tokens(m) for m in history]
    total = fixed + sum(sizes)
    dropped = len(thread_messages) - len(history)
    if max_prompt_tokens is not None:
        while history and total > max_prompt_tokens and len(history) > 1:
            total -= sizes.pop(0)
            history.pop(0)
            dropped += 1
        if total > max_prompt_tokens:
            raise PromptTooLarge(f"the prompt needs about {total} tokens; max_prompt_tokens is {max_prompt_tokens}")
    return Prompt(system + history + run_turns, total, dropped)
