"""Token counting: the model's tokenizer when it can be had, the conservative estimate otherwise."""

import time

import tiktoken

from core import tokens
from core.model_context import build_prompt


def test_models_tiktoken_does_not_know_use_the_estimate():
    assert tokens.counter_for("my-azure-deployment") is tokens.estimate_tokens
    assert tokens.counter_for("llama3.1:8b") is tokens.estimate_tokens


def test_a_known_model_never_waits_long_for_its_tokenizer():
    # Offline (as in CI) the encoding file cannot be fetched: the estimate is used, after a bounded wait.
    started = time.monotonic()
    count = tokens.counter_for("gpt-4o")
    assert time.monotonic() - started < tokens.LOAD_WAIT_SECONDS + 2
    assert count("hello world") in (2, tokens.estimate_tokens("hello world"))
    started = time.monotonic()
    tokens.counter_for("gpt-4o-mini")  # same encoding: decided once per process
    assert time.monotonic() - started < 0.5


def _one_token_per_byte() -> tiktoken.Encoding:
    """A real tiktoken encoding built locally: every byte is a token (no merges)."""
    return tiktoken.Encoding(name="bytes", pat_str=r"[\s\S]", mergeable_ranks={bytes([b]): b for b in range(256)},
                             special_tokens={})


def test_truncation_is_measured_with_the_counter_it_is_given():
    encoding = _one_token_per_byte()
    count = lambda text: len(encoding.encode(text))  # noqa: E731
    thread = [{"role": "user", "content": [{"type": "text", "text": {"value": f"message {n} " + "é" * 50,
                                                                      "annotations": []}}]} for n in range(30)]
    prompt = build_prompt(instructions="Be brief.", thread_messages=thread, run_turns=[], tools=[],
                          truncation=None, max_prompt_tokens=600, count=count)
    exact = sum(6 + count(m["content"]) + count("") for m in prompt.messages)
    assert exact <= 600 and prompt.estimated_tokens == exact
    assert prompt.messages[-1]["content"].startswith("message 29")
    assert 0 < prompt.dropped_messages < 30
