"""Runs this process has just created, handed to their first model turn so that it need not read them back.

A run's first turn usually runs in the process that created it. The create knows the run as stored,
with its ETag, and its event log's head; the turn takes both instead of two reads on its way to the
model. Only a hint, and safe when stale: every later write of a run is conditioned on the ETags it was
based on (RunRepository.update), so a run changed elsewhere meanwhile (cancelled through another
instance) fails that check and the write reads the run afresh. A kept run is taken once, dropped by any
write of it in this process, and the oldest go first past MAX_KEPT (a run whose turn runs elsewhere).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

MAX_KEPT = 1024
Stored = TypeVar("Stored")
Key = tuple[str, str]  # (thread id, run id)


class FreshRuns(Generic[Stored]):
    """The runs created here whose first turn has not yet taken them."""

    def __init__(self, max_kept: int = MAX_KEPT):
        self._kept: OrderedDict[Key, tuple[str, Stored]] = OrderedDict()
        self._max_kept = max_kept
        self._lock = threading.Lock()

    def keep(self, principal: str, thread_id: str, run_id: str, stored: Stored) -> None:
        with self._lock:
            self._kept[(thread_id, run_id)] = (principal, stored)
            while len(self._kept) > self._max_kept:
                self._kept.popitem(last=False)

    def take(self, principal: str, thread_id: str, run_id: str) -> Stored | None:
        """The run as its create stored it, if this process created it and nothing here wrote it since."""
        with self._lock:
            kept = self._kept.pop((thread_id, run_id), None)
        return kept[1] if kept is not None and kept[0] == principal else None

    def drop(self, thread_id: str, run_id: str) -> None:
        with self._lock:
            self._kept.pop((thread_id, run_id), None)
