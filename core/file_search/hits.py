"""What a search backend is asked for and answers, shared by every backend (backends.py chooses one)."""

from __future__ import annotations

from dataclasses import dataclass

Wanted = dict[str, dict[str, str]]  # store id → {file id → segment version} of the files to search


@dataclass(frozen=True)
class Hit:
    """One chunk found: whose, its text, and its score in [0, 1]."""

    store_id: str
    file_id: str
    text: str
    score: float
