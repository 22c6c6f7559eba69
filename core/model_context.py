"""Build the Chat Completions request for one model turn, and keep it inside its budget.

Instructions: the run's `instructions` replace the assistant's, and
`additional_instructions` are appended. History: the thread's messages, oldest
first, then the tool calls and outputs of the run so far. Truncation applies
`last_messages` first, then drops the oldest messages until the estimated
prompt fits `max_prompt_tokens`. Tokens are counted with the model's tokenizer
where core.tokens can provide it, else with its conservative estimate, plus a
per-message overhead — so that a prompt we judge to fit really does.

Images reach the model as Chat Completions image parts: an `image_url` part as given, an
`image_file` part as the URL `Attachments.image_url` gives for its file (a data URL of its bytes),
and count as OpenAI's rate for an image of 1024×1024 (`low` detail: its flat 85). A message's
attachments without tools (what a Responses `input_file` becomes) are read to the model: their
text, from `Attachments.file_text`, follows the message's own text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from core import ids
from core.tokens import Counter, estimate_tokens, text_of

TOKENS_PER_MESSAGE = 6
IMAGE_TOKENS = 765  # OpenAI's count for a 1024x1024 image at high detail (85 + 4 tiles of 170)
LOW_DETAIL_IMAGE_TOKENS = 85


class Attachments(Protocol):
    """What the model is given of a message's files (core.message_files reads them)."""

    def image_url(self, file_id: str) -> str | None:
        """The URL (a data URL) the model reads an image file from; None when it cannot be had."""

    def file_text(self, file_id: str) -> str | None:
        """An attached file's text as the model reads it (headed by the file's name, bounded); None when
        it has none to give."""


def content_tokens(content: Any, count: Counter = estimate_tokens) -> int:
    """Tokens of a chat message's content: text parts as text, image parts at OpenAI's image rate."""
    if not isinstance(content, list):
        return count(text_of(content or ""))
    total = 0
    for part in content:
        if part.get("type") == "image_url":
            low = (part.get("image_url") or {}).get("detail") == "low"
            total += LOW_DETAIL_IMAGE_TOKENS if low else IMAGE_TOKENS
        else:
            total += count(text_of(part.get("text") or ""))
    return total


def message_tokens(message: dict[str, Any], count: Counter = estimate_tokens) -> int:
    return (TOKENS_PER_MESSAGE + content_tokens(message.get("content"), count)
            + count(text_of(message.get("tool_calls") or "")))


def instructions_for(assistant: dict[str, Any], run: dict[str, Any]) -> str:
    base = run.get("instructions")
    if base is None:
        base = assistant.get("instructions") or ""
    extra = run.get("additional_instructions")
    return f"{base}\n\n{extra}".strip() if extra else base


def message_text(message: dict[str, Any]) -> str:
    """The text of a stored thread message (its text parts)."""
    return "\n".join(part["text"]["value"] for part in message.get("content") or [] if part.get("type") == "text")


def _read_files(message: dict[str, Any], files: Attachments | None) -> list[str]:
    """The text of the message's attachments without tools (each headed by its name, see Attachments)."""
    if files is None or message["role"] == "assistant":
        return []
    read = []
    for attachment in message.get("attachments") or []:
        if not attachment.get("tools"):
            text = files.file_text(attachment["file_id"])
            read.append(text if text is not None else f"[file {attachment['file_id']} could not be read]")
    return read


