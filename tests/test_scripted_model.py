"""The scripted model server, driven the way the app drives a model: through the openai SDK."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import openai
import pytest

import scripted_model
from scripted_model import reply_error, reply_text, reply_tool_calls

USER = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}


@pytest.fixture(scope="module")
def server():
    handle = scripted_model.start_in_thread(host="127.0.0.1", port=0)
    yield handle
    handle.stop()


@pytest.fixture
def model(server):
    server.client.reset()
    yield server.client
    server.client.reset()


@pytest.fixture
def sdk(server):
    with openai.OpenAI(base_url=server.base_url, api_key="any-key", max_retries=0, timeout=10,
                       _strict_response_validation=True) as c:
        yield c


def test_plain_text_completion(model, sdk):
    model.enqueue(reply_text("Sunny and 21 degrees."))
    result = sdk.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert result.object == "chat.completion" and result.id.startswith("chatcmpl-")
    assert result.model == "gpt-4o-mini"
    choice = result.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "Sunny and 21 degrees."
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert result.usage.completion_tokens == 6  # 21 characters at ~4 per token
    assert result.usage.total_tokens == result.usage.prompt_tokens + 6 > 6


def test_tool_calls_completion(model, sdk):
    model.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Paris"}},
                                    {"name": "get_time", "arguments": "{}", "id": "call_fixed"}]))
    result = sdk.chat.completions.create(model="m", messages=USER, tools=[TOOL])
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    first, second = choice.message.tool_calls
    assert first.type == "function" and first.id.startswith("call_")
    assert first.function.name == "get_weather"
    assert json.loads(first.function.arguments) == {"city": "Paris"}
    assert (second.id, second.function.name, second.function.arguments) == ("call_fixed", "get_time", "{}")


def test_streamed_text_arrives_in_pieces_with_usage(model, sdk):
    text = "The weather in Paris is sunny with a light breeze from the west."
    model.enqueue(reply_text(text))
    stream = sdk.chat.completions.create(model="m", messages=USER, stream=True,
                                         stream_options={"include_usage": True})
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks[1:] if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1 and "".join(pieces) == text
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 16
    assert all(c.usage is None for c in chunks[:-1])


def test_streamed_tool_calls_accumulate_through_the_sdk_helper(model, sdk):
    model.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Paris"}},
                                    {"name": "get_weather", "arguments": {"city": "Rome"}}]))
    with sdk.chat.completions.stream(model="m", messages=USER, tools=[TOOL]) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Rome"]
    assert all(c.id.startswith("call_") for c in calls)
    assert final.choices[0].finish_reason == "tool_calls"


def test_streamed_tool_call_deltas_carry_index_id_name_then_arguments(model, sdk):
    model.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Paris"}}]))
    chunks = list(sdk.chat.completions.create(model="m", messages=USER, tools=[TOOL], stream=True))
    deltas = [c.choices[0].delta.tool_calls[0] for c in chunks if c.choices[0].delta.tool_calls]
    assert deltas[0].index == 0 and deltas[0].id.startswith("call_")
    assert deltas[0].function.name == "get_weather"
    assert all(d.index == 0 and d.id is None for d in deltas[1:])
    assert json.loads("".join(d.function.arguments for d in deltas)) == {"city": "Paris"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert all(c.usage is None for c in chunks)


def test_rate_limit_surfaces_with_retry_after(model, sdk):
    model.enqueue(reply_error(429, retry_after=1.5))
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.chat.completions.create(model="m", messages=USER)
    headers = caught.value.response.headers
    assert headers["retry-after"] == "1.5" and headers["retry-after-ms"] == "1500"
    assert caught.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize("status, error_class", [(500, openai.InternalServerError),
                                                 (503, openai.InternalServerError),
                                                 (400, openai.BadRequestError)])
def test_server_faults_raise_the_sdk_exception(model, sdk, status, error_class):
    model.enqueue(reply_error(status, message="scripted fault"))
    with pytest.raises(error_class) as caught:
        sdk.chat.completions.create(model="m", messages=USER)
    assert caught.value.status_code == status and "scripted fault" in caught.value.message
    assert "retry-after" not in caught.value.response.headers


def test_fifo_order_then_echo(model, sdk):
    model.enqueue(reply_text("first"), reply_text("second"))
    answers = [sdk.chat.completions.create(model="m", messages=USER).choices[0].message.content
               for _ in range(3)]
    assert answers == ["first", "second", "Echo: What is the weather in Paris?"]


def test_echo_of_tool_results_and_content_parts(model, sdk):
    messages = [{"role": "user", "content": [{"type": "text", "text": "look it up"}]},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "a", "arguments": "{}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "b", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "12 C"},
                {"role": "tool", "tool_call_id": "call_2", "content": "cloudy"}]
    result = sdk.chat.completions.create(model="m", messages=messages)
    assert result.choices[0].message.content == "Tool results: 12 C; cloudy"
    result = sdk.chat.completions.create(model="m", messages=messages[:1])
    assert result.choices[0].message.content == "Echo: look it up"


def test_match_routing_serves_concurrent_requests_their_own_reply(model, sdk):
    model.enqueue(reply_text("unmatched"))
    model.enqueue(*[reply_text(f"answer {i}", match=f"run-{i}:") for i in range(20)])

    def ask(i):
        messages = [{"role": "user", "content": f"run-{i}: hello"}]
        return sdk.chat.completions.create(model="m", messages=messages).choices[0].message.content

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(20)))
    assert answers == [f"answer {i}" for i in range(20)]
    assert model.pending() == 1
    assert sdk.chat.completions.create(model="m", messages=USER).choices[0].message.content == "unmatched"


def test_recorded_requests_hold_what_was_sent(model, sdk):
    sdk.chat.completions.create(
        model="deployment-x", messages=USER, tools=[TOOL], temperature=0.2, max_tokens=50,
        response_format={"type": "json_object"}, tool_choice="auto", parallel_tool_calls=False)
    sdk.chat.completions.create(model="second", messages=USER)
    first, second = model.requests()
    assert first["model"] == "deployment-x" and first["messages"] == USER
    assert first["tools"] == [TOOL] and first["temperature"] == 0.2 and first["max_tokens"] == 50
    assert first["response_format"] == {"type": "json_object"}
    assert first["tool_choice"] == "auto" and first["parallel_tool_calls"] is False
    assert second["model"] == "second"
    assert model.request_count() == 2


def test_latency_per_reply_and_by_default(model, sdk):
    model.enqueue(reply_text("slow", latency_ms=300))
    started = time.monotonic()
    sdk.chat.completions.create(model="m", messages=USER)
    assert 0.3 <= time.monotonic() - started < 2.0
    model.set_default(latency_ms=200)
    started = time.monotonic()
    sdk.chat.completions.create(model="m", messages=USER)
    assert 0.2 <= time.monotonic() - started < 2.0
    model.reset()
    started = time.monotonic()
    sdk.chat.completions.create(model="m", messages=USER)
    assert time.monotonic() - started < 0.2


def test_finish_reason_length_override_and_max_tokens_budget(model, sdk):
    model.enqueue(reply_text("cut off mid", finish_reason="length"),
                  reply_text("x" * 100))
    result = sdk.chat.completions.create(model="m", messages=USER)
    assert (result.choices[0].finish_reason, result.choices[0].message.content) == ("length", "cut off mid")
    result = sdk.chat.completions.create(model="m", messages=USER, max_completion_tokens=5)
    assert result.choices[0].finish_reason == "length"
    assert result.choices[0].message.content == "x" * 20
    assert result.usage.completion_tokens == 5


def test_usage_override(model, sdk):
    model.enqueue(reply_text("hi", usage={"prompt_tokens": 1000, "completion_tokens": 7}))
    usage = sdk.chat.completions.create(model="m", messages=USER).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1000, 7, 1007)


def test_azure_route_uses_the_deployment(server, model):
    azure = openai.AzureOpenAI(azure_endpoint=server.base_url[: -len("/v1")], api_key="k",
                               api_version="2024-10-21", azure_deployment="gpt4o-prod", max_retries=0,
                               _strict_response_validation=True)
    model.enqueue(reply_text("from azure"))
    result = azure.chat.completions.create(model="gpt4o-prod", messages=USER)
    assert result.choices[0].message.content == "from azure" and result.model == "gpt4o-prod"
    azure.close()


def _post(url: str, data: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_invalid_json_is_a_400_envelope_and_counted(server, model):
    status, body = _post(server.base_url + "/chat/completions", b"{not json")
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    assert set(body["error"]) == {"message", "type", "param", "code"}
    root = server.base_url[: -len("/v1")]
    status, body = _post(root + "/chat/completions", json.dumps({"model": "m"}).encode())
    assert status == 400 and "messages" in body["error"]["message"]
    assert model.request_count() == 2 and model.requests() == []


def test_bad_reply_specs_are_rejected_whole(model):
    with pytest.raises(ValueError, match="unknown reply keys"):
        model.enqueue(reply_text("fine"), {"contnet": "typo"})
    with pytest.raises(ValueError):
        reply_error(200)
    assert model.pending() == 0


def test_stop_closes_the_port():
    handle = scripted_model.start_in_thread()
    handle.client.reset()
    handle.stop()
    with pytest.raises(OSError):
        handle.client.reset()


def test_command_line_prints_the_offline_banner_and_serves():
    process = subprocess.Popen([sys.executable, "-m", "scripted_model", "--port", "0"],
                               cwd=Path(__file__).parents[1], stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or not lines[-1].strip().startswith("OPENAI_BASE_URL="):
            lines.append(process.stdout.readline())
            assert lines[-1], "server exited before printing its base URL"
        assert "OFFLINE STAND-IN" in "".join(lines) and "cannot reason" in "".join(lines)
        base_url = lines[-1].strip().split("=", 1)[1]
        with openai.OpenAI(base_url=base_url, api_key="k", max_retries=0, timeout=5,
                           _strict_response_validation=True) as sdk:
            answer = sdk.chat.completions.create(model="m", messages=USER)
        assert answer.choices[0].message.content == "Echo: What is the weather in Paris?"
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_embeddings_are_deterministic_unit_vectors(server):
    with openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=10) as sdk:
        first = sdk.embeddings.create(model="emb", input=["alpha", "beta"])
        again = sdk.embeddings.create(model="emb", input="alpha", dimensions=4)
    assert [e.index for e in first.data] == [0, 1] and first.model == "emb"
    assert first.data[0].embedding != first.data[1].embedding
    assert abs(sum(v * v for v in first.data[0].embedding) - 1) < 1e-6
    assert len(again.data[0].embedding) == 4


def test_streams_are_paced_first_token_then_pieces_and_record_when_each_piece_left(model, sdk, server):
    text = "one two three four five six"
    model.enqueue(reply_text(text, first_token_ms=300, piece_ms=100, pieces=3))
    started = time.monotonic()
    arrivals = []
    for chunk in sdk.chat.completions.create(model="m", messages=USER, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append((time.monotonic() - started, chunk.choices[0].delta.content))
    assert "".join(piece for _, piece in arrivals) == text and len(arrivals) == 3
    assert 0.3 <= arrivals[0][0] < 0.6
    gaps = [later[0] - earlier[0] for earlier, later in zip(arrivals, arrivals[1:])]
    assert all(0.09 <= gap < 0.3 for gap in gaps), gaps
    sent = server.script.sent()
    assert [piece for _, piece, _ in sent] == [piece for _, piece in arrivals]
    assert len({completion_id for completion_id, _, _ in sent}) == 1


@pytest.mark.parametrize("bad", [{"pieces": 0}, {"pieces": True}, {"piece_ms": -1}, {"first_token_ms": "1"}])
def test_bad_pacing_is_refused(bad):
    with pytest.raises(ValueError):
        reply_text("x", **bad)
