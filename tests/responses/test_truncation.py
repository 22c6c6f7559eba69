"""A response's `truncation`: "disabled" (OpenAI's default) fails a response whose input and history do not
fit the model's context window with `context_length_exceeded`; "auto" drops the oldest history instead.
Assistants runs keep trimming (their truncation_strategy "auto"). The window is MODEL_CONTEXT_TOKENS,
set small for this module's devhost.

The pinned SDK's ResponseError lists no `context_length_exceeded` code (OpenAI answers it all the same), so
a failed response is read with the SDK's default, lax validation; a strict client refuses it (pinned below).
"""

from __future__ import annotations

import uuid

import openai
import pytest

from scripted_model import reply_text
from tests.conftest import devhost_with, sdk_client
from tests.runs.conftest import MODEL, requests_for, token
from tests.support import keys

WINDOW = 400  # tokens; the scripted model's counter estimates about four characters a token
LONG = " ".join(["lorem"] * 600)  # about 900 tokens: over the window on its own
SHORT = " ".join(["ipsum"] * 40)


@pytest.fixture(scope="module")
def host(azurite, scripted, tmp_path_factory):
    with devhost_with(azurite, scripted, tmp_path_factory, "truncation", MODEL_CONTEXT_TOKENS=str(WINDOW)) as process:
        yield process


@pytest.fixture
def who():
    return f"principal-{uuid.uuid4().hex}"


@pytest.fixture
def lax(host, who):
    return openai.OpenAI(base_url=host.base_url, api_key=keys.key_for(who), max_retries=0, timeout=60)


@pytest.fixture
def strict(host, who):
    return sdk_client(host.base_url, who)


def _assert_exceeded(response) -> None:
    assert response.status == "failed"
    assert response.error.code == "context_length_exceeded"
    assert response.error.message.startswith("Your input exceeds the context window of this model")
    assert response.output == []


@pytest.mark.parametrize("truncation", [None, "disabled"])
def test_an_input_over_the_window_fails_the_response_and_the_model_is_never_asked(lax, scripted, truncation):
    tok = token()
    asked = {} if truncation is None else {"truncation": truncation}
    response = lax.responses.create(model=MODEL, input=f"{tok} {LONG}", **asked)
    _assert_exceeded(response)
    assert response.truncation == "disabled"
    assert requests_for(scripted, tok) == []
    _assert_exceeded(lax.responses.retrieve(response.id))


def test_a_history_over_the_window_fails_a_disabled_response_and_auto_drops_the_oldest(lax, strict, scripted):
    old = token()
    conversation = strict.conversations.create(items=[{"type": "message", "role": "user", "content": f"{old} {LONG}"}])
    strict.conversations.items.create(conversation.id, items=[
        {"type": "message", "role": "user", "content": f"Newer: {SHORT}"}])

    tok = token()
    refused = lax.responses.create(model=MODEL, input=f"Now? {tok}", conversation=conversation.id)
    _assert_exceeded(refused)
    assert requests_for(scripted, tok) == []

    tok = token()
    scripted.client.enqueue(reply_text("Trimmed and answered.", match=tok))
    trimmed = strict.responses.create(model=MODEL, input=f"Now? {tok}", conversation=conversation.id,
                                      truncation="auto")
    assert trimmed.status == "completed", trimmed.error
    assert trimmed.truncation == "auto" and trimmed.output[0].content[0].text == "Trimmed and answered."
    [asked] = requests_for(scripted, tok)
    seen = " ".join(str(m["content"]) for m in asked["messages"])
    assert old not in seen and "Newer:" in seen  # the oldest item went, the newer ones stayed


def test_a_streamed_response_over_the_window_ends_in_response_failed(lax, scripted):
    tok = token()
    events = list(lax.responses.create(model=MODEL, input=f"{tok} {LONG}", stream=True))
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.failed"
    assert events[-1].response.error.code == "context_length_exceeded"
    assert requests_for(scripted, tok) == []


def test_the_strict_sdk_refuses_the_code_its_types_do_not_list(lax, strict):
    """A fact of the pinned SDK: ResponseError.code is a closed list without context_length_exceeded."""
    response = lax.responses.create(model=MODEL, input=f"{token()} {LONG}")
    with pytest.raises(openai.APIResponseValidationError):
        strict.responses.retrieve(response.id)


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
