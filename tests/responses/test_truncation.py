"""A response's `truncation`: "disabled" (OpenAI's default) refuses a response whose input and history do not
fit the model's context window; "auto" drops the oldest history instead. Assistants runs keep trimming
(their truncation_strategy "auto"). The window is MODEL_CONTEXT_TOKENS, set small for this module's devhost.

As at OpenAI, a held or streamed create refused so is a 400 (context_length_exceeded, param input) that
leaves nothing behind: decided at create when the input alone is too large, else by the run's first turn,
which withdraws what the create stored. A background response, whose create already answered, fails with
`invalid_prompt` (the pinned SDK's ResponseError lists no context_length_exceeded): a strict client reads it.
"""

from __future__ import annotations

import time
import uuid

import openai
import pytest

from scripted_model import reply_text
from tests.conftest import devhost_with, sdk_client
from tests.runs.conftest import MODEL, requests_for, token

WINDOW = 400  # tokens; the scripted model's counter estimates about four characters a token
LONG = " ".join(["lorem"] * 600)  # about 900 tokens: over the window on its own
MEDIUM = " ".join(["dolor"] * 150)  # about 230 tokens: fits alone, not twice
SHORT = " ".join(["ipsum"] * 40)
EXCEEDED = "Your input exceeds the context window of this model"


@pytest.fixture(scope="module")
def host(azurite, scripted, tmp_path_factory):
    with devhost_with(azurite, scripted, tmp_path_factory, "truncation", MODEL_CONTEXT_TOKENS=str(WINDOW)) as process:
        yield process


@pytest.fixture
def who():
    return f"principal-{uuid.uuid4().hex}"


@pytest.fixture
def strict(host, who):
    return sdk_client(host.base_url, who)


def _assert_refused(raised) -> None:
    error = raised.value
    assert error.status_code == 400
    assert error.code == "context_length_exceeded" and error.param == "input"
    assert error.type == "invalid_request_error"
    assert error.body["message"].startswith(EXCEEDED)


def _items(client, conversation_id: str) -> list:
    return [item.model_dump() for item in client.conversations.items.list(conversation_id, order="asc", limit=100)]


def _conversation_over_the_window(client):
    conversation = client.conversations.create(items=[{"type": "message", "role": "user", "content": f"Old {LONG}"}])
    client.conversations.items.create(conversation.id, items=[
        {"type": "message", "role": "user", "content": f"Newer: {SHORT}"}])
    return conversation


@pytest.mark.parametrize("truncation", [None, "disabled"])
@pytest.mark.parametrize("stream", [False, True])
def test_an_input_over_the_window_is_a_400_and_the_model_is_never_asked(strict, scripted, truncation, stream):
    tok = token()
    asked = {} if truncation is None else {"truncation": truncation}
    with pytest.raises(openai.BadRequestError) as raised:
        strict.responses.create(model=MODEL, input=f"{tok} {LONG}", stream=stream, **asked)
    _assert_refused(raised)
    assert requests_for(scripted, tok) == []


def test_instructions_count_with_the_input(strict, scripted):
    tok = token()
    with pytest.raises(openai.BadRequestError) as raised:
        strict.responses.create(model=MODEL, instructions=MEDIUM, input=[
            {"role": "developer", "content": MEDIUM}, {"role": "user", "content": f"Hi {tok}"}])
    _assert_refused(raised)
    assert requests_for(scripted, tok) == []


@pytest.mark.parametrize("stream", [False, True])
def test_a_history_over_the_window_is_a_400_that_leaves_the_conversation_as_it_was(strict, scripted, stream):
    conversation = _conversation_over_the_window(strict)
    before = _items(strict, conversation.id)

    tok = token()
    with pytest.raises(openai.BadRequestError) as raised:
        strict.responses.create(model=MODEL, input=f"Now? {tok}", conversation=conversation.id, stream=stream)
    _assert_refused(raised)
    assert requests_for(scripted, tok) == []
    assert _items(strict, conversation.id) == before  # the refused input was taken back

    # The conversation is free: an item can be added, and a response with truncation "auto" answers.
    strict.conversations.items.create(conversation.id, items=[{"type": "message", "role": "user", "content": "Also."}])
    tok = token()
    scripted.client.enqueue(reply_text("Trimmed and answered.", match=tok))
    trimmed = strict.responses.create(model=MODEL, input=f"Now? {tok}", conversation=conversation.id,
                                      truncation="auto")
    assert trimmed.status == "completed", trimmed.error
    assert trimmed.truncation == "auto" and trimmed.output[0].content[0].text == "Trimmed and answered."
    [asked] = requests_for(scripted, tok)
    seen = " ".join(str(m["content"]) for m in asked["messages"])
    assert "Old lorem" not in seen and "Newer:" in seen  # the oldest item went, the newer ones stayed
    assert [item["id"] for item in _items(strict, conversation.id)][:len(before)] == [item["id"] for item in before]


