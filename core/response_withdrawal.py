"""Withdrawing a held or streamed response whose first prompt does not fit the model's context window.

OpenAI answers such a create with a 400 and creates nothing. Here the create has stored the response
(its record; its run, with the input, in a thread, maybe one made for it) before its run's first turn
can tell, so that turn — before it starts the run — withdraws it: the record is marked `refused` first,
with what the 400 says (a refused record is no longer found: usecases.response_runs.stored_response),
then the run with its input, or the thread made for it, is removed. That wakes the create waiting for
the run (usecases.response_answers), which answers the 400 and removes the record. Each step can be
done again: a retried turn finds the run gone and ends the orchestration (activities.runs).
"""

from __future__ import annotations

from core import ids
from core.errors import NotFound
from core.repositories.runs import StoredRun
from core.repositories.shared import responses, runs
from core.run_events import wakeups

REFUSED = "refused"  # the record's field: the message of the 400 its create answers


def withdraw(principal: str, stored: StoredRun, message: str) -> None:
    """Mark the response refused, then remove what its create stored beside the record (see above)."""
    run = stored.record
    try:
        record = responses().update(principal, ids.as_kind("response", run["id"]),
                                    lambda current: {**current, REFUSED: message})
    except NotFound:  # its create already answered and removed it: the run went before
        record = {}
    if stored.books.withdraws == "thread":
        try:
            runs().threads.delete(principal, run["thread_id"])
        except NotFound:
            pass
        wakeups.wake(run["thread_id"], run["id"], wakeups.Committed(run, gone=True))
    else:
        runs().withdraw(principal, stored, record.get("input_message_ids") or [])
