"""reasoning and the other create options through client.responses (strict validation): echoed as OpenAI
echoes them, passed to the model where it takes them, refused where this service cannot honour them;
and a held create whose hold runs out answers with the response as it is."""

from __future__ import annotations

import time

import openai
import pytest

from core.wire.responses import refused_option
from scripted_model import reply_text
from tests.conftest import devhost_env, sdk_client
from tests.responses.test_responses import WEATHER, poll
from tests.runs.conftest import MODEL, requests_for, token
from tests.support.devhost_proc import ROOT, DevhostProcess
from usecases.response_answers import DEFAULT_HOLD_SECONDS, hold_seconds


def test_reasoning_is_echoed_and_reaches_the_model_as_reasoning_effort(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text("Thought.", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"Think {tok}", reasoning={"effort": "low", "summary": "auto"})
    assert response.reasoning.effort == "low" and response.reasoning.summary == "auto"
    assert requests_for(scripted, tok)[-1]["reasoning_effort"] == "low"
    assert fresh.responses.retrieve(response.id).reasoning.model_dump() == response.reasoning.model_dump()
    plain_tok = token()
    scripted.client.enqueue(reply_text("Plain.", match=plain_tok))
    plain = fresh.responses.create(model=MODEL, input=f"Say {plain_tok}")
    assert plain.reasoning.effort is None and plain.reasoning.summary is None
    assert "reasoning_effort" not in requests_for(scripted, plain_tok)[-1]
    old_tok = token()
    scripted.client.enqueue(reply_text("Old.", match=old_tok))
    old = fresh.responses.create(model=MODEL, input=f"Say {old_tok}", reasoning={"generate_summary": "concise"})
    assert old.reasoning.summary == "concise" and "reasoning_effort" not in requests_for(scripted, old_tok)[-1]


def test_the_other_options_are_echoed(fresh, scripted):
    tok = token()
    scripted.client.enqueue(reply_text("Done.", match=tok))
    response = fresh.responses.create(model=MODEL, input=f"Go {tok}", tools=[WEATHER], max_tool_calls=3,
                                      prompt_cache_key="tenant-7", safety_identifier="user-hash-1",
                                      service_tier="flex", top_logprobs=0)
    assert response.max_tool_calls == 3 and response.prompt_cache_key == "tenant-7"
    assert response.safety_identifier == "user-hash-1" and response.top_logprobs == 0
    assert response.service_tier == "default"  # the tier actually used, as OpenAI reports it
    assert fresh.responses.retrieve(response.id).model_dump() == response.model_dump()
    default_tok = token()
    scripted.client.enqueue(reply_text("Done.", match=default_tok))
    plain = fresh.responses.create(model=MODEL, input=f"Go {default_tok}")
    assert (plain.max_tool_calls, plain.prompt_cache_key, plain.safety_identifier, plain.top_logprobs) == \
        (None, None, None, 0)


@pytest.mark.parametrize("extra, param, code", [
    ({"top_logprobs": 5}, "top_logprobs", "unsupported_parameter"),
    ({"top_logprobs": 21}, "top_logprobs", None),
    ({"reasoning": {"effort": "extreme"}}, "reasoning.effort", None),
    ({"reasoning": {"effort": "low", "mode": "pro"}}, "reasoning.mode", None),
    ({"max_tool_calls": 0}, "max_tool_calls", None),
    ({"service_tier": "fastest"}, "service_tier", None),
    ({"safety_identifier": "x" * 65}, "safety_identifier", None),
])
def test_options_the_service_cannot_honour_are_refused(fresh, extra, param, code):
    with pytest.raises(openai.BadRequestError) as raised:
        fresh.post("/responses", cast_to=object, body={"model": MODEL, "input": "x", **extra})
    body = raised.value.body
    assert body["type"] == "invalid_request_error" and body["param"] == param
    if code is not None:
        assert body["code"] == code


def test_refused_option_decides_on_logprobs_and_built_in_tool_limits():
    assert refused_option(None, None, []) is None and refused_option(0, 3, ["function"]) is None
    assert refused_option(2, None, [])[1] == "unsupported_parameter"
    assert refused_option(None, 3, ["function", "code_interpreter"])[1] == "unsupported_parameter"
    assert refused_option(None, None, ["code_interpreter"]) is None


def test_hold_seconds_is_a_positive_number_or_the_default():
    assert DEFAULT_HOLD_SECONDS < 230
    assert hold_seconds("12.5") == 12.5 and hold_seconds("0.2") == 0.2
    for bad in (None, "", "0", "-3", "soon", "inf", "nan"):
        assert hold_seconds(bad) == DEFAULT_HOLD_SECONDS


@pytest.fixture(scope="module")
def short_hold_host(azurite, scripted, tmp_path_factory):
    process = DevhostProcess(ROOT, devhost_env(azurite, scripted, RESPONSE_HOLD_SECONDS="0.5"),
                             tmp_path_factory.mktemp("hold") / "devhost.log")
    yield process.start()
    process.stop()


def test_a_hold_that_runs_out_answers_the_response_as_it_is_and_retrieve_finishes_it(short_hold_host, scripted):
    client = sdk_client(short_hold_host.base_url)
    tok = token()
    scripted.client.enqueue(reply_text("Slow answer.", match=tok, latency_ms=3000))
    started = time.monotonic()
    response = client.responses.create(model=MODEL, input=f"Take your time {tok}")
    waited = time.monotonic() - started
    assert response.status in ("queued", "in_progress") and response.output == [] and response.usage is None
    assert response.background is False and waited < 2.5
    finished = poll(client, response.id)
    assert finished.status == "completed" and finished.output_text == "Slow answer."
    assert time.monotonic() - started >= 3.0
