"""In-process wake-ups when a run changes, so a request waiting on it re-reads at once.

Only a hint, never the truth: a waiter always re-reads the run from storage, and
also re-reads on a short period, so it stays correct when the change was made by
another instance (in Azure the activity and the HTTP request may run on
different machines). Notifications come from any thread (activities run in
worker threads); waiters are coroutines on an event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict

_lock = threading.Lock()
_waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = defaultdict(set)


def notify(run_id: str) -> None:
    """The run was just written in this process: wake whoever waits on it here."""
    with _lock:
        waiting = list(_waiters.get(run_id, ()))
    for loop, event in waiting:
        loop.call_soon_threadsafe(event.set)


async def changed_or_timeout(run_id: str, seconds: float) -> None:
    """Return when `notify(run_id)` is called in this process, or after `seconds`."""
    entry = (asyncio.get_running_loop(), asyncio.Event())
    with _lock:
        _waiters[run_id].add(entry)
    try:
        await asyncio.wait_for(entry[1].wait(), seconds)
    except asyncio.TimeoutError:
        pass
    finally:
        with _lock:
            _waiters[run_id].discard(entry)
            if not _waiters[run_id]:
                del _waiters[run_id]
