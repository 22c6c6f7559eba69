"""A model turn's batching writer into the run's event log (core/run_events/log.py holds the layout).

Deltas (TurnStream). A model turn claims the head for (turn, attempt). The claim
names the turn's message and step ids and records how much text and whether tool
calls were already shown. The turn keeps the head's ETag from its own last write,
so a batch of deltas costs one transaction and no read; pieces arriving while a
write is in flight, or within a few milliseconds of each other, go together in the
next one. The run's start writes the first turn's claim (RunChange.claim), and the
turn's last pieces go with its stored result (`hand_over`). A retried attempt of the same
turn (activities run at least once) keeps the claim's ids and skips the text the
log already holds, so a client never sees text twice (with a deterministic model
the text continues seamlessly; the stored message is always what the last attempt
said). A stale attempt that lost the claim is fenced out by the ETag: `Superseded`.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Callable

from core.collection import Operation
from core.errors import Conflict
from core.run_events import wakeups
from core.run_events.log import MAX_EVENTS_PER_APPEND, EventLog, Head, submit_for_etag
from core.run_events.payloads import Event, merge_deltas
from core.transactions import ATTEMPTS, PreconditionFailed, pause_before_retry, retry_on_conflict

# How long a delta may wait for the ones after it, so that a burst (a short answer, often) costs one
# write, or none when the turn ends meanwhile and stores it with its result.
COALESCE_SECONDS = 0.005


def claim_for(previous: dict[str, Any], turn: str, attempt: str,
              fresh_ids: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The claim a turn's attempt writes: a retry of the same turn keeps what earlier attempts showed."""
    if previous.get("turn") == turn:
        return {**previous, "attempt": attempt}
    return {"turn": turn, "attempt": attempt, **fresh_ids(), "text_len": 0, "message_open": False,
            "tools_shown": False}


def unseen_part(piece: str, offset: int, shown: int) -> str:
    """The part of `piece` (starting at character `offset` of the answer) not among the first `shown`."""
    return piece[max(0, shown - offset):] if offset + len(piece) > shown else ""


class Superseded(Exception):
    """A newer attempt of this model turn claimed the log: this attempt must not write."""


