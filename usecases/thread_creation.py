"""Creating a thread: its records checked and built, its inline vector store made, its messages' file_search
attachments indexed into its own store (threads create, and runs' create_and_run)."""

from __future__ import annotations

import asyncio

from core import ids
from core.wire.common import referenced_file_ids
from core.wire.messages import new_message
from core.wire.threads import ThreadCreate, new_thread
from usecases import services
from usecases.file_search_resources import index_attachments, materialize, search_attachments


def new_thread_records(principal: str, body: ThreadCreate, thread_id: str | None = None) -> tuple[dict, list[dict]]:
    """Validate references, then the new thread's record and its initial messages' (in order);
    `thread_id`: the id chosen beforehand (a retried create_and_run takes its first attempt's)."""
    references = referenced_file_ids(body.tool_resources, "tool_resources")
    for index, message in enumerate(body.messages):
        references += message.referenced_file_ids(f"messages[{index}]")
    services.require_files(principal, references)
    created_at = services.now()
    thread = new_thread(thread_id or ids.new_id("thread"), created_at, body)
    return thread, [new_message(ids.new_id("message"), thread["id"], created_at, message) for message in body.messages]


def create_thread(principal: str, body: ThreadCreate, thread_id: str | None = None) -> dict:
    """Store a new thread with its initial messages."""
    thread, messages = new_thread_records(principal, body, thread_id)
    with services.messages().staged() as staged:
        return services.threads().create(principal, thread, services.messages().insert_all_ops(principal, messages, staged))


async def ready_for_thread(client, principal: str, body: ThreadCreate | None,
                           store_id: str | None = None) -> ThreadCreate:
    """`body` with its inline vector store made (named by id instead); `store_id`: the id chosen for it
    beforehand (a retried create_and_run finds the store its first attempt made)."""
    body = body or ThreadCreate()
    return body.model_copy(update={"tool_resources": await materialize(client, principal, body.tool_resources,
                                                                       "tool_resources", store_id)})


def needs_attachments_indexed(body: ThreadCreate) -> bool:
    """Whether the thread's messages carry file_search attachments (indexed into its own store once it exists)."""
    return bool(search_attachments([message.model_dump() for message in body.messages]))


async def create_thread_with_files(client, principal: str, body: ThreadCreate | None,
                                   thread_id: str | None = None, store_id: str | None = None) -> dict:
    """create_thread, with the thread's inline vector store made and its file_search attachments indexed."""
    body = await ready_for_thread(client, principal, body, store_id)
    thread = await asyncio.to_thread(create_thread, principal, body, thread_id)
    if not needs_attachments_indexed(body):
        return thread
    await index_attachments(client, principal, thread["id"], [message.model_dump() for message in body.messages])
    return await asyncio.to_thread(services.threads().get, principal, thread["id"])  # now with its own store