def test_a_refused_input_of_many_messages_is_taken_back_whole(strict, scripted):
    conversation = _conversation_over_the_window(strict)
    before = _items(strict, conversation.id)
    asked = len(scripted.client.requests())
    with pytest.raises(openai.BadRequestError) as raised:  # 30 messages fit the window alone, not with the history
        strict.responses.create(model=MODEL, conversation=conversation.id, instructions="Be brief.",
                                input=[{"role": "user", "content": str(index)} for index in range(30)])
    _assert_refused(raised)
    assert len(scripted.client.requests()) == asked
    assert _items(strict, conversation.id) == before
    strict.conversations.items.create(conversation.id, items=[{"type": "message", "role": "user", "content": "Free."}])


def test_a_chain_over_the_window_is_a_400_and_the_previous_response_goes_on(strict, scripted):
    first_tok = token()
    scripted.client.enqueue(reply_text("First answered.", match=first_tok))
    first = strict.responses.create(model=MODEL, input=f"{first_tok} {MEDIUM}")
    assert first.status == "completed", first.error

    refused_tok = token()
    with pytest.raises(openai.BadRequestError) as raised:
        strict.responses.create(model=MODEL, input=f"{refused_tok} {MEDIUM}", previous_response_id=first.id)
    _assert_refused(raised)
    assert requests_for(scripted, refused_tok) == []

    # The chain's thread is free and holds nothing of the refused input: the next link reads the first only.
    tok = token()
    scripted.client.enqueue(reply_text("Second answered.", match=tok))
    second = strict.responses.create(model=MODEL, input=f"Now? {tok}", previous_response_id=first.id)
    assert second.status == "completed", second.error
    [asked] = requests_for(scripted, tok)
    seen = " ".join(str(m["content"]) for m in asked["messages"])
    assert first_tok in seen and refused_tok not in seen
    assert strict.responses.retrieve(first.id).status == "completed"


def test_a_branch_over_the_window_is_a_400(strict, scripted):
    """A branch (from a response that is no longer its thread's latest) runs in a new thread with a copy of
    the history: refused, that thread goes."""
    first_tok, next_tok = token(), token()
    scripted.client.enqueue(reply_text("First answered.", match=first_tok))
    first = strict.responses.create(model=MODEL, input=f"{first_tok} {MEDIUM}")
    scripted.client.enqueue(reply_text("Next answered.", match=next_tok))
    assert strict.responses.create(model=MODEL, input=f"Next {next_tok}", previous_response_id=first.id).status \
        == "completed"

    refused_tok = token()
    with pytest.raises(openai.BadRequestError) as raised:
        strict.responses.create(model=MODEL, input=f"{refused_tok} {MEDIUM}", previous_response_id=first.id,
                                stream=True)
    _assert_refused(raised)
    assert requests_for(scripted, refused_tok) == []


def test_a_background_response_over_the_window_fails_and_a_strict_client_reads_it(strict, scripted):
    conversation = _conversation_over_the_window(strict)
    tok = token()
    response = strict.responses.create(model=MODEL, input=f"Now? {tok}", conversation=conversation.id,
                                       background=True)
    assert response.status in ("queued", "in_progress")
    deadline = time.monotonic() + 30
    while response.status in ("queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.05)
        response = strict.responses.retrieve(response.id)
    assert response.status == "failed"
    assert response.error.code == "invalid_prompt" and response.error.message.startswith(EXCEEDED)
    assert response.output == [] and response.truncation == "disabled"
    assert requests_for(scripted, tok) == []
    events = list(strict.responses.retrieve(response.id, stream=True))
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.failed"
    assert events[-1].response.error.code == "invalid_prompt"


def test_a_background_input_over_the_window_is_refused_at_create(strict, scripted):
    """The input alone is judged before anything is stored, whatever the mode (OpenAI's 400 too)."""
    tok = token()
    with pytest.raises(openai.BadRequestError) as raised:
        strict.responses.create(model=MODEL, input=f"{tok} {LONG}", background=True)
    _assert_refused(raised)
    assert requests_for(scripted, tok) == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated
def test_assistants_runs_still_trim_their_history(strict, scripted):
    """An Assistants run's truncation_strategy stays "auto" and it is never refused: its history is read
    back until the window is passed (the message crossing it included, as before), older ones go."""
    old, tok = token(), token()
    assistant = strict.beta.assistants.create(model=MODEL)
    thread = strict.beta.threads.create(messages=[{"role": "user", "content": f"{old} {SHORT}"},
                                                  {"role": "user", "content": LONG},
                                                  {"role": "user", "content": f"Now? {tok}"}])
    scripted.client.enqueue(reply_text("Run answered.", match=tok))
    run = strict.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50)
    assert run.status == "completed", run.last_error
    assert run.truncation_strategy.type == "auto"
    [asked] = requests_for(scripted, tok)
    assert old not in " ".join(str(m["content"]) for m in asked["messages"])
