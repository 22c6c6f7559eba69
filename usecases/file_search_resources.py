"""file_search resources made on the fly: inline `vector_stores` of tool_resources, and a thread's own
store for messages whose attachments name the file_search tool.

Both create an ordinary vector store (api/vector_stores.py) and attach files
through `attach_and_ingest`, so ingestion is the same durable work. As at
OpenAI, a run's search waits (a bounded time) for such a store's files to be
ingested, which it does not do for stores the user made (tools/plugins/file_search.py).
"""

from __future__ import annotations

import asyncio

from core import ids
from core.errors import InvalidRequest, NotFound
from core.references import require_vector_stores
from core.repositories.shared import threads, vector_stores
from core.transactions import PreconditionFailed
from core.vector_store_bookkeeping import StoreBookkeeping
from core.wire.common import ToolResources, referenced_file_ids
from core.wire.vector_stores import AutoChunking, BatchFile, StaticChunking, new_vector_store
from tools.plugins import file_search as file_search_tool
from usecases import services
from usecases.attach_files import attach_and_ingest
from usecases.run_orchestration import orchestration_exists

THREAD_STORE_DAYS = 7  # as at OpenAI: a thread's own store expires a week after its last use


def _new_store(principal: str, metadata: dict | None = None, expires_days: int | None = None,
               store_id: str | None = None) -> str:
    now = services.now()
    expires_after = {"anchor": "last_active_at", "days": expires_days} if expires_days else None
    record = new_vector_store(store_id or ids.new_id("vector_store"), now, metadata=metadata,
                              expires_after=expires_after)
    # a run waits for such a store's ingestion before searching it
    vector_stores().create_store(principal, record, StoreBookkeeping(helper=True))
    return record["id"]


def _chunking(strategy: dict | None, param: str):
    if strategy is None:
        return None
    models: dict[object, type[AutoChunking | StaticChunking]] = {"auto": AutoChunking, "static": StaticChunking}
    model = models.get(strategy.get("type"))
    if model is None:
        raise InvalidRequest(f"Invalid value for '{param}.type': expected 'auto' or 'static'.",
                             param=f"{param}.type", code="invalid_value")
    return model.model_validate(strategy)


async def with_resources_ready(client, principal: str, body):
    """A create or update `body` whose tool_resources' files the caller owns (400 otherwise), its inline
    vector store created and named by id."""
    await asyncio.to_thread(services.require_files, principal, referenced_file_ids(body.tool_resources,
                                                                                   "tool_resources"))
    if body.tool_resources is None:
        return body
    return body.model_copy(update={"tool_resources": await materialize(client, principal, body.tool_resources,
                                                                       "tool_resources")})


async def materialize(client, principal: str, resources: ToolResources | None, param: str,
                      store_id: str | None = None) -> ToolResources | None:
    """`resources` with its inline vector store created (and its files ingesting), named by id instead;
    `store_id`: the id chosen for that store beforehand, so that a retry of the request finds the store
    (and the ingestion) its first attempt made instead of making a second one.

    Vector store ids given as such must name stores the caller owns (400 naming the param otherwise)."""
    if resources is None or resources.file_search is None:
        return resources
    await asyncio.to_thread(require_vector_stores, principal, resources.file_search.vector_store_ids,
                            f"{param}.file_search.vector_store_ids")
    if not resources.file_search.vector_stores:
        return resources
    [inline] = resources.file_search.vector_stores
    where = f"{param}.file_search.vector_stores[0]"
    strategy = _chunking(inline.chunking_strategy, f"{where}.chunking_strategy")
    await asyncio.to_thread(services.require_files, principal,
                            [(file_id, f"{where}.file_ids[{index}]") for index, file_id in enumerate(inline.file_ids)])
    if store_id is None:
        store_id, made_now, ingestion = await asyncio.to_thread(_new_store, principal, inline.metadata), True, None
    else:  # chosen beforehand: an earlier attempt of this request may have made the store and ingested into it
        made_now = await asyncio.to_thread(_chosen_store, principal, store_id, inline.metadata)
        ingestion = ingestion_of(store_id)
    started = not made_now and ingestion is not None and await orchestration_exists(client, ingestion)
    if ingests_again(bool(inline.file_ids), made_now, started):
        await attach_and_ingest(client, principal, store_id,
                                [BatchFile(file_id=file_id, chunking_strategy=strategy) for file_id in inline.file_ids],
                                instance_id=ingestion)
    file_search = resources.file_search.model_copy(update={"vector_store_ids": [store_id], "vector_stores": None})
    return resources.model_copy(update={"file_search": file_search})


def ingestion_of(store_id: str) -> str:
    """The ingestion orchestration of an inline store whose id was chosen beforehand: one per store."""
    return f"ingest-{store_id}"


def ingests_again(has_files: bool, made_now: bool, ingestion_started: bool) -> bool:
    """Whether to attach an inline store's files and start their ingestion: always for a store made now;
    for one an earlier attempt made, only if its ingestion never started (the attempt stopped before)."""
    return has_files and (made_now or not ingestion_started)


def _chosen_store(principal: str, store_id: str, metadata: dict | None) -> bool:
    """Make the store under the id chosen for it, unless an earlier attempt did; True when made now."""
    try:
        vector_stores().load_store(principal, store_id)
        return False
    except NotFound:
        pass
    try:
        _new_store(principal, metadata, store_id=store_id)
    except PreconditionFailed:  # the earlier attempt, still at work, made it this very moment
        return False
    return True


def search_attachments(messages: list[dict]) -> list[str]:
    """File ids attached to `messages` for the file_search tool."""
    return file_search_tool.TOOL.attached_files(messages)


def _thread_store(principal: str, thread_id: str) -> str:
    """The thread's vector store, created (and recorded on the thread) if it has none."""
    current = threads().get(principal, thread_id)
    existing = ((current.get("tool_resources") or {}).get("file_search") or {}).get("vector_store_ids") or []
    if existing:
        return existing[0]
    created = _new_store(principal, expires_days=THREAD_STORE_DAYS)

    def change(thread: dict) -> dict:
        resources = dict(thread.get("tool_resources") or {})
        if not (resources.get("file_search") or {}).get("vector_store_ids"):
            resources["file_search"] = {"vector_store_ids": [created]}
        return {**thread, "tool_resources": resources}

    chosen = threads().update(principal, thread_id, change)["tool_resources"]["file_search"]["vector_store_ids"][0]
    if chosen != created:  # another request gave the thread its store first
        vector_stores().delete_store(principal, created)
    return chosen


async def index_attachments(client, principal: str, thread_id: str, messages: list[dict]) -> None:
    """Ingest the file_search attachments of `messages` into the thread's own store."""
    file_ids = search_attachments(messages)
    if file_ids:
        store_id = await asyncio.to_thread(_thread_store, principal, thread_id)
        await attach_and_ingest(client, principal, store_id, [BatchFile(file_id=file_id) for file_id in file_ids])
