"""Token counting: the model's tokenizer when it can be had, the conservative estimate otherwise."""

import os
import subprocess
import sys
import time
from pathlib import Path

import tiktoken

from core import tokens
from core.model_context import build_prompt


def test_models_tiktoken_does_not_know_use_the_estimate():
    assert tokens.counter_for("my-azure-deployment") is tokens.estimate_tokens
    assert tokens.counter_for("llama3.1:8b") is tokens.estimate_tokens


NO_NETWORK = """
import socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args)
    raise OSError("no network in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
from core import tokens
counts = {model: tokens.counter_for(model)("hello world, héllo 世界") for model in sys.argv[1:]}
print(counts, len(attempts))
"""


def test_the_encodings_of_current_models_ship_with_the_app_and_load_without_the_network():
    """Exact counts (not the estimate) for o200k_base and cl100k_base models, with every connection
    refused: tiktoken took the shipped files, which it checks against its own hashes."""
    models = ["gpt-4o", "gpt-4.1-mini", "o3", "gpt-4", "text-embedding-3-small"]
    done = subprocess.run([sys.executable, "-c", NO_NETWORK, *models], capture_output=True, text=True,
                          timeout=60, cwd=Path(tokens.__file__).parent.parent,
                          env={k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"})
    assert done.returncode == 0, done.stderr
    counts, attempts = done.stdout.rsplit(" ", 1)
    assert attempts.strip() == "0"
    expected = {}
    for model in models:
        encoding = tiktoken.encoding_for_model(model)
        expected[model] = len(encoding.encode("hello world, héllo 世界"))
    assert counts == str(expected)
    assert expected["gpt-4o"] != tokens.estimate_tokens("hello world, héllo 世界")
    assert "tokenizer" not in done.stderr  # no fallback was logged


def test_a_known_model_never_waits_long_for_its_tokenizer():
    started = time.monotonic()
    count = tokens.counter_for("gpt-4o")
    assert time.monotonic() - started < tokens.LOAD_WAIT_SECONDS + 2
    assert count("hello world") == 2
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
