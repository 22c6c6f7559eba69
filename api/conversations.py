"""/v1/conversations: a conversation is a thread; its items are the thread's messages and its runs' tool calls.

Ids: a conversation created here is a thread whose id has the `conv_` prefix; a thread created by
the Assistants API keeps `thread_`. Both APIs take either id (core.ids: a `conv_` id is also a
thread id), and reach the same stored history: messages added here are thread messages, a run's
or a response's messages and tool calls are conversation items (usecases.conversation_items reads
them, core.wire.conversation_items orders and names them). Handlers parse, authorize, call the
repositories the Assistants endpoints use, and render the Conversations wire.
"""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from api import requests
from api.routing import QueryParam, endpoint, pagination_params
from core import ids
from core.errors import InvalidRequest, NotFound, ThreadBusy, conversation_busy
from core.wire import conversation_items, response_objects
from core.wire.messages import MessageCreate, new_message
from core.wire.responses import (
    INCLUDABLE,
    ConversationCreate,
    ConversationItemsCreate,
    ConversationUpdate,
    InputMessage,
)
from core.wire.threads import ThreadCreate, new_thread
from usecases import conversation_items as conversation_item_reads
from usecases import services
from usecases.response_media import MediaReader

bp = df.Blueprint()
TAG = "Conversations"
CONVERSATION = "conversations/{conversation_id}"
ITEM = CONVERSATION + "/items/{item_id}"


def _messages(items: list, param: str, media: MediaReader) -> list[MessageCreate]:
    """Items to store as thread messages (this slice stores user and assistant messages; a user's
    images and files as usecases.response_media makes them)."""
    made = []
    for index, item in enumerate(items):
        if isinstance(item, InputMessage) and item.role == "user" and item.media():
            made.append(media.message(item, f"{param}[{index}]")[0])
            continue
        if isinstance(item, InputMessage) and item.media():
            raise InvalidRequest(f"Invalid '{param}[{index}].content': image and file parts are accepted in user "
                                 "messages only.", param=f"{param}[{index}].content", code="invalid_value")
        if not isinstance(item, InputMessage) or item.role not in ("user", "assistant"):
            kind = item.type if not isinstance(item, InputMessage) else f"{item.role} message"
            raise InvalidRequest(f"Invalid '{param}[{index}]': {kind} items cannot be added to a conversation by "
                                 "this service yet; add user or assistant messages.", param=f"{param}[{index}]",
                                 code="unsupported_value")
        if not item.text():
            raise InvalidRequest(f"Invalid '{param}[{index}].content': empty text.", param=f"{param}[{index}].content",
                                 code="empty_string")
        made.append(MessageCreate(role=item.role, content=item.text()))
    return made


def _thread(principal: str, conversation_id: str) -> dict:
    try:
        return services.threads().get(principal, conversation_id)
    except NotFound:
        raise NotFound("conversation", conversation_id) from None


@endpoint(bp, "POST", "conversations", summary="Create a conversation", tag=TAG, body=ConversationCreate,
          openai_v1=True)
