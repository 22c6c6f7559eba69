"""The in-process fast path: a writer that committed events wakes the readers of that run in this process.

Only a hint: readers always read events from storage, and without a wake-up (a
writer in another instance, or the fast path switched off) they find new events
on their next poll. Writers run in worker threads, readers on an event loop, so a
wake-up is handed to each reader's loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import threading

Key = tuple[str, str]

_lock = threading.Lock()
_waiters: dict[Key, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}


class Subscription:
    """A reader's registration for one run; `wait` returns early when a writer wakes it."""

    def __init__(self, key: Key):
        self._key = key
        self._entry = (asyncio.get_running_loop(), asyncio.Event())
        with _lock:
            _waiters.setdefault(key, set()).add(self._entry)

    def reset(self) -> None:
        """Forget earlier wake-ups; call before reading, so one that comes during the read is kept."""
        self._entry[1].clear()

    async def wait(self, timeout: float) -> bool:
        """Sleep until woken (since the last reset) or `timeout` seconds passed; True when woken."""
        try:
            await asyncio.wait_for(self._entry[1].wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def close(self) -> None:
        with _lock:
            entries = _waiters.get(self._key)
            if entries is not None:
                entries.discard(self._entry)
                if not entries:
                    del _waiters[self._key]


def wake(thread_id: str, run_id: str) -> None:
    """Wake every reader of this run in this process (callable from any thread)."""
    with _lock:
        entries = list(_waiters.get((thread_id, run_id), ()))
    for loop, event in entries:
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # the reader's loop has closed
            pass


def readers(thread_id: str, run_id: str) -> int:
    with _lock:
        return len(_waiters.get((thread_id, run_id), ()))
