"""Assistants, partitioned by owner."""

from __future__ import annotations

from core.repositories.owned import OwnedRecords
from core.store import Store


class AssistantRepository(OwnedRecords):
    def __init__(self, store: Store):
        super().__init__(store, "assistants", "asst", "assistant")