def conversations_create(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    body = requests.body(req, ConversationCreate)
    media = MediaReader(principal)
    bodies = _messages(body.items or [], "items", media)
    created_at = services.now()
    media.store(created_at)
    thread = new_thread(ids.new_id("conversation"), created_at, ThreadCreate(metadata=body.metadata))
    messages = [new_message(ids.new_id("message"), thread["id"], created_at, message) for message in bodies]
    with services.messages().staged() as staged:
        services.threads().create(principal, thread, services.messages().insert_all_ops(principal, messages, staged))
    return requests.json_response(response_objects.conversation_object(thread))


@endpoint(bp, "GET", CONVERSATION, summary="Retrieve a conversation", tag=TAG, openai_v1=True)
def conversations_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    thread = _thread(principal, req.route_params["conversation_id"])
    return requests.json_response(response_objects.conversation_object(thread))


@endpoint(bp, "POST", CONVERSATION, summary="Update a conversation's metadata", tag=TAG, body=ConversationUpdate,
          openai_v1=True)
def conversations_update(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    conversation_id = req.route_params["conversation_id"]
    body = requests.body(req, ConversationUpdate)
    _thread(principal, conversation_id)
    updated = services.threads().update(principal, conversation_id, lambda current: {**current, "metadata": body.metadata})
    return requests.json_response(response_objects.conversation_object(updated))


@endpoint(bp, "DELETE", CONVERSATION, summary="Delete a conversation (its thread, with every item)", tag=TAG,
          openai_v1=True)
def conversations_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    conversation_id = req.route_params["conversation_id"]
    _thread(principal, conversation_id)
    services.threads().delete(principal, conversation_id)
    return requests.json_response(response_objects.conversation_deleted(conversation_id))


@endpoint(bp, "POST", CONVERSATION + "/items", summary="Add items to a conversation", tag=TAG,
          body=ConversationItemsCreate, openai_v1=True)
def conversation_items_create(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    conversation_id = req.route_params["conversation_id"]
    body = requests.body(req, ConversationItemsCreate)
    _thread(principal, conversation_id)
    media = MediaReader(principal)
    bodies = _messages(body.items, "items", media)
    created_at = services.now()
    media.store(created_at)
    try:
        stored = [services.messages().create(principal, new_message(ids.new_id("message"), conversation_id,
                                                                    created_at, message)) for message in bodies]
    except ThreadBusy:
        raise conversation_busy(conversation_id, adding_items=True) from None
    return requests.json_response(response_objects.item_list([response_objects.message_item(m) for m in stored], False))


INCLUDE = QueryParam("include[]", {"type": "array", "items": {"type": "string", "enum": list(INCLUDABLE)}},
                     "Extra fields of the call items (a code_interpreter call's outputs, a search's results).")


def _include(req: func.HttpRequest) -> frozenset[str]:
    return requests.include(req.url.partition("?")[2], INCLUDABLE) or frozenset()


@endpoint(bp, "GET", CONVERSATION + "/items", summary="List a conversation's items (messages and tool calls)",
          tag=TAG, openai_v1=True, query=(*pagination_params(before=False), INCLUDE))
def conversation_items_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    conversation_id = req.route_params["conversation_id"]
    page_request = requests.page_request(req, "item", is_cursor=conversation_items.is_item_id)
    include = _include(req)
    _thread(principal, conversation_id)
    items, has_more = conversation_item_reads.page(principal, conversation_id, page_request, include)
    return requests.json_response(response_objects.item_list(items, has_more))


@endpoint(bp, "GET", ITEM, summary="Retrieve a conversation item", tag=TAG, openai_v1=True, query=(INCLUDE,))
def conversation_items_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    route = req.route_params
    include = _include(req)
    _thread(principal, route["conversation_id"])
    return requests.json_response(conversation_item_reads.item(principal, route["conversation_id"], route["item_id"],
                                                               include))


@endpoint(bp, "DELETE", ITEM, summary="Delete a conversation item (a message; a run's tool calls stay)", tag=TAG,
          openai_v1=True)
def conversation_items_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    """A message is deleted as its thread message is. A call item is refused: it is part of its run's
    step, and the model's later turns read each call with its answer (one without the other is not a
    history a model accepts)."""
    conversation_id, item_id = req.route_params["conversation_id"], req.route_params["item_id"]
    _thread(principal, conversation_id)
    conversation_item_reads.item(principal, conversation_id, item_id, frozenset())
    if not ids.is_id("message", item_id):
        raise InvalidRequest(f"Invalid item '{item_id}': a run's tool call items cannot be deleted from a "
                             "conversation; delete its messages, or the conversation.", param="item_id",
                             code="unsupported_value")
    try:
        services.messages().delete(principal, conversation_id, item_id)
    except NotFound:
        raise NotFound("item", item_id) from None
    return requests.json_response(response_objects.conversation_object(_thread(principal, conversation_id)))
