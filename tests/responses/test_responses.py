"""The Responses API through the official SDK (strict validation): responses are runs on the same engine."""

from __future__ import annotations

import json
import time

import openai
import pytest

from scripted_model import reply_error, reply_text, reply_tool_calls
from tests.runs.conftest import MODEL, requests_for, token

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                          "additionalProperties": False}, "strict": True}


def poll(client: openai.OpenAI, response_id: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    response = client.responses.retrieve(response_id)
    while response.status in ("queued", "in_progress"):
        assert time.monotonic() < deadline, f"response stayed {response.status}"
        time.sleep(0.05)
        response = client.responses.retrieve(response_id)
    return response


def test_create_answers_with_the_model_text_and_usage(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text("Hello from the engine.", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"Say hello {tok}", instructions="Be brief.",
                                      metadata={"k": "v"}, temperature=0.5, max_output_tokens=200)
    assert response.id.startswith("resp_") and response.object == "response"
    assert response.status == "completed" and response.output_text == "Hello from the engine."
    assert [item.type for item in response.output] == ["message"]
    assert response.output[0].role == "assistant" and response.output[0].content[0].type == "output_text"
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens > 0
    assert response.metadata == {"k": "v"} and response.temperature == 0.5 and response.max_output_tokens == 200
    assert response.instructions == "Be brief." and response.background is False and response.store is True
    asked = requests_for(scripted, tok)[-1]
    assert asked["messages"][0] == {"role": "system", "content": "Be brief."}
    assert asked["temperature"] == 0.5 and asked["max_completion_tokens"] == 200
    again = fresh.responses.retrieve(response.id)
    assert again.model_dump() == response.model_dump()


def test_message_items_and_text_format_reach_the_model(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text('{"ok": true}', match=tok))
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
              "additionalProperties": False}
    response = fresh.responses.create(model=MODEL, input=[
        {"role": "developer", "content": "Answer in JSON."},
        {"role": "user", "content": [{"type": "input_text", "text": f"Is it fine? {tok}"}]}],
        text={"format": {"type": "json_schema", "name": "verdict", "schema": schema, "strict": True}})
    assert response.output_text == '{"ok": true}' and response.text.format.type == "json_schema"
    asked = requests_for(scripted, tok)[-1]
    assert asked["response_format"]["type"] == "json_schema"
    assert asked["response_format"]["json_schema"]["name"] == "verdict"
    assert asked["messages"][0]["content"] == "Answer in JSON."
    items = fresh.responses.input_items.list(response.id, order="asc")
    assert [(item.type, item.role) for item in items.data] == [("message", "developer"), ("message", "user")]


def test_previous_response_id_chains_the_history(fresh, scripted):
    first_tok, second_tok = token(), token()
    scripted.client.enqueue(reply_text("My name is Ada.", match=first_tok))
    first = fresh.responses.create(model=MODEL, input=f"Who are you? {first_tok}")
    scripted.client.enqueue(reply_text("I said Ada.", match=second_tok))
    second = fresh.responses.create(model=MODEL, input=f"What did you say? {second_tok}",
                                    previous_response_id=first.id)
    assert second.previous_response_id == first.id and second.output_text == "I said Ada."
    seen = [message["content"] for message in requests_for(scripted, second_tok)[-1]["messages"]]
    assert seen == [f"Who are you? {first_tok}", "My name is Ada.", f"What did you say? {second_tok}"]
    # a branch from the first response does not see the second
    branch_tok = token()
    scripted.client.enqueue(reply_text("A branch.", match=branch_tok))
    fresh.responses.create(model=MODEL, input=f"Other question {branch_tok}", previous_response_id=first.id)
    seen = [message["content"] for message in requests_for(scripted, branch_tok)[-1]["messages"]]
    assert seen == [f"Who are you? {first_tok}", "My name is Ada.", f"Other question {branch_tok}"]


def test_function_calling_round_trip(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], match=tok))
    first = fresh.responses.create(model=MODEL, input=f"Weather in Oslo? {tok}", tools=[WEATHER],
                                   tool_choice="auto", parallel_tool_calls=False)
    assert first.status == "completed" and first.output_text == ""
    (call,) = first.output
    assert call.type == "function_call" and call.name == "get_weather" and json.loads(call.arguments) == {"city": "Oslo"}
    assert call.id.startswith("fc_") and call.call_id
    assert requests_for(scripted, tok)[-1]["parallel_tool_calls"] is False
    scripted.client.enqueue(reply_text("It is sunny in Oslo.", match=tok))
    second = fresh.responses.create(model=MODEL, previous_response_id=first.id, tools=[WEATHER], input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"sky": "sunny"}'}])
    assert second.output_text == "It is sunny in Oslo."
    # a held create renders what its ending write handed over (the first) or reads it (the second, seeded):
    # either way what a retrieve shows later
    for held in (first, second):
        assert fresh.responses.retrieve(held.id).model_dump() == held.model_dump()
    asked = requests_for(scripted, tok)[-1]["messages"]
    assert asked[-2]["tool_calls"][0]["id"] == call.call_id and asked[-1] == {
        "role": "tool", "tool_call_id": call.call_id, "content": '{"sky": "sunny"}'}
    with pytest.raises(openai.BadRequestError, match="No tool call found"):
        fresh.responses.create(model=MODEL, previous_response_id=first.id, input=[
            {"type": "function_call_output", "call_id": "call_unknown", "output": "x"}])


