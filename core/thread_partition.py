"""Where a thread's records are stored: the one storage layout its repositories and its runs' event log share.

A thread is one partition of the threads table (its thread row, messages, runs, steps and the event
log of each run), and records too large for an entity are spilled to blobs under the thread's scope.
Apart from both users (core.repositories.threads and its siblings, core.run_events.log) so that
neither package imports the other for it: repositories use the event log, never the reverse.
"""

from __future__ import annotations

TABLE = "threads"


def blob_scope(thread_id: str) -> str:
    """Where records of this thread that are too large for an entity are spilled."""
    return f"{TABLE}/{thread_id}"
