"""core.turn_prompt's decisions about the context: how much history a turn reads, and whether a
response's prompt may go to the model at all (truncation "disabled")."""

from __future__ import annotations

import pytest

from core.run_bookkeeping import RunBookkeeping
from core.turn_prompt import (
    MAX_REPLAYED_RUNS,
    context_overflow,
    earlier_runs_to_replay,
    exceeded_message,
    prompt_limit,
    visible_history,
)


def _words(text: str) -> int:
    return len(text.split())


def _message(number: int, words: int, role: str = "user") -> dict:
    return {"id": f"msg_{number}", "role": role, "run_id": None,
            "content": [{"type": "text", "text": {"value": " ".join(["w"] * words), "annotations": []}}]}


@pytest.mark.parametrize("truncation, tokens, window, refused", [
    ("disabled", 1_001, 1_000, True),
    ("disabled", 1_000, 1_000, False),  # exactly the window fits
    ("disabled", 10, 1_000, False),
    ("auto", 5_000, 1_000, False),  # auto trims instead (visible_history)
    (None, 5_000, 1_000, False),  # an Assistants run: its truncation_strategy trims, never refused
])
def test_only_a_disabled_truncation_over_the_window_is_refused(truncation, tokens, window, refused):
    said = context_overflow(truncation, tokens, window)
    assert (said is not None) == refused
    if refused:
        assert said.startswith("Your input exceeds the context window of this model")
        assert str(tokens) in said and "truncation 'auto'" in said


def test_history_is_read_back_until_the_window_unless_max_prompt_tokens_says_otherwise():
    newest_first = [_message(n, 100) for n in range(10, 0, -1)]
    run = {"id": "run_1", "truncation_strategy": {"type": "auto", "last_messages": None}, "max_prompt_tokens": None}
    kept = visible_history(newest_first, run, _words, window=250)
    assert [m["id"] for m in kept] == ["msg_8", "msg_9", "msg_10"]  # the one crossing the window is read, then no more
    assert [m["id"] for m in visible_history(newest_first, {**run, "max_prompt_tokens": 450}, _words,
                                             window=250)] == ["msg_6", "msg_7", "msg_8", "msg_9", "msg_10"]
    last_two = {**run, "truncation_strategy": {"type": "last_messages", "last_messages": 2}}
    assert [m["id"] for m in visible_history(newest_first, last_two, _words, window=10_000)] == ["msg_9", "msg_10"]


def test_reading_stops_lazily_past_the_window():
    """A long thread is not read to its start: the reader stops one message past the budget."""
    read = []

    def newest_first():
        for n in range(1000, 0, -1):
            read.append(n)
            yield _message(n, 100)

    visible_history(newest_first(), {"id": "run_1"}, _words, window=300)
    assert len(read) == 4


@pytest.mark.parametrize("truncation, max_prompt_tokens, limit", [
    ("auto", None, 1_000),  # a response that may be trimmed fits the window
    ("disabled", None, None),  # never trimmed: context_overflow refuses it instead
    (None, None, None),  # an Assistants run without max_prompt_tokens: as before
    (None, 700, 700),  # an Assistants run's max_prompt_tokens
    ("auto", 300, 300),
])
def test_the_prompt_is_trimmed_to_the_window_only_for_an_auto_response(truncation, max_prompt_tokens, limit):
    assert prompt_limit(truncation, max_prompt_tokens, 1_000) == limit


def test_the_message_says_what_to_do():
    assert exceeded_message(400) == ("Your input exceeds the context window of this model (about 400 available). "
                                     "Please adjust your input and try again, or create the response with "
                                     "truncation 'auto'.")


def test_a_response_replays_the_newest_earlier_runs_that_answered_in_its_history_and_a_run_none():
    history = [{"role": "user", "run_id": None}]
    for index in range(MAX_REPLAYED_RUNS + 5):
        history += [{"role": "assistant", "run_id": f"run_{index:02d}"}, {"role": "assistant", "run_id": f"run_{index:02d}"}]
    current = {"id": "run_99"}
    history.append({"role": "assistant", "run_id": "run_99"})
    replayed = earlier_runs_to_replay(current, RunBookkeeping(replays_tool_calls=True), history)
    assert replayed == [f"run_{index:02d}" for index in range(MAX_REPLAYED_RUNS + 4, 4, -1)]
    assert earlier_runs_to_replay(current, RunBookkeeping(), history) == []