def weather_answered(client: openai.OpenAI, scripted, tok: str, model: str, output: str):
    """A response calling get_weather, then the response answering it with `output`: (that one, the call)."""
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], match=tok))
    first = client.responses.create(model=model, input=f"Weather in Oslo? {tok}", tools=[WEATHER])
    (call,) = first.output
    scripted.client.enqueue(reply_text("It is sunny in Oslo.", match=tok))
    return client.responses.create(model=model, previous_response_id=first.id, tools=[WEATHER], input=[
        {"type": "function_call_output", "call_id": call.call_id, "output": output}]), call


def test_a_chained_response_reads_the_tool_calls_of_the_earlier_ones(fresh, scripted):
    """As at OpenAI, previous_response_id carries the earlier responses' calls and outputs, not only their
    messages: the third response's model still knows what the tool said."""
    tok = token()
    second, call = weather_answered(fresh, scripted, tok, MODEL, '{"sky": "sunny", "wind_kmh": 12}')
    scripted.client.enqueue(reply_text("About 12 km/h.", match=tok))
    third = fresh.responses.create(model=MODEL, previous_response_id=second.id, tools=[WEATHER],
                                   input=f"And the wind? {tok}")
    assert third.output_text == "About 12 km/h."
    asked = requests_for(scripted, tok)[-1]["messages"]
    assert [(m["role"], m.get("tool_call_id")) for m in asked] == [
        ("user", None), ("assistant", None), ("tool", call.call_id), ("assistant", None), ("user", None)]
    assert asked[1]["tool_calls"][0]["id"] == call.call_id and "wind_kmh" in asked[2]["content"]
    assert asked[3]["content"] == "It is sunny in Oslo."


