"""POST /v1/responses/input_tokens through client.responses.input_tokens.count (strict validation): the
count is the prompt a response created with the same request sends the model, counted."""

from __future__ import annotations

import base64

import openai
import pytest

from core.model_context import IMAGE_TOKENS, message_tokens
from core.tokens import counter_for, text_of
from scripted_model import reply_text
from tests.responses.test_inputs import PNG_URL
from tests.responses.test_responses import WEATHER, weather_answered
from tests.runs.conftest import requests_for, token

TIKTOKEN_MODEL = "gpt-4o"  # a name tiktoken knows (o200k_base ships with the app); the scripted model takes any


def sent_tokens(body: dict, model: str = TIKTOKEN_MODEL) -> int:
    """What the model was sent, counted as the engine counts a prompt."""
    count = counter_for(model)
    return sum(message_tokens(message, count) for message in body["messages"]) + \
        (count(text_of(body["tools"])) if body.get("tools") else 0)


def counted_and_sent(client: openai.OpenAI, scripted, tok: str, **request) -> tuple[int, int]:
    counted = client.responses.input_tokens.count(model=TIKTOKEN_MODEL, **request)
    assert counted.object == "response.input_tokens"
    scripted.client.enqueue(reply_text("ok", match=tok))
    client.responses.create(model=TIKTOKEN_MODEL, **request)
    return counted.input_tokens, sent_tokens(requests_for(scripted, tok)[-1])


def test_the_count_is_the_prompt_a_response_sends(fresh, scripted):
    tok = token()
    counted, sent = counted_and_sent(fresh, scripted, tok, input=f"What is the weather in Paris? {tok}",
                                     instructions="You are terse.", tools=[WEATHER])
    assert counted == sent > 0
    alone = fresh.responses.input_tokens.count(model=TIKTOKEN_MODEL, input=f"What is the weather in Paris? {tok}")
    assert alone.input_tokens < counted  # instructions and tools count


def test_history_counts_through_a_conversation_and_a_previous_response(fresh, scripted):
    first = token()
    scripted.client.enqueue(reply_text("Noted: the password is swordfish.", match=first))
    earlier = fresh.responses.create(model=TIKTOKEN_MODEL, input=f"Remember swordfish {first}")
    tok = token()
    counted, sent = counted_and_sent(fresh, scripted, tok, input=f"And now? {tok}", previous_response_id=earlier.id)
    assert counted == sent
    conversation = fresh.conversations.create(items=[{"role": "user", "content": "A long-ago message " * 20}])
    tok = token()
    counted, sent = counted_and_sent(fresh, scripted, tok, input=f"Go on {tok}", conversation=conversation.id)
    assert counted == sent
    items = fresh.conversations.items.list(conversation.id).data
    assert len(items) == 3  # the count added nothing: the first message, then the response's input and answer


def test_the_earlier_responses_tool_calls_count_as_the_model_reads_them(fresh, scripted):
    tok = token()
    second, _ = weather_answered(fresh, scripted, tok, TIKTOKEN_MODEL, "sunny, light wind " * 40)
    counted, sent = counted_and_sent(fresh, scripted, tok, input=f"And tomorrow? {tok}", previous_response_id=second.id,
                                     tools=[WEATHER])
    assert counted == sent > 160  # the 40 repeats of the tool's output are in both


def test_images_and_inline_files_count_and_nothing_is_stored(fresh, scripted):
    tok = token()
    text = "A page of the report. " * 50
    input_ = [{"role": "user", "content": [
        {"type": "input_text", "text": f"Read these {tok}"}, {"type": "input_image", "image_url": PNG_URL},
        {"type": "input_file", "filename": "report.txt", "file_data": base64.b64encode(text.encode()).decode()}]}]
    counted = fresh.responses.input_tokens.count(model=TIKTOKEN_MODEL, input=input_).input_tokens
    assert fresh.files.list().data == []  # counting stores no file
    plain = fresh.responses.input_tokens.count(model=TIKTOKEN_MODEL, input=f"Read these {tok}").input_tokens
    assert counted - plain >= IMAGE_TOKENS + counter_for(TIKTOKEN_MODEL)(text) - 5
    scripted.client.enqueue(reply_text("ok", match=tok))
    fresh.responses.create(model=TIKTOKEN_MODEL, input=input_)
    assert sent_tokens(requests_for(scripted, tok)[-1]) == counted


def test_without_a_model_the_estimate_counts(fresh):
    counted = fresh.responses.input_tokens.count(input="x" * 300)
    assert counted.input_tokens == 6 + 100  # a message's overhead and a token per three ASCII characters


def test_errors_are_those_of_create(fresh, other_client, scripted):
    with pytest.raises(openai.NotFoundError):
        fresh.responses.input_tokens.count(model=TIKTOKEN_MODEL, input="x", conversation="conv_nope")
    with pytest.raises(openai.BadRequestError) as raised:
        fresh.responses.input_tokens.count(model=TIKTOKEN_MODEL, input="x", previous_response_id="resp_nope")
    assert raised.value.body["code"] == "previous_response_not_found"
    with pytest.raises(openai.BadRequestError) as raised:
        fresh.responses.input_tokens.count(model=TIKTOKEN_MODEL, input=[{"role": "user", "content": [
            {"type": "input_image", "image_url": "data:image/png;base64,!!"}]}])
    assert raised.value.body["param"] == "input[0].content[0]"
    with pytest.raises(openai.BadRequestError) as raised:
        fresh.post("/responses/input_tokens", cast_to=object, body={"input": "x", "stream": True})
    assert raised.value.body["param"] == "stream"
    with pytest.raises(openai.BadRequestError):
        fresh.responses.input_tokens.count(model=TIKTOKEN_MODEL)
    tok = token()
    scripted.client.enqueue(reply_text("mine", match=tok))
    conversation = fresh.conversations.create()
    with pytest.raises(openai.NotFoundError):
        other_client.responses.input_tokens.count(model=TIKTOKEN_MODEL, input="x", conversation=conversation.id)


@pytest.mark.parametrize("request_fields, code", [
    ({"previous_response_id": "resp_a", "conversation": "conv_a"}, "mutually_exclusive_parameters"),
    ({"tools": [{"type": "file_search", "vector_store_ids": ["vs_a"]},
                {"type": "file_search", "vector_store_ids": ["vs_b"]}]}, None),
])
def test_a_request_create_refuses_is_refused_here_too(fresh, request_fields, code):
    """Found by the fuzzer: checks create made on the whole request escaped the count as a 500."""
    with pytest.raises(openai.BadRequestError) as raised:
        fresh.post("/responses/input_tokens", cast_to=object, body={"input": "x", **request_fields})
    assert raised.value.body["type"] == "invalid_request_error"
    if code:
        assert raised.value.body["code"] == code
