"""POST /v1/responses/input_tokens: the tokens a response's first model call would be sent.

Counted on the prompt the run engine would build (core.turn_prompt, the functions every model turn
uses): the same placement (conversation, previous response, a branch's copied history), the same
input read as create reads it (usecases.response_runs.read_input, images and files included), the same
instructions, tools and truncation, with the model's tokenizer (core.tokens) — so the count is
the prompt's own estimate a run would check against its budget. Nothing is stored: the new input
is counted as the messages it would become, and inline files by the text they would give.
"""

from __future__ import annotations

from itertools import chain

from core import ids, run_machine, tokens
from core.run_bookkeeping import RunBookkeeping, StepBookkeeping
from core.tool_plugins import TurnContext
from core.turn_prompt import context_window, earlier_runs_to_replay, turn_prompt, turn_tools, visible_history
from core.wire.messages import new_message
from core.wire.response_tools import run_options
from core.wire.responses import InputTokensCount
from core.wire.runs import new_step
from tools.plugins import TOOLS
from usecases import services
from usecases.response_media import CountedFiles, MediaReader
from usecases.response_runs import _run_record, place, read_input


def input_tokens_object(count: int) -> dict:
    return {"object": "response.input_tokens", "input_tokens": count}


def count_input_tokens(principal: str, asked: InputTokensCount) -> int:
    body = asked.as_create()
    placement = place(principal, body)
    media = MediaReader(principal)
    given = read_input(body, placement, media)
    created_at = services.now()
    thread_id = placement.thread_id or ids.new_id("thread")
    run = _run_record(ids.new_id("run"), thread_id, created_at, body, given)
    new = [new_message(ids.new_id("message"), thread_id, created_at, message) for message in given.messages]
    if placement.thread_id is not None:
        stored = services.runs().messages.newest_first(placement.thread_id)
    else:
        stored = iter(placement.copied[::-1])
    count = tokens.counter_for(asked.model or "")
    history = visible_history(chain(new[::-1], stored), run, count, context_window())
    steps = [(new_step(run, ids.new_id("step"), created_at, run_machine.COMPLETED,
                       {"type": "tool_calls", "tool_calls": given.seeded_calls}, None), StepBookkeeping())] \
        if given.seeded_calls else []
    books = RunBookkeeping(seeded_steps=bool(steps), response_tools=run_options(body.tools or []),
                           replays_tool_calls=True)
    brought = turn_tools(TOOLS, TurnContext(principal, run, books, history, steps))
    earlier = [(step.record, step.books) for run_id in earlier_runs_to_replay(run, books, history)
               for step in services.runs().all_steps(thread_id, run_id)]
    return turn_prompt(run, history, steps, brought.offered, TOOLS, count, CountedFiles(media),
                       body.truncation or "disabled", context_window(), earlier).estimated_tokens
