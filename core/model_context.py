"""Build the Chat Completions request for one model turn, and keep it inside its budget.

Instructions: the run's `instructions` replace the assistant's, and
`additional_instructions` are appended. History: the thread's messages, oldest
first, then the tool calls and outputs of the run so far. Truncation applies
`last_messages` first, then drops the oldest messages until the estimated
prompt fits `max_prompt_tokens`. Tokens are counted with the model's tokenizer
where core.tokens can provide it, else with its conservative estimate, plus a
per-message overhead — so that a prompt we judge to fit really does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.tokens import Counter, estimate_tokens, text_of

TOKENS_PER_MESSAGE = 6


def message_tokens(message: dict[str, Any], count: Counter = estimate_tokens) -> int:
    return (TOKENS_PER_MESSAGE + count(text_of(message.get("content") or ""))
            + count(text_of(message.get("tool_calls") or "")))


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
                 max_prompt_tokens: int | None, count: Counter = estimate_tokens) -> Prompt:
    """The messages for one turn: system, thread history (truncated), this run's tool exchanges.

    `thread_messages` are stored messages oldest first; `run_turns` are chat messages
    (assistant tool_calls and tool outputs) already produced in this run.
    """
    history = [chat_message(m) for m in thread_messages]
    if truncation and truncation.get("type") == "last_messages" and truncation.get("last_messages") is not None:
        keep = int(truncation["last_messages"])
        history = history[len(history) - keep:] if keep < len(history) else history
    system = [{"role": "system", "content": instructions}] if instructions else []
    fixed = sum(message_tokens(m, count) for m in system + run_turns) + (count(text_of(tools)) if tools else 0)
    sizes = [message_tokens(m, count) for m in history]
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
