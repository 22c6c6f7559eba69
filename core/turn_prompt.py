"""One model turn's context as the run engine sends it: the history the model may see, the tools it is
offered, the prompt's messages.

The turn activity (activities.runs.run_model_turn) builds every turn with these functions, and
counting a response's input tokens (api.response_runs.count_input_tokens) builds the turn a new
response's first model call would be, with the same ones — so a count is what a run would send.
The registry of tool plug-ins is handed in (tools.plugins.TOOLS), as to core.chat_turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from core import chat_turns
from core.model_context import Attachments, Prompt, build_prompt, message_text
from core.run_bookkeeping import StepBookkeeping
from core.tokens import Counter
from core.tool_plugins import ToolPlugin, Tools, TurnContext

# Without max_prompt_tokens, history is read back until about this many tokens.
DEFAULT_HISTORY_TOKENS = 120_000


def visible_history(newest_first: Iterable[dict], run: dict, count: Counter) -> list[dict]:
    """The thread's messages (`newest_first`) the model may see, until the budget is met; oldest first."""
    truncation = run.get("truncation_strategy") or {}
    keep = truncation.get("last_messages") if truncation.get("type") == "last_messages" else None
    budget = run.get("max_prompt_tokens") or DEFAULT_HISTORY_TOKENS
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
    offered: list[dict]  # the tool definitions the model is offered


def turn_tools(registry: Tools, context: TurnContext) -> TurnTools:
    enabled = registry.enabled(context.run)
    resources = {tool.kind: tool.resources(context) for tool in enabled}
    kept = {name: value for tool in enabled for name, value in tool.run_books(resources[tool.kind]).items()}
    return TurnTools(enabled, resources, kept, chat_turns.offered_tools(enabled, context.run, resources))


def turn_prompt(run: dict, history: list[dict], steps: list[tuple[dict, StepBookkeeping]], offered: list[dict],
                registry: Tools, count: Counter, files: Attachments | None) -> Prompt:
    """The turn's messages within the run's budget (raises model_context.PromptTooLarge)."""
    return build_prompt(instructions=run.get("instructions") or "", thread_messages=history,
                        run_turns=chat_turns.run_turns(steps, registry), tools=offered,
                        truncation=run.get("truncation_strategy"), max_prompt_tokens=run.get("max_prompt_tokens"),
                        count=count, files=files)
