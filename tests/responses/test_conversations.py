"""Conversations are threads: CRUD and items through client.conversations, the same history through client.beta.threads."""

from __future__ import annotations

import openai
import pytest

from scripted_model import reply_text
from tests.runs.conftest import MODEL, requests_for, texts, token, wait_until

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated


def test_conversation_crud_and_items(fresh):
    conversation = fresh.conversations.create(items=[{"type": "message", "role": "user", "content": "first"}],
                                              metadata={"topic": "tests"})
    assert conversation.id.startswith("conv_") and conversation.metadata == {"topic": "tests"}
    assert fresh.conversations.retrieve(conversation.id).id == conversation.id
    updated = fresh.conversations.update(conversation.id, metadata={"topic": "changed"})
    assert updated.metadata == {"topic": "changed"}
    added = fresh.conversations.items.create(conversation.id, items=[
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "second"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "third"}]}])
    assert [item.content[0].text for item in added.data] == ["second", "third"]
    listed = fresh.conversations.items.list(conversation.id, order="asc")
    assert [item.content[0].text for item in listed.data] == ["first", "second", "third"]
    assert [item.content[0].type for item in listed.data] == ["input_text", "input_text", "output_text"]
    page = fresh.conversations.items.list(conversation.id, order="asc", limit=1, after=listed.data[0].id)
    assert [item.id for item in page.data] == [listed.data[1].id] and page.has_more
    newest = fresh.conversations.items.list(conversation.id, limit=2)
    assert [item.id for item in newest.data] == [listed.data[2].id, listed.data[1].id]
    item = fresh.conversations.items.retrieve(listed.data[1].id, conversation_id=conversation.id)
    assert item.content[0].text == "second"
    after_delete = fresh.conversations.items.delete(listed.data[1].id, conversation_id=conversation.id)
    assert after_delete.id == conversation.id
    with pytest.raises(openai.NotFoundError):
        fresh.conversations.items.retrieve(listed.data[1].id, conversation_id=conversation.id)
    deleted = fresh.conversations.delete(conversation.id)
    assert deleted.deleted and deleted.id == conversation.id
    with pytest.raises(openai.NotFoundError):
        fresh.conversations.retrieve(conversation.id)


