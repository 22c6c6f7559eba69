"""What a run sends to the model: overrides, instructions, truncation; and the run object's fields."""

from __future__ import annotations

import openai
import pytest

from core.model_context import message_tokens
from scripted_model import reply_text
from tests.runs.conftest import MODEL, TIME, WEATHER, make_assistant, requests_for, thread_with, token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated


def as_stored(tool: dict) -> dict:
    """A function tool as the API echoes it (OpenAI fills in strict: false) and passes it on."""
    return {"type": "function", "function": {**tool["function"], "strict": False}}


def test_run_overrides_reach_the_model(fresh, scripted):
    assistant = make_assistant(fresh, instructions="Base instructions.", tools=[WEATHER], temperature=1.5, top_p=0.5)
    tok = token()
    thread = thread_with(fresh, f"override {tok}")

    run = fresh.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, model="gpt-override", instructions="Replaced.",
        additional_instructions="Also this.", temperature=0.3, top_p=0.8, tools=[TIME],
        tool_choice={"type": "function", "function": {"name": "get_time"}}, parallel_tool_calls=False,
        response_format={"type": "json_object"}, max_completion_tokens=500,
        additional_messages=[{"role": "user", "content": f"and one more {tok}"}])

    assert run.status == "completed", run
    (request,) = requests_for(scripted, tok)
    assert request["model"] == "gpt-override"
    assert request["messages"][0] == {"role": "system", "content": "Replaced.\n\nAlso this."}
    assert request["messages"][1:] == [{"role": "user", "content": f"override {tok}"},
                                       {"role": "user", "content": f"and one more {tok}"}]
    assert (request["temperature"], request["top_p"]) == (0.3, 0.8)
    assert request["tools"] == [as_stored(TIME)]
    assert request["tool_choice"] == {"type": "function", "function": {"name": "get_time"}}
    assert request["parallel_tool_calls"] is False
    assert request["response_format"] == {"type": "json_object"}
    assert request["max_completion_tokens"] == 500
    # The run object shows the effective settings it ran with.
    assert (run.model, run.instructions, run.temperature, run.top_p) == ("gpt-override", "Replaced.\n\nAlso this.",
                                                                         0.3, 0.8)
    assert [t.function.name for t in run.tools] == ["get_time"]
    assert run.tool_choice.function.name == "get_time" and run.parallel_tool_calls is False
    assert run.response_format.type == "json_object" and run.max_completion_tokens == 500


def test_a_built_in_tool_choice_makes_the_model_call_that_tool(fresh, scripted):
    assistant = make_assistant(fresh, tools=[WEATHER, {"type": "code_interpreter"}])
    tok = token()
    scripted.client.enqueue(reply_text("Done.", match=tok))
    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread_with(fresh, f"chart it {tok}").id,
                                                  assistant_id=assistant.id, tool_choice={"type": "code_interpreter"})
    assert run.status == "completed", run.last_error
    assert run.tool_choice.type == "code_interpreter"
    (request,) = requests_for(scripted, tok)
    assert request["tool_choice"] == {"type": "function", "function": {"name": "code_interpreter"}}


@pytest.mark.parametrize("choice, named", [({"type": "file_search"}, "file_search"),
                                           ({"type": "function", "function": {"name": "get_time"}}, "get_time")])
def test_a_tool_choice_the_run_has_no_tool_for_is_refused(fresh, choice, named):
    assistant = make_assistant(fresh, tools=[WEATHER])
    thread = thread_with(fresh, "hello")
    with pytest.raises(openai.BadRequestError) as caught:
        fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id, tool_choice=choice)
    assert caught.value.body["param"] == "tool_choice" and f"'{named}'" in caught.value.body["message"]
    assert fresh.beta.threads.runs.list(thread_id=thread.id).data == []  # nothing was started


def test_assistant_settings_apply_when_the_run_sets_none(fresh, scripted):
    assistant = make_assistant(fresh, instructions="Base instructions.", tools=[WEATHER], temperature=1.5, top_p=0.5)
    tok = token()
    thread = thread_with(fresh, f"defaults {tok}")

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                  additional_instructions="Appended.")

    assert run.status == "completed", run
    (request,) = requests_for(scripted, tok)
    assert request["model"] == MODEL
    assert request["messages"][0] == {"role": "system", "content": "Base instructions.\n\nAppended."}
    assert (request["temperature"], request["top_p"]) == (1.5, 0.5)
    assert request["tools"] == [as_stored(WEATHER)] and request["tool_choice"] == "auto"
    assert request["parallel_tool_calls"] is True
    assert "response_format" not in request and "max_completion_tokens" not in request


