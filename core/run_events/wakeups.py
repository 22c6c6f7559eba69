"""The in-process fast path: a writer that committed events wakes the readers of that run in this process.

Only a hint: readers always read events from storage, and without a wake-up (a
writer in another instance, or the fast path switched off) they find new events
on their next poll. A write of the run row hands readers the run as committed, so
a reader waiting for the run's status needs no read to see it, and with it the rows
that write added (`Committed`), so a reader that can tell they are all the run has
needs no read of them either. Writers run in worker threads, readers on an event
loop, so a wake-up is handed to each reader's loop with `call_soon_threadsafe`.
Readers must not change what they are handed: the writer's own records.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

from core.run_bookkeeping import RunBookkeeping, StepBookkeeping

Key = tuple[str, str]

_lock = threading.Lock()
_waiters: dict[Key, set["Subscription"]] = {}


@dataclass(frozen=True)
class Committed:
    """One committed write of a run row: the run as written, its bookkeeping before and after, and the
    messages and steps (record, bookkeeping) inserted with it."""

    run: dict[str, Any]
    books_before: RunBookkeeping | None = None  # None: not known (the run's creation)
    books: RunBookkeeping | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    steps: list[tuple[dict[str, Any], StepBookkeeping]] = field(default_factory=list)
    gone: bool = False  # the write removed the run (a response withdrawn: core.response_withdrawal)


class Subscription:
    """A reader's registration for one run; `wait` returns early when a writer wakes it."""

    def __init__(self, key: Key):
        self._key = key
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self.run: dict[str, Any] | None = None  # the run as last committed in this process, once a write of it woke us
        self.committed: Committed | None = None  # that write, when its writer said what it wrote
        with _lock:
            _waiters.setdefault(key, set()).add(self)

    def reset(self) -> None:
        """Forget earlier wake-ups; call before reading, so one that comes during the read is kept."""
        self._event.clear()

    def _woken(self, run: dict[str, Any] | None, committed: Committed | None) -> None:
        if run is not None:
            self.run, self.committed = run, committed
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """Sleep until woken (since the last reset) or `timeout` seconds passed; True when woken."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def close(self) -> None:
        with _lock:
            subscriptions = _waiters.get(self._key)
            if subscriptions is not None:
                subscriptions.discard(self)
                if not subscriptions:
                    del _waiters[self._key]


def wake(thread_id: str, run_id: str, committed: Committed | None = None) -> None:
    """Wake every reader of this run in this process (callable from any thread); `committed`: the
    write of the run row that woke them, if it wrote the run."""
    with _lock:
        subscriptions = list(_waiters.get((thread_id, run_id), ()))
    run = committed.run if committed is not None else None
    for subscription in subscriptions:
        try:
            subscription._loop.call_soon_threadsafe(subscription._woken, run, committed)
        except RuntimeError:  # the reader's loop has closed
            pass
