"""Streamed responses: a view of the run's event log, numbered without gaps, resumable after N."""

from __future__ import annotations

import json

import httpx2 as httpx
import openai
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from scripted_model import reply_text, reply_tool_calls
from tests.responses.test_responses import WEATHER, poll
from tests.runs.conftest import MODEL, token

EVENTS = TypeAdapter(ResponseStreamEvent)
ANSWER = "The quick brown fox jumps over the lazy dog."


def checked(events) -> list:
    """Every event is one of the SDK's ResponseStreamEvent types, numbered 0, 1, 2 … without gaps."""
    events = [EVENTS.validate_python(event.model_dump()) for event in events]
    assert [event.sequence_number for event in events] == list(range(events[0].sequence_number,
                                                                     events[0].sequence_number + len(events)))
    return events


def test_create_stream_true_sends_openai_events_in_order(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(ANSWER, match=tok, pieces=5, piece_ms=50))
    events = checked(list(fresh.responses.create(model=MODEL, input=f"Say it {tok}", stream=True)))
    names = [event.type for event in events]
    deltas = names.count("response.output_text.delta")
    assert deltas >= 2 and events[0].sequence_number == 0
    assert names == ["response.created", "response.queued", "response.in_progress", "response.output_item.added",
                     "response.content_part.added"] + ["response.output_text.delta"] * deltas + [
        "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    assert "".join(event.delta for event in events if event.type == "response.output_text.delta") == ANSWER
    final = events[-1].response
    assert final.output_text == ANSWER and final.status == "completed" and final.usage.total_tokens > 0
    assert fresh.responses.retrieve(final.id).output_text == ANSWER


def test_stream_helper_gives_text_and_the_final_response(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text(ANSWER, match=tok, pieces=4))
    with fresh.responses.stream(model=MODEL, input=f"Helper {tok}") as stream:
        texts = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(texts) == ANSWER and final.output_text == ANSWER


@pytest.mark.parametrize("piece_ms", [0, 60])
def test_function_call_stream(fresh, scripted, piece_ms):
    """piece_ms 60: each argument piece comes after the one before it was stored, and is shown too."""
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], match=tok,
                                             piece_ms=piece_ms))
    events = checked(list(fresh.responses.create(model=MODEL, input=f"Weather {tok}", tools=[WEATHER], stream=True)))
    names = [event.type for event in events]
    assert names[0] == "response.created" and names[-1] == "response.completed"
    added = [event for event in events if event.type == "response.output_item.added"]
    assert [event.item.type for event in added] == ["function_call"]
    done = [event for event in events if event.type == "response.function_call_arguments.done"]
    assert len(done) == 1 and json.loads(done[0].arguments) == {"city": "Oslo"}
    argument_deltas = "".join(event.delta for event in events if event.type == "response.function_call_arguments.delta")
    assert argument_deltas == done[0].arguments
    assert events[-1].response.output[0].type == "function_call"


def test_background_stream_resumes_after_n_without_gap_or_repeat(fresh, scripted, devhost):
    tok = token()
    scripted.client.enqueue(reply_text(ANSWER, match=tok, pieces=6, piece_ms=60))
    stream = fresh.responses.create(model=MODEL, input=f"Resume {tok}", background=True, stream=True)
    first = []
    for event in stream:
        first.append(event)
        if event.type == "response.output_text.delta":
            break
    stream.close()  # the client goes away mid-answer; the response carries on
    response_id = first[0].response.id
    rest = list(fresh.responses.retrieve(response_id, stream=True, starting_after=first[-1].sequence_number))
    events = checked(first + rest)
    assert events[-1].type == "response.completed"
    assert "".join(event.delta for event in events if event.type == "response.output_text.delta") == ANSWER
    replay = checked(list(fresh.responses.retrieve(response_id, stream=True)))
    assert [event.model_dump() for event in replay] == [event.model_dump() for event in events]
    assert poll(fresh, response_id).output_text == ANSWER


def test_both_azure_url_shapes_answer(fresh, scripted, devhost):
    root = devhost.base_url.rsplit("/v1", 1)[0]
    key = fresh.api_key
    azure_v1 = openai.OpenAI(base_url=f"{root}/openai/v1", api_key=key, max_retries=0, _strict_response_validation=True)
    azure = openai.AzureOpenAI(azure_endpoint=root, api_key=key, api_version="2025-04-01-preview", max_retries=0,
                               _strict_response_validation=True)
    for client in (azure_v1, azure):
        tok = token()
        scripted.client.enqueue(reply_text("Azure says hi.", match=tok))
        response = client.responses.create(model=MODEL, input=f"Hi {tok}")
        assert response.output_text == "Azure says hi."
        assert client.responses.retrieve(response.id).id == response.id
    unknown = httpx.get(f"{root}/openai/responses/resp_x", params={"api-version": "1999-01-01"}, headers={"api-key": key})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "api-version"