class TurnStream:
    """One model turn's live output in the log: claims the head, then writes deltas in the background.

    `claim_turn()` first; then `text()` / `tool_events()` from the thread reading the model;
    `close()` waits until everything emitted is stored (and raises what the writer hit).
    """

    def __init__(self, log: EventLog, thread_id: str, run_id: str, turn: str):
        self._log = log
        self._thread_id, self._run_id, self._turn = thread_id, run_id, turn
        self._attempt = uuid.uuid4().hex
        self._head = Head()
        self.claim: dict[str, Any] = {}
        self._shown_before = 0  # text characters an earlier attempt already showed
        self._text_offset = 0
        self._pending: list[tuple[Event, dict[str, Any]]] = []
        self._oldest = 0.0  # when the oldest pending event was queued
        self._claim_changes: dict[str, Any] = {}
        self._error: BaseException | None = None
        self._closed = False
        self._wake = threading.Condition()
        self._writer: threading.Thread | None = None

    def claim_for(self, previous: dict[str, Any], fresh_ids: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The claim this attempt writes over the head's `previous` one."""
        return claim_for(previous, self._turn, self._attempt, fresh_ids)

    def claim_turn(self, fresh_ids: Callable[[], dict[str, Any]], head: Head | None = None) -> dict[str, Any]:
        """Claim the log for this attempt; returns the claim (message/step ids, what was shown).
        `head` (as read lately) saves the first read; a stale one costs a retry."""
        known = [head]

        def attempt() -> dict[str, Any]:
            first = known.pop() if known else None
            read = first if first is not None else self._log.head(self._thread_id, self._run_id)
            known.clear()
            claim = self.claim_for(read.claim, fresh_ids)
            operations, _, new_head = self._log.operations(self._thread_id, self._run_id, read, [], claim)
            self._commit(operations, new_head)
            return claim

        self._take(retry_on_conflict(attempt, lambda: Conflict(f"Could not claim the event log of {self._run_id}.")))
        return self.claim

    def adopt(self, head: Head) -> None:
        """Continue from `head`, written with this attempt's claim by another write (the run's start)."""
        self._head = head
        self._take(head.claim)

    def _take(self, claim: dict[str, Any]) -> None:
        self.claim = claim
        self._shown_before = claim["text_len"]

    @property
    def head(self) -> Head:
        """The head as this turn last wrote it (call after `close` or `hand_over`)."""
        return self._head

    def _commit(self, operations: list[Operation], new_head: Head) -> None:
        new_head.etag = submit_for_etag(self._log.table, operations)
        self._head = new_head

    # -- what the model turn emits ----------------------------------------------------

    def text(self, piece: str, opening: Callable[[], list[Event]], delta: Callable[[str], Event]) -> None:
        """A piece of the answer's text; `opening` events go first, once per turn (not again on a retry)."""
        unseen = unseen_part(piece, self._text_offset, self._shown_before)
        self._text_offset += len(piece)
        if not unseen:
            return
        events = [] if self.message_open else opening()
        events.append(delta(unseen))
        self._put(events, {"message_open": True, "text_len": self._text_offset})

    @property
    def tools_shown_before(self) -> bool:
        """Whether an earlier attempt already showed tool-call deltas (a retry must not show others)."""
        return bool(self.claim.get("tools_shown"))

    def tool_events(self, events: list[Event]) -> None:
        if events:
            self._put(events, {"tools_shown": True})

    @property
    def message_open(self) -> bool:
        return bool(self.claim.get("message_open") or self._claim_changes.get("message_open"))

    @property
    def tools_open(self) -> bool:
        return bool(self.claim.get("tools_shown") or self._claim_changes.get("tools_shown"))

    def _put(self, events: list[Event], claim_changes: dict[str, Any]) -> None:
        """Queue events; the claim changes they make are written with the batch that holds them."""
        with self._wake:
            if self._error is not None:
                raise self._error
            before = dict(self._claim_changes)
            self._claim_changes.update(claim_changes)
            # Each queued event carries the claim as it stands once it is written (a batch may end anywhere).
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending += [(event, before) for event in events[:-1]] + [(events[-1], dict(self._claim_changes))]
            if self._writer is None:  # none yet, or the last one finished at a close()
                self._closed = False
                self._writer = threading.Thread(target=self._write_loop, name=f"events-{self._run_id}", daemon=True)
                self._writer.start()
            self._wake.notify()

    def hand_over(self, at_most: int) -> list[Event]:
        """Stop writing and give back the events not written yet (at most `at_most`; more are written
        here), for the caller to store in the transaction that records the turn: one write fewer
        between the model's last token and the stored answer. A write in flight is waited for."""
        with self._wake:
            taken = merge_deltas([event for event, _ in self._pending])
            if len(taken) <= at_most:
                self._pending.clear()
            else:
                taken = []
        self.close()
        return taken

    def close(self) -> None:
        """Wait until every emitted event is stored; raise what the writer hit (e.g. Superseded)."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            writer = self._writer
        if writer is not None:
            writer.join()
        if self._error is not None:
            raise self._error

    def _write_loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                # Pieces arriving within COALESCE_SECONDS of the oldest waiting one go in the same write;
                # a turn that ends meanwhile takes them all into its own (see hand_over).
                while self._pending and not self._closed and len(self._pending) < MAX_EVENTS_PER_APPEND and \
                        (left := self._oldest + COALESCE_SECONDS - time.monotonic()) > 0:
                    self._wake.wait(left)
                if not self._pending:
                    self._writer = None
                    return
                batch = self._pending[:MAX_EVENTS_PER_APPEND]
                del self._pending[:len(batch)]
                claim = {**self.claim, **batch[-1][1]}
            try:
                self._write(merge_deltas([event for event, _ in batch]), claim)
            except BaseException as error:  # kept for the model turn's thread
                with self._wake:
                    self._error = error
                    self._pending.clear()
                    self._writer = None
                return

    def _write(self, batch: list[Event], claim: dict[str, Any]) -> None:
        for attempt in range(ATTEMPTS):
            operations, blobs, new_head = self._log.operations(self._thread_id, self._run_id, self._head, batch, claim)
            try:
                self._commit(operations, new_head)
            except PreconditionFailed:
                self._log.discard(blobs)
                self._head = self._log.head(self._thread_id, self._run_id)
                if self._head.claim.get("attempt") != self._attempt:
                    raise Superseded(f"turn {self._turn} of {self._run_id} was claimed by a newer attempt") from None
                pause_before_retry(attempt)
                continue
            except BaseException:
                self._log.discard(blobs)
                raise
            self.claim = claim
            wakeups.wake(self._thread_id, self._run_id)
            return
        raise RuntimeError(f"the event log of {self._run_id} is being written too busily")
