"""The repositories the HTTP handlers use, built once per process on first use."""

from __future__ import annotations

import time
from functools import lru_cache

from core.errors import InvalidRequest, NotFound
from core.repositories.assistants import AssistantRepository
from core.repositories.files import FileRepository
from core.repositories.messages import MessageRepository
from core.repositories.threads import ThreadRepository
from core.store import default_store


@lru_cache(maxsize=1)
def assistants() -> AssistantRepository:
    return AssistantRepository(default_store())


@lru_cache(maxsize=1)
def threads() -> ThreadRepository:
    return ThreadRepository(default_store())


@lru_cache(maxsize=1)
def messages() -> MessageRepository:
    return MessageRepository(default_store(), threads())


@lru_cache(maxsize=1)
def files() -> FileRepository:
    return FileRepository(default_store())


def now() -> int:
    return int(time.time())


def require_files(principal: str, references: list[tuple[str, str]]) -> None:
    """Every referenced file id must name a file the caller owns (400 naming the param otherwise)."""
    for file_id, param in references:
        try:
            files().load(principal, file_id)
        except NotFound:
            raise InvalidRequest(f"No file found with id '{file_id}'.", param=param, code="invalid_value") from None
