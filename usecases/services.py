"""What the HTTP handlers share: the process-wide repositories (core.repositories.shared), the clock,
and checks on referenced files."""

from __future__ import annotations

import time

from core.errors import InvalidRequest, NotFound
from core.repositories.shared import assistants, files, messages, run_requests, runs, threads

__all__ = ["assistants", "files", "messages", "run_requests", "runs", "threads", "now", "require_files"]


def now() -> int:
    return int(time.time())


def require_files(principal: str, references: list[tuple[str, str]]) -> None:
    """Every referenced file id must name a file the caller owns (400 naming the param otherwise)."""
    for file_id, param in references:
        try:
            files().load(principal, file_id)
        except NotFound:
            raise InvalidRequest(f"No file found with id '{file_id}'.", param=param, code="invalid_value") from None
