"""The process-wide repositories, built once on first use and shared by HTTP handlers and activities.

Repositories hold service clients (connection pools), so each process builds one
of each; the run repository shares the thread repository it guards writes with.
"""

from __future__ import annotations

from functools import lru_cache

from core.repositories.assistants import AssistantRepository
from core.repositories.containers import ContainerRepository
from core.repositories.files import FileRepository
from core.repositories.messages import MessageRepository
from core.repositories.responses import ResponseRepository
from core.repositories.run_requests import RunRequests
from core.repositories.runs import RunRepository
from core.repositories.threads import ThreadRepository
from core.repositories.vector_stores import VectorStoreRepository
from core.run_events.log import EventLog
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


@lru_cache(maxsize=1)
def runs() -> RunRepository:
    return RunRepository(default_store(), threads())


@lru_cache(maxsize=1)
def run_requests() -> RunRequests:
    return RunRequests(default_store())


@lru_cache(maxsize=1)
def events() -> EventLog:
    return EventLog(default_store())


@lru_cache(maxsize=1)
def vector_stores() -> VectorStoreRepository:
    return VectorStoreRepository(default_store())


@lru_cache(maxsize=1)
def responses() -> ResponseRepository:
    return ResponseRepository(default_store())


@lru_cache(maxsize=1)
def containers() -> ContainerRepository:
    return ContainerRepository(default_store(), files())
