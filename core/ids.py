"""Object ids that sort by creation time, so listing is a key-range query.

An id is OpenAI's prefix (`asst_`, `msg_`, `file-`, ...) followed by 24 base62
characters: 9 encode the creation time in microseconds, 15 are random. The
alphabet is in ASCII order, so comparing two ids as strings compares their
creation times, and Table storage (which sorts row keys ordinally) returns them
oldest first. `descending()` maps an id to a key that sorts the other way,
which is how newest-first listing stays a forward range scan.
"""

from __future__ import annotations

import secrets
import threading
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TIME_CHARS = 9
_RANDOM_CHARS = 15
BODY_LENGTH = _TIME_CHARS + _RANDOM_CHARS
_COMPLEMENT = str.maketrans(ALPHABET, ALPHABET[::-1])
_ALPHABET_SET = frozenset(ALPHABET)

PREFIXES = {
    "assistant": "asst_",
    "thread": "thread_",
    "message": "msg_",
    "run": "run_",
    "step": "step_",
    "call": "call_",
    "file": "file-",
    "vector_store": "vs_",
    "vector_store_file_batch": "vsfb_",
    "response": "resp_",
    "conversation": "conv_",
    "container": "cntr_",
    "container_file": "cfile_",
}
# Kinds whose ids are OpenAI's lowercase hex (the Containers API's `cntr_…`, `cfile_…`): 16 hex digits of
# the creation time in microseconds, then 32 random ones. Hex digits are in ALPHABET, in the same order,
# so these sort by creation time and complement (`descending`) like every other id.
HEX_KINDS = frozenset({"container", "container_file"})
_HEX_TIME_CHARS = 16
_HEX_RANDOM_CHARS = 32
HEX_BODY_LENGTH = _HEX_TIME_CHARS + _HEX_RANDOM_CHARS
_HEX_SET = frozenset("0123456789abcdef")
# Kinds an id of another prefix also names: a conversation is a thread (one stored history), so a
# thread id may carry the prefix of the API that created it (`thread_` or `conv_`).
ALSO = {"thread": ("conversation",)}

_lock = threading.Lock()
_last_micros = 0


def _encode(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _next_micros() -> int:
    """Wall-clock microseconds, strictly increasing within this process."""
    global _last_micros
    with _lock:
        _last_micros = max(time.time_ns() // 1000, _last_micros + 1)
        return _last_micros


def new_id(kind: str) -> str:
    """A fresh id for an object of `kind` (a key of PREFIXES)."""
    if kind in HEX_KINDS:
        return PREFIXES[kind] + f"{_next_micros():0{_HEX_TIME_CHARS}x}" + secrets.token_hex(_HEX_RANDOM_CHARS // 2)
    # One draw for the 15 random characters (a choice per character cost a system call each).
    random_part = _encode(secrets.randbelow(len(ALPHABET) ** _RANDOM_CHARS), _RANDOM_CHARS)
    return PREFIXES[kind] + _encode(_next_micros(), _TIME_CHARS) + random_part


def is_id(kind: str, value: str) -> bool:
    """True when `value` is shaped like an id this service issues for `kind` (or a kind it also names)."""
    if any(is_id(other, value) for other in ALSO.get(kind, ())):
        return True
    prefix = PREFIXES[kind]
    body = value[len(prefix):]
    if kind in HEX_KINDS:
        return value.startswith(prefix) and len(body) == HEX_BODY_LENGTH and set(body) <= _HEX_SET
    return value.startswith(prefix) and len(body) == BODY_LENGTH and set(body) <= _ALPHABET_SET


def as_kind(kind: str, value: str) -> str:
    """The id of `kind` with the same body as `value` (a response's run: `resp_X` ↔ `run_X`)."""
    return PREFIXES[kind] + body(value)


def body(value: str) -> str:
    """The sortable part of an id (everything after its prefix)."""
    for prefix in PREFIXES.values():
        if value.startswith(prefix):
            return value[len(prefix):]
    raise ValueError(f"not an id: {value!r}")


def descending(id_body: str) -> str:
    """A key that sorts in the reverse order of `id_body`."""
    return id_body.translate(_COMPLEMENT)