def test_an_assistants_run_reads_the_earlier_runs_messages_only(fresh, scripted):
    """The Assistants API as OpenAI ran it: a thread's earlier runs' tool calls are not in the next run's prompt."""
    tok = token()
    assistant = fresh.beta.assistants.create(model=MODEL, tools=[{"type": "function", "function": {
        "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    thread = fresh.beta.threads.create(messages=[{"role": "user", "content": f"Weather? {tok}"}])
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], match=tok),
                            reply_text("Sunny.", match=tok), reply_text("Calm.", match=tok))
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    fresh.beta.threads.runs.submit_tool_outputs_and_poll(run_id=run.id, thread_id=thread.id, tool_outputs=[
        {"tool_call_id": run.required_action.submit_tool_outputs.tool_calls[0].id, "output": "sunny"}])
    fresh.beta.threads.messages.create(thread_id=thread.id, role="user", content=f"Wind? {tok}")
    later = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert later.status == "completed"
    assert [m["role"] for m in requests_for(scripted, tok)[-1]["messages"]] == ["user", "assistant", "user"]


def test_a_function_without_strict_is_shown_as_the_model_gets_it(fresh, scripted):
    closed = {key: value for key, value in WEATHER.items() if key != "strict"}
    open_schema = {"type": "function", "name": "lookup", "parameters": {
        "type": "object", "properties": {"term": {"type": "string"}, "limit": {"type": "integer"}}}}
    tok = token()
    scripted.client.enqueue(reply_text("Fine.", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"Hi {tok}", tools=[closed, open_schema])
    sent = {tool["function"]["name"]: tool["function"].get("strict") for tool in requests_for(scripted, tok)[-1]["tools"]}
    shown = {tool.name: tool.strict for tool in response.tools}
    assert shown == sent == {"get_weather": True, "lookup": False}


def test_background_response_is_polled_to_completion(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text("Done in the background.", match=tok, latency_ms=300))
    response = fresh.responses.create(model=MODEL, input=f"Work {tok}", background=True)
    assert response.status in ("queued", "in_progress") and response.background is True
    done = poll(fresh, response.id)
    assert done.status == "completed" and done.output_text == "Done in the background."


def test_cancel_a_background_response(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text("Too slow to finish.", match=tok, latency_ms=5000))
    response = fresh.responses.create(model=MODEL, input=f"Slow {tok}", background=True)
    started = time.monotonic()
    cancelled = fresh.responses.cancel(response.id)
    assert cancelled.status == "cancelled" and time.monotonic() - started < 4  # not after the model's 5 s
    assert fresh.responses.retrieve(response.id).status == "cancelled"
    assert fresh.responses.cancel(response.id).status == "cancelled"  # again: as it is
    tok = token()
    scripted.client.enqueue(reply_text("Quick.", match=tok))
    held = fresh.responses.create(model=MODEL, input=f"Quick {tok}")
    with pytest.raises(openai.BadRequestError, match="synchronous"):
        fresh.responses.cancel(held.id)


def test_delete_and_another_principal_gets_404(fresh, other_client, scripted):
    tok = token()
    scripted.client.enqueue(reply_text("Mine.", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"Mine {tok}")
    for call in (lambda: other_client.responses.retrieve(response.id), lambda: other_client.responses.delete(response.id),
                 lambda: other_client.responses.cancel(response.id),
                 lambda: other_client.responses.input_items.list(response.id)):
        with pytest.raises(openai.NotFoundError):
            call()
    with pytest.raises(openai.BadRequestError, match="Previous response"):
        other_client.responses.create(model=MODEL, input="x", previous_response_id=response.id)
    fresh.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        fresh.responses.retrieve(response.id)


@pytest.mark.parametrize("body, param", [
    ({"input": "x"}, "model"),
    ({"model": MODEL, "input": "x", "temperature": 9}, "temperature"),
    ({"model": MODEL, "input": "x", "tools": [{"type": "computer_use_preview"}]}, "tools[0]"),
    ({"model": MODEL, "input": "x", "tools": [{"type": "file_search"}]}, "tools[0].vector_store_ids"),
    ({"model": MODEL, "input": "x", "tools": [{"type": "web_search_preview", "filters": {}}]}, "tools[0]"),
    ({"model": MODEL, "input": "x", "tools": [{"type": "web_search"}, {"type": "web_search_preview"}]}, None),
    ({"model": MODEL, "input": "x", "include": ["everything"]}, "include[0]"),
    ({"model": MODEL, "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
     "input[0].content[0]"),
    ({"model": MODEL, "input": "x", "unknown_thing": 1}, "unknown_thing"),
    ({"model": MODEL, "input": "x", "conversation": "conv_x", "previous_response_id": "resp_x"}, None),
    ({"model": MODEL}, "input"),
])
def test_bad_input_is_a_400_in_the_error_envelope(fresh, body, param):
    with pytest.raises(openai.BadRequestError) as raised:
        fresh.post("/responses", cast_to=object, body=body)
    assert raised.value.body["param"] == param and raised.value.body["type"] == "invalid_request_error"


def test_a_refused_prompt_fails_the_response_with_its_error(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_error(400, message="bad prompt", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"Refuse {tok}")
    assert response.status == "failed" and response.error.code == "server_error" and response.output == []


def test_a_cut_off_answer_is_incomplete(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text("Cut", finish_reason="length", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"Long {tok}", max_output_tokens=16)
    assert response.status == "incomplete" and response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].status == "incomplete" and response.output_text == "Cut"


def test_an_unstored_response_answers_but_cannot_be_read_back(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text("Ephemeral.", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"Forget {tok}", store=False)
    assert response.output_text == "Ephemeral." and response.store is False
    with pytest.raises(openai.NotFoundError):
        fresh.responses.retrieve(response.id)
    with pytest.raises(openai.BadRequestError, match="Previous response"):
        fresh.responses.create(model=MODEL, input="x", previous_response_id=response.id)


def test_unknown_and_malformed_ids_are_404s(fresh):
    for response_id in ("resp_nope", "not-an-id", "resp_" + "A" * 24):
        with pytest.raises(openai.NotFoundError):
            fresh.responses.retrieve(response_id)
    with pytest.raises(openai.NotFoundError):
        fresh.responses.create(model=MODEL, input="x", conversation="conv_nope")
