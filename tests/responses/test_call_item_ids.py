"""A tool call has one item id in every view: a response's output, its stream, its input items and its
conversation's items (list, retrieve, cursor) name it alike, as at OpenAI."""

from __future__ import annotations

import json

import openai
import pytest

from scripted_model import reply_text, reply_tool_calls
from tests.responses.test_streams import checked
from tests.runs.conftest import MODEL, token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
TIME = {"type": "function", "name": "get_time", "description": "Local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
CODE = {"type": "code_interpreter", "container": {"type": "auto"}}


def _two_calls(client: openai.OpenAI, scripted, tok: str, **where):
    """A response calling get_weather and get_time at once."""
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}},
                                              {"name": "get_time", "arguments": {"city": "Oslo"}}], match=tok))
    first = client.responses.create(model=MODEL, input=f"Weather and time in Oslo? {tok}", tools=[WEATHER, TIME],
                                    **where)
    assert [item.type for item in first.output] == ["function_call", "function_call"], first.output
    return first


def _given_back(response) -> list[dict]:
    """A response's output as a client keeping its own history passes it back."""
    return [item.model_dump(exclude_none=True) for item in response.output]


def _outputs(response) -> list[dict]:
    return [{"type": "function_call_output", "call_id": item.call_id, "output": f"answer to {item.name}"}
            for item in response.output]


def _retrieved(client: openai.OpenAI, conversation_id: str, item_id: str) -> dict:
    return client.conversations.items.retrieve(item_id, conversation_id=conversation_id).model_dump()


def test_a_responses_calls_are_the_conversations_items_under_the_same_ids(fresh, scripted):
    conversation = fresh.conversations.create()
    tok = token()
    first = _two_calls(fresh, scripted, tok, conversation=conversation.id)
    for item in first.output:  # found again by the id the response shows, as the response shows it
        assert item.model_dump().items() <= _retrieved(fresh, conversation.id, item.id).items()
    assert [item.id for item in fresh.responses.retrieve(first.id).output] == [item.id for item in first.output]
    # the output's ids are cursors of the conversation's list too
    listed = fresh.conversations.items.list(conversation.id, order="asc", after=first.output[0].id)
    assert [item.id for item in listed.data] == [first.output[1].id]

    # the client answers, giving the calls back as its own history does: each call is still one item
    scripted.client.enqueue(reply_text("Sunny, at noon.", match=tok))
    second = fresh.responses.create(model=MODEL, tools=[WEATHER, TIME], conversation=conversation.id,
                                    input=[*_given_back(first), *_outputs(first)])
    assert second.output_text == "Sunny, at noon."
    items = fresh.conversations.items.list(conversation.id, order="asc", limit=100).data
    assert [item.type for item in items] == ["message", "function_call", "function_call", "function_call_output",
                                             "function_call_output", "message"]
    assert [item.id for item in items[1:3]] == [item.id for item in first.output]
    given = fresh.responses.input_items.list(second.id, order="asc").data
    assert [(item.type, item.id) for item in given] == [(item.type, item.id) for item in items[1:5]]
    for item in given:
        assert _retrieved(fresh, conversation.id, item.id)["call_id"] == item.call_id
    assert items[-1].id == second.output[0].id


def _ids_in(events) -> set[str]:
    """Every item id a stream names: its items' and its events' item_id fields."""
    named = {event.item.id for event in events if event.type in ("response.output_item.added",
                                                                 "response.output_item.done")}
    return named | {event.item_id for event in events if getattr(event, "item_id", None)}


@pytest.mark.parametrize("tool", ["function", "code_interpreter"])
def test_a_streamed_call_is_named_as_its_output_and_its_conversation_name_it(fresh, scripted, tool):
    conversation = fresh.conversations.create()
    tok = token()
    if tool == "function":
        scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}],
                                                 match=tok, piece_ms=40))
    else:
        scripted.client.enqueue(reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": "print(6 * 7)"}}],
                                                 match=tok, piece_ms=40), reply_text("It is 42.", match=tok))
    events = checked(list(fresh.responses.create(model=MODEL, input=f"Go {tok}", conversation=conversation.id,
                                                 tools=[WEATHER if tool == "function" else CODE], stream=True)))
    final = events[-1].response
    assert final.status == "completed", final.error
    call = final.output[0]
    assert call.type == ("function_call" if tool == "function" else "code_interpreter_call")
    texts = {item.id for item in final.output[1:]}
    assert _ids_in(events) - texts == {call.id}
    assert [item.id for item in fresh.responses.retrieve(final.id).output] == [item.id for item in final.output]
    assert _retrieved(fresh, conversation.id, call.id)["id"] == call.id
    assert call.id in [item.id for item in fresh.conversations.items.list(conversation.id).data]


def test_a_call_loop_passing_the_output_back_keeps_the_calls_ids(fresh, scripted):
    tok = token()
    first = _two_calls(fresh, scripted, tok)
    # a client keeping its own history: no previous response, the output and the answers as input
    scripted.client.enqueue(reply_text("Sunny, at noon.", match=tok))
    asked = {"type": "message", "role": "user", "content": f"Weather and time in Oslo? {tok}"}
    second = fresh.responses.create(model=MODEL, tools=[WEATHER, TIME],
                                    input=[asked, *_given_back(first), *_outputs(first)])
    assert second.output_text == "Sunny, at noon."
    given = fresh.responses.input_items.list(second.id, order="asc").data
    assert [item.type for item in given] == ["message", "function_call", "function_call", "function_call_output",
                                             "function_call_output"]
    assert [item.id for item in given[1:3]] == [item.id for item in first.output]
    assert len({item.id for item in given}) == 5

    # chained by previous_response_id, with or without the calls given back: their ids are the output's
    for passed in (_given_back(first), []):
        scripted.client.enqueue(reply_text("Still sunny.", match=tok))
        chained = fresh.responses.create(model=MODEL, tools=[WEATHER, TIME], previous_response_id=first.id,
                                         input=[*passed, *_outputs(first)])
        assert chained.output_text == "Still sunny."
        shown = fresh.responses.input_items.list(chained.id, order="asc").data
        assert [item.id for item in shown if item.type == "function_call"] == [
            item.id for item in first.output][:len(passed)]
        assert [json.loads(item.arguments) for item in shown if item.type == "function_call"] == [
            {"city": "Oslo"}] * len(passed)
