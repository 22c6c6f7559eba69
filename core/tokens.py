"""Counting tokens: with the model's own tokenizer where it can be had, else a safe estimate.

tiktoken knows OpenAI models' encodings but would download an encoding's file
on first use; the files of the encodings current models use ship in
`core/tokenizer_files/`, which is tiktoken's cache folder unless the operator
set TIKTOKEN_CACHE_DIR, so counting never needs the network. An encoding is
still built once per process in the background (it takes a moment), and a
caller waits for it only briefly; until it is ready — or for models tiktoken
does not know, such as an Ollama model or an arbitrary Azure deployment name —
counts come from a conservative estimate: a token per three ASCII characters
and per two UTF-8 bytes of anything else (CJK, emoji).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from core import settings

if TYPE_CHECKING:  # tiktoken is imported where it is used: it costs start-up time
    from tiktoken import Encoding

CHARS_PER_TOKEN = 3
UTF8_BYTES_PER_TOKEN = 2
LOAD_WAIT_SECONDS = 5.0

SHIPPED_ENCODINGS = Path(__file__).with_name("tokenizer_files")
settings.default_for_library("TIKTOKEN_CACHE_DIR", str(SHIPPED_ENCODINGS))

Counter = Callable[[str], int]
logger = logging.getLogger(__name__)
_encodings: dict[str, Encoding | None] = {}  # encoding name → tiktoken Encoding, or None once loading failed
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


def _encoding(name: str) -> Encoding | None:
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
    except Exception as error:  # an encoding not shipped, and offline: estimate from now on
        logger.warning("tokenizer %s unavailable (%s); using a conservative token estimate", name, error)
        encoding = None
    with _lock:
        _encodings[name] = encoding
    ready.set()
