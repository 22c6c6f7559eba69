"""Real API keys for tests, issued with the service's own key store in the session's Azurite.

Test clients act as principals by holding keys bound to them, exactly as callers
of a deployed service do; nothing trusts a header a caller sets.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from core.api_keys import KeyStore
from core.storage_connection import StorageConnection
from core.store import Store

_lock = threading.Lock()
_keys: KeyStore | None = None
_issued: dict[str, str] = {}


def bind(connection_string: str) -> None:
    """Issue keys in this storage (the Azurite the devhosts of this session use)."""
    global _keys
    with _lock:
        _keys = KeyStore(Store(StorageConnection(connection_string, None, None)))
        _issued.clear()


@contextmanager
def bound_to(connection_string: str) -> Iterator[None]:
    """Issue keys in this storage for a while (a harness with an Azurite of its own), then go back
    to the session's: the keys issued meanwhile live and die with that Azurite."""
    global _keys
    with _lock:
        previous, previous_issued = _keys, dict(_issued)
    bind(connection_string)
    try:
        yield
    finally:
        with _lock:
            _keys = previous
            _issued.clear()
            _issued.update(previous_issued)


def store() -> KeyStore:
    if _keys is None:
        raise RuntimeError("no storage bound for test keys: use the `azurite` fixture first")
    return _keys


def key_for(principal: str) -> str:
    """A key bound to `principal`, issued once per session and reused."""
    with _lock:
        key = _issued.get(principal)
    if key is None:
        key, _ = store().create(principal, f"test key for {principal}")
        with _lock:
            key = _issued.setdefault(principal, key)
    return key