def test_a_response_in_a_conversation_is_read_as_thread_messages(fresh, scripted):
    conversation = fresh.conversations.create(items=[{"role": "user", "content": "Remember: blue."}])
    tok = token()
    scripted.client.enqueue(reply_text("Noted, blue.", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"What colour? {tok}", conversation=conversation.id)
    assert response.conversation.id == conversation.id and response.output_text == "Noted, blue."
    seen = [message["content"] for message in requests_for(scripted, tok)[-1]["messages"]]
    assert seen == ["Remember: blue.", f"What colour? {tok}"]
    # the same history through the Assistants API: the conversation is a thread
    assert fresh.beta.threads.retrieve(conversation.id).id == conversation.id
    assert texts(fresh, conversation.id) == [("user", "Remember: blue."), ("user", f"What colour? {tok}"),
                                             ("assistant", "Noted, blue.")]
    items = fresh.conversations.items.list(conversation.id, order="asc")
    assert items.data[-1].id == response.output[0].id
    # and extended through it: a thread message is a conversation item the next response sees
    fresh.beta.threads.messages.create(conversation.id, role="user", content="Also: green.")
    tok2 = token()
    scripted.client.enqueue(reply_text("Blue and green.", match=tok2))
    fresh.responses.create(model=MODEL, input=f"And now? {tok2}", conversation={"id": conversation.id})
    seen = [message["content"] for message in requests_for(scripted, tok2)[-1]["messages"]]
    assert seen[-3:] == ["Noted, blue.", "Also: green.", f"And now? {tok2}"]


def test_a_thread_is_a_conversation_too(fresh, scripted):
    thread = fresh.beta.threads.create(messages=[{"role": "user", "content": "From the Assistants side."}])
    assert fresh.conversations.retrieve(thread.id).id == thread.id
    listed = fresh.conversations.items.list(thread.id)
    assert [item.content[0].text for item in listed.data] == ["From the Assistants side."]


def test_another_principal_gets_404(fresh, other_client):
    conversation = fresh.conversations.create(items=[{"role": "user", "content": "private"}])
    item_id = fresh.conversations.items.list(conversation.id).data[0].id
    for call in (lambda: other_client.conversations.retrieve(conversation.id),
                 lambda: other_client.conversations.update(conversation.id, metadata={}),
                 lambda: other_client.conversations.delete(conversation.id),
                 lambda: other_client.conversations.items.list(conversation.id),
                 lambda: other_client.conversations.items.create(conversation.id, items=[
                     {"role": "user", "content": "x"}]),
                 lambda: other_client.conversations.items.retrieve(item_id, conversation_id=conversation.id),
                 lambda: other_client.conversations.items.delete(item_id, conversation_id=conversation.id),
                 lambda: other_client.responses.create(model=MODEL, input="x", conversation=conversation.id),
                 lambda: other_client.beta.threads.messages.list(conversation.id)):
        with pytest.raises(openai.NotFoundError):
            call()
    assert len(fresh.conversations.items.list(conversation.id).data) == 1


@pytest.mark.parametrize("body, param", [
    ({"items": [{"type": "function_call_output", "call_id": "c", "output": "o"}]}, "items[0]"),
    ({"items": [{"role": "user", "content": ""}]}, "items[0].content"),
    ({"metadata": {"k": "v" * 600}}, "metadata.k"),
    ({"surprise": True}, "surprise"),
])
def test_bad_conversation_bodies_are_400s(fresh, body, param):
    with pytest.raises(openai.BadRequestError) as raised:
        fresh.post("/conversations", cast_to=object, body=body)
    assert raised.value.body["param"] == param


@pytest.mark.parametrize("created_by", ["conversations", "threads"])
def test_a_busy_conversation_is_named_as_the_caller_named_it(fresh, scripted, created_by):
    """One active run per thread; the 400 says so in the words of the API the caller used, with its id."""
    conversation_id = (fresh.conversations.create().id if created_by == "conversations"
                       else fresh.beta.threads.create().id)
    tok = token()
    scripted.client.enqueue(reply_text("Slow answer.", match=tok, latency_ms=1500))
    running = fresh.responses.create(model=MODEL, input=f"Slow {tok}", conversation=conversation_id, background=True)

    with pytest.raises(openai.BadRequestError) as caught:
        fresh.responses.create(model=MODEL, input="Meanwhile?", conversation=conversation_id)
    assert caught.value.body["message"] == (f"Another response is already in progress for conversation {conversation_id}; "
                                    "create another response on it once that one has finished.")
    assert (caught.value.body["param"], caught.value.code) == ("conversation", "conversation_locked")
    with pytest.raises(openai.BadRequestError) as caught:
        fresh.conversations.items.create(conversation_id, items=[{"type": "message", "role": "user", "content": "x"}])
    assert caught.value.body["message"].startswith(f"Another response is already in progress for conversation "
                                           f"{conversation_id}; add items to it")
    assert caught.value.code == "conversation_locked"

    run_id = "run_" + running.id.removeprefix("resp_")  # a response is a run: the Assistants API keeps its words
    assistant = fresh.beta.assistants.create(model=MODEL)
    with pytest.raises(openai.BadRequestError) as caught:
        fresh.beta.threads.runs.create(thread_id=conversation_id, assistant_id=assistant.id)
    assert caught.value.body["message"] == f"Thread {conversation_id} already has an active run {run_id}."
    with pytest.raises(openai.BadRequestError) as caught:
        fresh.beta.threads.messages.create(thread_id=conversation_id, role="user", content="x")
    assert caught.value.body["message"] == f"Can't add messages to {conversation_id} while a run {run_id} is active."

    assert wait_until(lambda: fresh.responses.retrieve(running.id).status not in ("queued", "in_progress"),
                      what="the slow response to end")
    assert fresh.responses.retrieve(running.id).status == "completed"


def test_an_input_too_large_for_one_write_into_a_conversation_is_a_400_that_stores_nothing(fresh, scripted):
    conversation = fresh.conversations.create(items=[{"role": "user", "content": "Earlier."}])
    many = [{"role": "user", "content": f"message {i}"} for i in range(120)]
    with pytest.raises(openai.BadRequestError) as refused:
        fresh.responses.create(model=MODEL, input=many, conversation=conversation.id)
    assert refused.value.body["param"] == "input" and "conversations.items.create" in refused.value.body["message"]
    assert len(fresh.conversations.items.list(conversation.id, limit=100).data) == 1
    tok = token()
    scripted.client.enqueue(reply_text("Still free.", match=tok))
    assert fresh.responses.create(model=MODEL, input=f"next {tok}", conversation=conversation.id).output_text == \
        "Still free."
