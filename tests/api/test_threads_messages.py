"""Threads and messages through the official SDK."""

from __future__ import annotations

import concurrent.futures

import openai
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated


def test_thread_lifecycle(client):
    thread = client.beta.threads.create(metadata={"topic": "math"})
    assert thread.id.startswith("thread_") and thread.object == "thread"
    assert thread.metadata == {"topic": "math"} and thread.to_dict()["tool_resources"] == {}
    assert client.beta.threads.retrieve(thread.id) == thread
    store = client.vector_stores.create()
    updated = client.beta.threads.update(thread.id, metadata={"topic": "art"},
                                         tool_resources={"file_search": {"vector_store_ids": [store.id]}})
    assert updated.metadata == {"topic": "art"} and updated.tool_resources.file_search.vector_store_ids == [store.id]
    assert client.beta.threads.retrieve(thread.id).model_dump() == updated.model_dump()
    deleted = client.beta.threads.delete(thread.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (thread.id, "thread.deleted", True)
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.threads.retrieve(thread.id)
    assert caught.value.body["message"] == f"No thread found with id '{thread.id}'."


def test_create_thread_with_messages_keeps_order(client):
    file = client.files.create(file=("notes.txt", b"hello"), purpose="assistants")
    thread = client.beta.threads.create(
        messages=[
            {"role": "user", "content": "first", "metadata": {"n": "1"}},
            {"role": "assistant", "content": [{"type": "text", "text": "second"}]},
            {"role": "user", "content": "third",
             "attachments": [{"file_id": file.id, "tools": [{"type": "code_interpreter"}, {"type": "file_search"}]}]},
        ],
        tool_resources={"code_interpreter": {"file_ids": [file.id]}},
    )
    assert thread.tool_resources.code_interpreter.file_ids == [file.id]
    messages = client.beta.threads.messages.list(thread.id, order="asc").data
    assert [m.content[0].text.value for m in messages] == ["first", "second", "third"]
    assert [m.role for m in messages] == ["user", "assistant", "user"]
    assert messages[0].metadata == {"n": "1"} and messages[2].attachments[0].file_id == file.id
    assert [t.type for t in messages[2].attachments[0].tools] == ["code_interpreter", "file_search"]
    assert all(m.thread_id == thread.id and m.object == "thread.message" for m in messages)


def test_message_lifecycle(client):
    thread = client.beta.threads.create()
    message = client.beta.threads.messages.create(thread.id, role="user", content="Hi there", metadata={"a": "b"})
    raw = message.model_dump()
    assert message.id.startswith("msg_") and message.thread_id == thread.id and message.role == "user"
    assert raw["content"] == [{"type": "text", "text": {"value": "Hi there", "annotations": []}}]
    assert raw["assistant_id"] is None and raw["run_id"] is None and raw["attachments"] == []
    assert message.status == "completed" and message.metadata == {"a": "b"}
    assert client.beta.threads.messages.retrieve(message.id, thread_id=thread.id) == message
    updated = client.beta.threads.messages.update(message.id, thread_id=thread.id, metadata={"c": "d"})
    assert updated.metadata == {"c": "d"} and updated.content == message.content
    assert client.beta.threads.messages.retrieve(message.id, thread_id=thread.id).metadata == {"c": "d"}
    deleted = client.beta.threads.messages.delete(message.id, thread_id=thread.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (message.id, "thread.message.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.retrieve(message.id, thread_id=thread.id)
    assert client.beta.threads.messages.list(thread.id).data == []


def test_content_parts_images_and_limits(client):
    image = client.files.create(file=("pic.png", b"\x89PNG fake"), purpose="vision")
    thread = client.beta.threads.create()
    message = client.beta.threads.messages.create(thread.id, role="user", content=[
        {"type": "text", "text": "look"},
        {"type": "image_file", "image_file": {"file_id": image.id, "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ])
    assert [block.type for block in message.content] == ["text", "image_file", "image_url"]
    assert message.content[1].image_file.detail == "high" and message.content[2].image_url.detail == "auto"

    longest = "é" * 256_000  # 512,000 bytes of UTF-8: spills out of the table entity
    big = client.beta.threads.messages.create(thread.id, role="user", content=longest)
    assert client.beta.threads.messages.retrieve(big.id, thread_id=thread.id).content[0].text.value == longest
    assert client.beta.threads.messages.list(thread.id, limit=1).data[0].content[0].text.value == longest
    client.beta.threads.messages.update(big.id, thread_id=thread.id, metadata={"big": "yes"})
    assert client.beta.threads.messages.retrieve(big.id, thread_id=thread.id).content[0].text.value == longest


@pytest.mark.parametrize("body, param, code", [
    ({"role": "user"}, "content", "missing_required_parameter"),
    ({"content": "x"}, "role", "missing_required_parameter"),
    ({"role": "system", "content": "x"}, "role", "invalid_value"),
    ({"role": "user", "content": 5}, "content", "invalid_type"),
    ({"role": "user", "content": "x" * 256_001}, "content", "string_above_max_length"),
    ({"role": "user", "content": [{"type": "text", "text": "x" * 200_000}, {"type": "text", "text": "y" * 60_000}]},
     None, "string_above_max_length"),
    ({"role": "user", "content": []}, "content", "empty_array"),
    ({"role": "user", "content": [{"type": "audio"}]}, "content[0].type", "invalid_value"),
    ({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]},
     "content[0].image_url.url", "invalid_url"),
    ({"role": "user", "content": "x", "attachments": [{"file_id": "file-missing", "tools": []}]},
     "attachments[0].file_id", "invalid_value"),
    ({"role": "user", "content": "x", "attachments": [{"file_id": "f", "tools": [{"type": "web"}]}]},
     "attachments[0].tools[0].type", "invalid_value"),
    ({"role": "user", "content": "x", "metadata": {str(i): "v" for i in range(17)}}, "metadata",
     "object_above_max_properties"),
    ({"role": "user", "content": "x", "run_id": "run_1"}, "run_id", "unknown_parameter"),
])
def test_message_validation(client, body, param, code):
    thread = client.beta.threads.create()
    with pytest.raises(openai.BadRequestError) as caught:
        client.post(f"/threads/{thread.id}/messages", body=body, cast_to=object)
    error = caught.value.body
    assert (error["param"], error["code"]) == (param, code), error
    assert client.beta.threads.messages.list(thread.id).data == []  # nothing half-written


def test_thread_validation_writes_nothing(client, fresh_client):
    with pytest.raises(openai.BadRequestError) as caught:
        fresh_client.beta.threads.create(messages=[{"role": "user", "content": "ok"}, {"role": "user", "content": ""}])
    assert caught.value.body["param"] == "messages[1].content"
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.threads.create(metadata={"k": "v" * 513})
    assert caught.value.body["param"] == "metadata.k"
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.threads.create(tool_resources={"code_interpreter": {"file_ids": ["f"] * 21}})
    assert caught.value.body["code"] == "array_above_max_length"


def test_message_pagination_and_run_filter(fresh_client):
    thread = fresh_client.beta.threads.create(messages=[{"role": "user", "content": f"m{i}"} for i in range(5)])
    for i in range(5, 25):
        fresh_client.beta.threads.messages.create(thread.id, role="user", content=f"m{i}")
    everything = [m.content[0].text.value for m in fresh_client.beta.threads.messages.list(thread.id, limit=7)]
    assert everything == [f"m{i}" for i in reversed(range(25))]
    ascending = [m.content[0].text.value for m in fresh_client.beta.threads.messages.list(thread.id, order="asc", limit=4)]
    assert ascending == [f"m{i}" for i in range(25)]
    first = fresh_client.beta.threads.messages.list(thread.id)
    assert len(first.data) == 20 and first.has_more is True
    assert fresh_client.beta.threads.messages.list(thread.id, run_id="run_nothing").data == []


def test_concurrent_message_creates_all_land(fresh_client):
    thread = fresh_client.beta.threads.create()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        created = list(pool.map(
            lambda i: fresh_client.beta.threads.messages.create(thread.id, role="user", content=str(i)).id, range(24)))
    listed = [m.id for m in fresh_client.beta.threads.messages.list(thread.id, order="asc", limit=100)]
    assert sorted(listed) == listed and set(listed) == set(created)


def test_unknown_and_foreign_ids(client, other_client):
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "secret"}])
    message = client.beta.threads.messages.list(thread.id).data[0]
    calls = [
        lambda c: c.beta.threads.retrieve(thread.id),
        lambda c: c.beta.threads.update(thread.id, metadata={"x": "y"}),
        lambda c: c.beta.threads.messages.list(thread.id),
        lambda c: c.beta.threads.messages.create(thread.id, role="user", content="intrude"),
        lambda c: c.beta.threads.messages.retrieve(message.id, thread_id=thread.id),
        lambda c: c.beta.threads.messages.update(message.id, thread_id=thread.id, metadata={"x": "y"}),
        lambda c: c.beta.threads.messages.delete(message.id, thread_id=thread.id),
        lambda c: c.beta.threads.delete(thread.id),
    ]
    for call in calls:
        with pytest.raises(openai.NotFoundError):
            call(other_client)
    assert [m.id for m in client.beta.threads.messages.list(thread.id)] == [message.id]
    assert client.beta.threads.retrieve(thread.id).metadata == {}
    other_thread = client.beta.threads.create()
    with pytest.raises(openai.NotFoundError):  # a message id from another thread
        client.beta.threads.messages.retrieve(message.id, thread_id=other_thread.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.retrieve("msg_unknown", thread_id=thread.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.create("thread_unknown", role="user", content="x")


def test_create_thread_with_many_and_maximal_messages(client):
    longest = "é" * 256_000
    initial = [{"role": "user", "content": longest}] * 3 + [{"role": "user", "content": f"m{i}"} for i in range(60)]
    thread = client.beta.threads.create(messages=initial)  # 126 message rows: more than one transaction
    listed = list(client.beta.threads.messages.list(thread.id, order="asc", limit=100))
    assert [m.content[0].text.value for m in listed] == [message["content"] for message in initial]
    client.beta.threads.delete(thread.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.list(thread.id)