def chat_content(message: dict[str, Any], files: Attachments | None = None) -> str | list[dict[str, Any]]:
    """A stored message's content as Chat Completions reads it: a string when it is text only, else
    parts in order (images as image_url parts; an image file the model cannot have, as a note)."""
    parts: list[dict[str, Any]] = []
    for part in message.get("content") or []:
        kind = part.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": part["text"]["value"]})
        elif kind == "image_url":
            parts.append({"type": "image_url", "image_url": {"url": part["image_url"]["url"],
                                                             "detail": part["image_url"].get("detail", "auto")}})
        elif kind == "image_file":
            file_id = part["image_file"]["file_id"]
            url = files.image_url(file_id) if files is not None else None
            parts.append({"type": "image_url", "image_url": {"url": url, "detail": part["image_file"].get(
                "detail", "auto")}} if url else {"type": "text", "text": f"[image file {file_id} is not available]"})
    parts += [{"type": "text", "text": text} for text in _read_files(message, files)]
    if all(part["type"] == "text" for part in parts):
        return "\n".join(part["text"] for part in parts)
    return parts


def chat_message(message: dict[str, Any], files: Attachments | None = None) -> dict[str, Any]:
    return {"role": "assistant" if message["role"] == "assistant" else "user", "content": chat_content(message, files)}


@dataclass(frozen=True)
class Prompt:
    """A turn's Chat Completions messages as cut to fit, and their estimated size (for the context-window check)."""

    messages: list[dict[str, Any]]
    estimated_tokens: int
    dropped_messages: int


class PromptTooLarge(Exception):
    """Even the newest message does not fit max_prompt_tokens."""


def build_prompt(*, instructions: str, thread_messages: list[dict[str, Any]], run_turns: list[dict[str, Any]],
                 tools: list[dict[str, Any]], truncation: dict[str, Any] | None,
                 max_prompt_tokens: int | None, count: Counter = estimate_tokens,
                 files: Attachments | None = None, earlier_turns: Sequence[tuple[str, list[dict[str, Any]]]] = ()
                 ) -> Prompt:
    """The messages for one turn: system, thread history (truncated), this run's tool exchanges.

    `thread_messages` are stored messages oldest first; `run_turns` are chat messages
    (assistant tool_calls and tool outputs) already produced in this run; `files` gives the model
    the messages' image files and attached files (without it: text and image URLs only).
    `earlier_turns`: tool exchanges of earlier runs, each with the id of its step (ids sort by time), each
    placed before the first message made after it and dropped with that message (a call and its output
    are never parted, which Chat Completions refuses).
    """
    history = _grouped(thread_messages, earlier_turns, files)
    if truncation and truncation.get("type") == "last_messages" and truncation.get("last_messages") is not None:
        keep = int(truncation["last_messages"])
        history = history[len(history) - keep:] if keep < len(history) else history
    system = [{"role": "system", "content": instructions}] if instructions else []
    fixed = sum(message_tokens(m, count) for m in system + run_turns) + (count(text_of(tools)) if tools else 0)
    sizes = [sum(message_tokens(m, count) for m in group) for group in history]
    total = fixed + sum(sizes)
    dropped = len(thread_messages) - len(history)
    if max_prompt_tokens is not None:
        while history and total > max_prompt_tokens and len(history) > 1:
            total -= sizes.pop(0)
            history.pop(0)
            dropped += 1
        if total > max_prompt_tokens:
            raise PromptTooLarge(f"the prompt needs about {total} tokens; max_prompt_tokens is {max_prompt_tokens}")
    return Prompt(system + [message for group in history for message in group] + run_turns, total, dropped)


def _grouped(thread_messages: list[dict[str, Any]], earlier_turns: Sequence[tuple[str, list[dict[str, Any]]]],
             files: Attachments | None) -> list[list[dict[str, Any]]]:
    """One group of chat messages per thread message: the message, after the earlier tool exchanges that
    came before it (and after the one before it); exchanges after the last message join its group."""
    pending = sorted(((ids.body(step_id), turns) for step_id, turns in earlier_turns), key=lambda exchange: exchange[0])
    groups: list[list[dict[str, Any]]] = []
    for message in thread_messages:
        group: list[dict[str, Any]] = []
        while pending and pending[0][0] < ids.body(message["id"]):
            group += pending.pop(0)[1]
        groups.append([*group, chat_message(message, files)])
    if groups and pending:
        groups[-1] += [turn for _, turns in pending for turn in turns]
    return groups