def test_last_messages_truncation_keeps_the_newest(fresh, assistant, scripted):
    tok = token()
    thread = fresh.beta.threads.create(messages=[{"role": "user", "content": f"message {i} {tok}"} for i in range(6)])

    run = fresh.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id,
        truncation_strategy={"type": "last_messages", "last_messages": 2})

    assert run.status == "completed", run
    assert run.truncation_strategy.type == "last_messages" and run.truncation_strategy.last_messages == 2
    (request,) = requests_for(scripted, tok)
    assert request["messages"][1:] == [{"role": "user", "content": f"message {i} {tok}"} for i in (4, 5)]


def test_max_prompt_tokens_bounds_the_prompt_and_the_newest_survives(fresh, scripted):
    assistant = make_assistant(fresh, instructions="Short.")
    tok = token()
    filler = "lorem ipsum " * 40  # ~160 estimated tokens per message
    thread = fresh.beta.threads.create(
        messages=[{"role": "user", "content": f"old {i} {filler}"} for i in range(8)]
        + [{"role": "user", "content": f"newest {tok}"}])

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                  max_prompt_tokens=400)

    assert run.status == "completed", run
    assert run.max_prompt_tokens == 400
    (request,) = requests_for(scripted, tok)
    messages = request["messages"]
    assert messages[0]["role"] == "system" and messages[-1] == {"role": "user", "content": f"newest {tok}"}
    assert 3 <= len(messages) < 10  # some history kept, some dropped
    assert sum(message_tokens(m) for m in messages) <= 400
    kept = [m["content"].split()[1] for m in messages[1:-1]]
    assert kept == [str(i) for i in range(8 - len(kept), 8)]  # the oldest went first


def test_prompt_that_cannot_fit_max_prompt_tokens_is_incomplete(fresh, assistant, scripted):
    tok = token()
    thread = thread_with(fresh, f"{tok} " + "x" * 3000)

    run = fresh.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id,
                                                  max_prompt_tokens=256)

    assert run.status == "incomplete", run
    assert run.incomplete_details.reason == "max_prompt_tokens"
    assert requests_for(scripted, tok) == []


def test_run_object_fields(fresh, scripted):
    assistant = make_assistant(fresh, instructions="Be brief.", tools=[WEATHER], temperature=0.7, top_p=0.9,
                               response_format={"type": "json_object"})
    tok = token()
    scripted.client.enqueue(reply_text(f"{{\"ok\": \"{tok}\"}}", match=tok,
                                       usage={"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35}))
    thread = thread_with(fresh, f"fields {tok}")

    created = fresh.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id,
                                             metadata={"purpose": "fields"})

    assert created.status == "queued" and created.object == "thread.run"
    assert created.expires_at == created.created_at + 600
    assert created.started_at is None and created.completed_at is None and created.usage is None
    assert (created.model, created.instructions, created.temperature, created.top_p) == (MODEL, "Be brief.", 0.7, 0.9)
    assert [t.function.name for t in created.tools] == ["get_weather"]
    assert created.tool_choice == "auto" and created.parallel_tool_calls is True
    assert created.response_format.type == "json_object"
    assert created.truncation_strategy.type == "auto"
    assert created.metadata == {"purpose": "fields"}

    run = fresh.beta.threads.runs.poll(created.id, thread_id=thread.id)
    assert run.status == "completed", run
    raw = fresh.beta.threads.runs.with_raw_response.retrieve(run.id, thread_id=thread.id)
    assert "openai-poll-after-ms" not in raw.headers  # only a run still going asks to be polled
    assert created.created_at <= run.started_at <= run.completed_at
    assert run.expires_at is None  # as at OpenAI: a finished run (not expired) shows no deadline
    assert run.cancelled_at is None and run.failed_at is None
    assert run.usage.model_dump() == {"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35}
    assert (run.model, run.instructions, run.metadata) == (MODEL, "Be brief.", {"purpose": "fields"})

    updated = fresh.beta.threads.runs.update(run.id, thread_id=thread.id, metadata={"purpose": "changed"})
    assert updated.metadata == {"purpose": "changed"} and updated.status == "completed"
    listed = fresh.beta.threads.runs.list(thread_id=thread.id).data
    assert [r.id for r in listed] == [run.id] and listed[0].metadata == {"purpose": "changed"}


def test_more_additional_messages_than_one_write_holds_are_a_400_that_stores_nothing(client):
    assistant = make_assistant(client)
    thread = thread_with(client, "before")
    many = [{"role": "user", "content": f"message {i}"} for i in range(120)]
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.runs.create(thread.id, assistant_id=assistant.id, additional_messages=many)
    assert refused.value.body["param"] == "additional_messages"
    assert [m.content[0].text.value for m in client.beta.threads.messages.list(thread.id)] == ["before"]
    assert client.beta.threads.runs.list(thread.id).data == []
