"""One model turn's context as the run engine sends it: the history the model may see, the tools it is
offered, the prompt's messages.

The turn activity (activities.runs.run_model_turn) builds every turn with these functions, and
counting a response's input tokens (usecases.response_tokens.count_input_tokens) builds the turn a new
response's first model call would be, with the same ones — so a count is what a run would send.
The registry of tool plug-ins is handed in (tools.plugins.TOOLS), as to core.chat_turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from core import chat_turns, settings
from core.model_context import Attachments, Prompt, build_prompt, chat_message, message_text, message_tokens
from core.run_bookkeeping import RunBookkeeping, StepBookkeeping
from core.tokens import Counter
from core.tool_plugins import ToolPlugin, Tools, TurnContext

# Without max_prompt_tokens, history is read back until about this many tokens (MODEL_CONTEXT_TOKENS's default).
DEFAULT_HISTORY_TOKENS = 120_000
CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"  # the 400 a create whose input does not fit answers
# A background response whose prompt does not fit has no create left to answer 400: it fails. The SDK's
# ResponseError.code is a closed list without context_length_exceeded; "invalid_prompt" is its code for a
# prompt the model could not be asked with, the closest honest one (the message names the window).
REFUSED_PROMPT = "invalid_prompt"


def context_window() -> int:
    """The model's context window as this deployment assumes it (MODEL_CONTEXT_TOKENS)."""
    return int(settings.get("MODEL_CONTEXT_TOKENS") or DEFAULT_HISTORY_TOKENS)


def context_overflow(truncation: str | None, prompt_tokens: int, window: int) -> str | None:
    """Whether a turn's prompt may go to the model: None when it may, else the error the run fails with.

    A response's `truncation` "disabled" (OpenAI's default) never trims: a prompt over the window is
    refused (a 400 at create, or a failed background response). "auto", and every Assistants run (None: their
    truncation_strategy), trims the oldest history instead (visible_history), so is never refused here."""
    if truncation != "disabled" or prompt_tokens <= window:
        return None
    return exceeded_message(window, prompt_tokens)


def input_overflow(truncation: str | None, instructions: str, messages: list[dict[str, Any]], count: Counter,
                   window: int) -> str | None:
    """context_overflow for a new response's instructions and text-only input `messages` alone, which the
    create can tell before storing anything: their tokens, as build_prompt counts them, are part of every
    prompt its run's first turn could build (history, tools and files only add), so an input refused
    here would be refused there."""
    system = [{"role": "system", "content": instructions}] if instructions else []
    needed = sum(message_tokens(message, count) for message in system + [chat_message(m) for m in messages])
    return context_overflow(truncation, needed, window)


def exceeded_message(window: int, prompt_tokens: int | None = None) -> str:
    needed = f"{prompt_tokens} tokens needed, " if prompt_tokens is not None else ""
    return (f"Your input exceeds the context window of this model ({needed}about {window} available). "
            "Please adjust your input and try again, or create the response with truncation 'auto'.")


def prompt_limit(truncation: str | None, max_prompt_tokens: int | None, window: int) -> int | None:
    """The tokens a turn's prompt is trimmed to (oldest history first): a run's max_prompt_tokens; a
    response with truncation "auto" (which has none) fits the model's window. None: no trimming past
    visible_history's (an Assistants run without max_prompt_tokens, as before; "disabled" never trims)."""
    if truncation == "auto" and max_prompt_tokens is None:
        return window
    return max_prompt_tokens


def visible_history(newest_first: Iterable[dict[str, Any]], run: dict[str, Any], count: Counter,
                    window: int = DEFAULT_HISTORY_TOKENS) -> list[dict[str, Any]]:
    """The thread's messages (`newest_first`) the model may see, until the budget is met; oldest first.
    The budget is max_prompt_tokens, else the model's context `window`; with truncation "disabled" the
    reading stops past it too, and context_overflow refuses the prompt."""
    truncation = run.get("truncation_strategy") or {}
    keep = truncation.get("last_messages") if truncation.get("type") == "last_messages" else None
    budget = run.get("max_prompt_tokens") or window
    kept, used = [], 0
    for message in newest_first:
        if message.get("run_id") == run["id"] and message["role"] == "assistant":
            continue  # this run's own partial output is not context
        kept.append(message)
        used += count(message_text(message))
        if (keep is not None and len(kept) >= keep) or used > budget:
            break
    return kept[::-1]


@dataclass(frozen=True)
class TurnTools:
    """What the run's enabled tool plug-ins bring to a turn."""

    enabled: list[ToolPlugin]
    resources: dict[str, Any]  # by kind: what each plug-in read for the turn (files, server tools' schemas)
    kept: dict[str, Any]  # what the plug-ins keep in the run's bookkeeping from this turn
    offered: list[dict[str, Any]]  # the tool definitions the model is offered
    choice: Any  # the tool_choice the model is asked with (chat_turns.tool_choice)


def turn_tools(registry: Tools, context: TurnContext) -> TurnTools:
    enabled = registry.enabled(context.run)
    resources = {tool.kind: tool.resources(context) for tool in enabled}
    kept = {name: value for tool in enabled for name, value in tool.run_books(resources[tool.kind]).items()}
    by_kind = chat_turns.offered_by_kind(enabled, context.run, resources)
    return TurnTools(enabled, resources, kept, [definition for offered in by_kind.values() for definition in offered],
                     chat_turns.tool_choice(context.run, by_kind))


def turn_prompt(run: dict[str, Any], history: list[dict[str, Any]], steps: list[tuple[dict[str, Any], StepBookkeeping]],
                offered: list[dict[str, Any]], registry: Tools, count: Counter, files: Attachments | None,
                truncation: str | None = None, window: int = DEFAULT_HISTORY_TOKENS,
                earlier: Iterable[tuple[dict[str, Any], StepBookkeeping]] = ()) -> Prompt:
    """The turn's messages within the run's budget (raises model_context.PromptTooLarge); `truncation` is
    a response's (RunBookkeeping.truncation), `window` the model's context (context_window()); `earlier`:
    the steps of earlier runs whose tool exchanges the model reads (earlier_runs_to_replay)."""
    return build_prompt(instructions=run.get("instructions") or "", thread_messages=history,
                        run_turns=chat_turns.run_turns(steps, registry), tools=offered,
                        truncation=run.get("truncation_strategy"),
                        max_prompt_tokens=prompt_limit(truncation, run.get("max_prompt_tokens"), window),
                        count=count, files=files, earlier_turns=chat_turns.step_exchanges(list(earlier), registry))


# A response replays the tool calls of at most this many earlier runs in its history (each costs a read).
MAX_REPLAYED_RUNS = 20


def earlier_runs_to_replay(run: dict[str, Any], books: RunBookkeeping, history: list[dict[str, Any]]) -> list[str]:
    """The earlier runs whose tool exchanges the turn's model reads: for a response, those that answered
    in its visible history, newest first (at most MAX_REPLAYED_RUNS); for an Assistants run, none."""
    if not books.replays_tool_calls:
        return []
    answered = [message["run_id"] for message in reversed(history)
                if message.get("run_id") and message["run_id"] != run["id"]]
    return list(dict.fromkeys(answered))[:MAX_REPLAYED_RUNS]
