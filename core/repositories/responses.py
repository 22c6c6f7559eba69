"""Responses (the Responses API), partitioned by owner: what a response was asked, beside its run.

A response is executed as a run (core.repositories.runs) whose id has the response's body
(`resp_X` ↔ `run_X`, see core.ids.as_kind) in a thread: a conversation's, or a private one its
chain of `previous_response_id`s shares. This record keeps what the Responses wire needs and a run
does not hold: the request's own settings, its input items and where its run lives.
"""

from __future__ import annotations

from core.repositories.owned import OwnedRecords
from core.store import Store


class ResponseRepository(OwnedRecords):
    def __init__(self, store: Store):
        super().__init__(store, "responses", "resp", "response")
