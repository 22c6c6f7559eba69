"""The seed's client path: AzureOpenAI(azure_endpoint=root) and OpenAI(base_url=root/v1) on one key.

Assistants, threads, messages, files and runs, then the model endpoints the seed
calls on the same client (chat completions, plain and streamed, and embeddings),
passed through to the configured model (here the scripted one).
"""

from __future__ import annotations

import uuid

import openai
import pytest

from scripted_model import embeddings, reply_text
from tests.support import keys

MODEL = "gpt-scripted"


@pytest.fixture(params=["openai", "azure"])
def seed_client(request, devhost):
    key = keys.key_for(f"seed-{uuid.uuid4().hex}")
    if request.param == "azure":
        return openai.AzureOpenAI(azure_endpoint=devhost.root_url, api_key=key, api_version="2024-05-01-preview",
                                  max_retries=0, timeout=60)
    return openai.OpenAI(base_url=devhost.base_url, api_key=key, max_retries=0, timeout=60)


def test_assistants_threads_messages_files_and_runs(seed_client, scripted):
    tok = "seed" + uuid.uuid4().hex[:10]
    scripted.client.enqueue(reply_text(f"Your budget looks fine {tok}", match=tok))
    uploaded = seed_client.files.create(file=("budget.csv", b"month,spent\njan,10\n"), purpose="assistants")
    assistant = seed_client.beta.assistants.create(
        model=MODEL, name="Personal Finance", instructions="Help with money.", tools=[{"type": "code_interpreter"}],
        tool_resources={"code_interpreter": {"file_ids": [uploaded.id]}})
    thread = seed_client.beta.threads.create()
    seed_client.beta.threads.messages.create(thread_id=thread.id, role="user", content=f"How am I doing? {tok}")
    run = seed_client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                         poll_interval_ms=50)
    assert run.status == "completed", run.last_error
    messages = seed_client.beta.threads.messages.list(thread_id=thread.id, order="asc")
    assert [m.role for m in messages.data] == ["user", "assistant"]
    assert messages.data[1].content[0].text.value == f"Your budget looks fine {tok}"
    assert [s.type for s in seed_client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data] == \
        ["message_creation"]
    assert seed_client.files.content(uploaded.id).read() == b"month,spent\njan,10\n"
    assert seed_client.beta.assistants.retrieve(assistant.id).tool_resources.code_interpreter.file_ids == [uploaded.id]
    assert seed_client.beta.threads.delete(thread.id).deleted
    assert seed_client.beta.assistants.delete(assistant.id).deleted
    assert seed_client.files.delete(uploaded.id).deleted


def test_chat_completions_pass_through(seed_client, scripted):
    tok = "chat" + uuid.uuid4().hex[:10]
    scripted.client.enqueue(reply_text(f"Q3 sales rose {tok}", match=tok))
    completion = seed_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"Sales? {tok}"}])
    assert completion.choices[0].message.content == f"Q3 sales rose {tok}"
    (request,) = [r for r in scripted.client.requests() if tok in str(r["messages"])]
    assert request["model"] == MODEL  # the deployment (Azure) or model (OpenAI) name reaches the model


def test_streamed_chat_completions_pass_through_as_chunks(seed_client, scripted):
    tok = "stream" + uuid.uuid4().hex[:10]
    answer = f"A long streamed answer about pipeline coverage {tok} " * 3
    scripted.client.enqueue(reply_text(answer, match=tok))
    stream = seed_client.chat.completions.create(model=MODEL, stream=True,
                                                 messages=[{"role": "user", "content": f"Stream {tok}"}])
    pieces = [chunk.choices[0].delta.content for chunk in stream if chunk.choices and chunk.choices[0].delta.content]
    assert len(pieces) > 1 and "".join(pieces) == answer


def test_embeddings_pass_through(seed_client):
    result = seed_client.embeddings.create(model="text-embedding-3-small", input=["north region", "south region"])
    assert [e.index for e in result.data] == [0, 1] and len(result.data[0].embedding) == embeddings.DIMENSIONS
    assert result.data[0].embedding != result.data[1].embedding


def test_model_errors_come_back_as_the_callers_errors(seed_client, scripted):
    with pytest.raises(openai.BadRequestError):
        seed_client.chat.completions.create(model=MODEL, messages=[])
    with pytest.raises(openai.BadRequestError):
        seed_client.embeddings.create(model=MODEL, input=[])


def test_pass_through_needs_a_key(devhost):
    anonymous = openai.OpenAI(base_url=devhost.base_url, api_key="sk-not-issued-here", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anonymous.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "free tokens?"}])
