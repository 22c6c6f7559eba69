"""Counting tokens: with the model's own tokenizer where it can be had, else a safe estimate.

tiktoken knows OpenAI models' encodings but fetches an encoding's file on first
use (then caches it under TIKTOKEN_CACHE_DIR or the temp dir): that works in
Azure, not offline. The file is therefore fetched once per process in the
background, and a caller waits for it only briefly; until it arrives — or for
models tiktoken does not know, such as an Ollama model or an arbitrary Azure
deployment name — counts come from a conservative estimate: a token per three
ASCII characters and per two UTF-8 bytes of anything else (CJK, emoji).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

CHARS_PER_TOKEN = 3
UTF8_BYTES_PER_TOKEN = 2
LOAD_WAIT_SECONDS = 5.0

Counter = Callable[[str], int]
logger = logging.getLogger(__name__)
_encodings: dict[str, Any] = {}  # encoding name → tiktoken Encoding, or None once loading failed
_loading: dict[str, threading.Event] = {}
_lock = threading.Lock()


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def estimate_tokens(text: str) -> int:
    ascii_chars = sum(1 for char in text if char < "\x80")
    other_bytes = len(text.encode("utf-8")) - ascii_chars
    return -(-ascii_chars // CHARS_PER_TOKEN) + -(-other_bytes // UTF8_BYTES_PER_TOKEN)


def counter_for(model: str) -> Counter:
    """How to count tokens for `model`: its tiktoken encoding if known and loadable, else the estimate."""
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        return estimate_tokens
    encoding = _encoding(name)
    if encoding is None:
        return estimate_tokens
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def _encoding(name: str):
    with _lock:
        if name in _encodings:
            return _encodings[name]
        ready = _loading.get(name)
        if ready is None:
            ready = _loading[name] = threading.Event()
            threading.Thread(target=_load, args=(name, ready), daemon=True, name=f"tiktoken-{name}").start()
    ready.wait(LOAD_WAIT_SECONDS)
    return _encodings.get(name)


def _load(name: str, ready: threading.Event) -> None:
    import tiktoken

    try:
        encoding = tiktoken.get_encoding(name)
    except Exception as error:  # offline, blocked or broken cache: estimate from now on
        logger.warning("tokenizer %s unavailable (%s); using a conservative token estimate", name, error)
        encoding = None
    with _lock:
        _encodings[name] = encoding
    ready.set()
