"""Translation between a run and Chat Completions: offered tools, requests, call routing, records, faults."""

from __future__ import annotations

import json

import httpx2 as httpx  # the HTTP library the pinned openai SDK is built on
import openai
import pytest
from openai.types.chat import ChatCompletion

from core import chat_turns as ct
from core.run_bookkeeping import StepBookkeeping
from tools.plugins import TOOLS

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                            "parameters": {"type": "object"}, "strict": None}}
RUN = {"id": "run_1", "thread_id": "thread_1", "assistant_id": "asst_1", "model": "gpt-x",
       "tools": [WEATHER, {"type": "code_interpreter"}], "tool_choice": "auto", "parallel_tool_calls": True,
       "temperature": 0.2, "top_p": None, "max_completion_tokens": None, "response_format": "auto"}
IDS = ct.TurnIds(message_id="msg_1", message_step_id="step_m", tool_step_id="step_1", at=100)


# The routes of the tests, as (the owning plug-in's kind, where the call goes).
ROUTES = {"code": ("code_interpreter", "server"), "search": ("file_search", "server"),
          "server": ("function", "server"), "client": ("function", "client"),
          "undeclared": ("function", "undeclared")}


def route_of(name: str, *, code_interpreter: bool, server_tools: frozenset[str], declared: frozenset[str],
             file_search: bool = False) -> str:
    """The route of `name` in a run with these tools, in the tests' words ("code", "server", …)."""
    tools = [{"type": "function", "function": {"name": declared_name}} for declared_name in sorted(declared)]
    tools += [{"type": "code_interpreter"}] if code_interpreter else []
    tools += [{"type": "file_search"}] if file_search else []
    offer = ct.offer_of(dict(RUN, tools=tools), server_tools)
    routed = ct.route_call(name, offer, TOOLS)
    return next(word for word, (kind, where) in ROUTES.items() if (routed.tool.kind, routed.where) == (kind, where))


def text_content(text: str) -> list[dict]:
    return [{"type": "text", "text": {"value": text, "annotations": []}}]


# -- routing: the security-relevant decision -------------------------------------------

@pytest.mark.parametrize("name, code, server, declared, expected", [
    ("code_interpreter", True, set(), set(), "code"),
    ("code_interpreter", False, set(), set(), "undeclared"),
    ("code_interpreter", False, set(), {"code_interpreter"}, "client"),  # a client's own function of that name
    ("send_email", False, {"send_email"}, set(), "undeclared"),  # opted in, but this run does not declare it
    ("send_email", False, {"send_email"}, {"send_email"}, "server"),  # opted in: the server tool wins
    ("send_email", False, set(), {"send_email"}, "client"),  # declared, not opted in: never hijacked
    ("send_email", False, set(), set(), "undeclared"),
    ("get_weather", True, {"send_email"}, {"get_weather"}, "client"),
])
def test_route_call(name, code, server, declared, expected):
    assert route_of(name, code_interpreter=code, server_tools=frozenset(server),
                    declared=frozenset(declared)) == expected


@pytest.mark.parametrize("name, search, declared, expected", [
    ("file_search", True, set(), "search"),
    ("file_search", False, set(), "undeclared"),
    ("file_search", False, {"file_search"}, "client"),
    ("code_interpreter", False, set(), "undeclared"),  # file_search claims only its own name
])
def test_route_call_file_search(name, search, declared, expected):
    assert route_of(name, code_interpreter=False, server_tools=frozenset(), declared=frozenset(declared),
                    file_search=search) == expected


@pytest.mark.parametrize("tools, opted_in, expected", [
    ([{"type": "function", "function": {"name": "send_email"}}], {"send_email"}, {"send_email"}),
    ([], {"send_email"}, set()),  # a run's tools: [] withdraws every server tool
    ([{"type": "code_interpreter"}], {"send_email"}, set()),
    ([{"type": "function", "function": {"name": "get_weather"}}], {"send_email"}, set()),
    ([{"type": "function", "function": {"name": "send_email"}}], set(), set()),  # declared, not opted in
    ([{"type": "function", "function": {"name": "send_email"}},
      {"type": "function", "function": {"name": "get_stock_price"}}], {"send_email", "get_stock_price"},
     {"send_email", "get_stock_price"}),
])
def test_server_tools_in_run_are_the_opted_in_ones_the_run_declares(tools, opted_in, expected):
    assert ct.server_tools_in_run(dict(RUN, tools=tools), opted_in) == expected


def test_offered_tools_use_the_server_schema_for_opted_in_tools_and_drop_nulls():
    mail_schema = {"name": "send_email", "description": "server's", "parameters": {"type": "object"}}
    client_mail = {"type": "function", "function": {"name": "send_email", "description": "client's"}}
    run = dict(RUN, tools=[WEATHER, client_mail])
    tools = ct.chat_tools(run, {"send_email": mail_schema}, [{"type": "function", "function": {"name": "ci"}}])
    assert [tool["function"]["name"] for tool in tools] == ["get_weather", "send_email", "ci"]
    assert tools[1]["function"] == mail_schema
    assert "strict" not in tools[0]["function"]


OFFERED = {"function": [WEATHER], "code_interpreter": [{"type": "function", "function": {"name": "code_interpreter"}}],
           "browser": [{"type": "function", "function": {"name": "web_search"}}],
           "two_functions": [WEATHER, {"type": "function", "function": {"name": "other"}}]}


@pytest.mark.parametrize("choice, expected", [
    ("auto", "auto"), ("none", "none"), ("required", "required"), (None, None),
    ({"type": "function", "function": {"name": "get_weather"}}, {"type": "function", "function": {"name": "get_weather"}}),
    # a built-in is forced as the one function its plug-in offers
    ({"type": "code_interpreter"}, {"type": "function", "function": {"name": "code_interpreter"}}),
    ({"type": "browser"}, {"type": "function", "function": {"name": "web_search"}}),
    # a kind offering several functions: one of them; a kind not offered this turn: the model is free
    ({"type": "two_functions"}, "required"),
    ({"type": "file_search"}, "auto"),
    ("something else", "auto"),
])
def test_tool_choice(choice, expected):
    assert ct.tool_choice(dict(RUN, tool_choice=choice), OFFERED) == expected


def test_completion_request_carries_only_what_is_set():
    request = ct.completion_request(dict(RUN, response_format={"type": "json_object"}, max_completion_tokens=50),
                                    [{"role": "user", "content": "hi"}], [WEATHER], "auto")
    assert request == {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}], "tools": [WEATHER],
                       "tool_choice": "auto", "parallel_tool_calls": True, "temperature": 0.2,
                       "max_completion_tokens": 50, "response_format": {"type": "json_object"}}
    bare = ct.completion_request(dict(RUN, temperature=None, response_format={"type": "text"}), [], [])
    assert bare == {"model": "gpt-x", "messages": []}


def test_run_turns_replays_only_fully_answered_steps():
    answered = {"id": "s1", "step_details": {"type": "tool_calls", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}", "output": "sunny"}},
        {"id": "c2", "type": "code_interpreter", "code_interpreter": {"input": "1+1", "outputs": []}}]}}
    pending = {"id": "s2", "step_details": {"type": "tool_calls", "tool_calls": [
        {"id": "c3", "type": "function", "function": {"name": "get_weather", "arguments": "{}", "output": None}}]}}
    message = {"id": "s3", "step_details": {"type": "message_creation", "message_creation": {"message_id": "m"}}}
    turns = ct.run_turns([(answered, StepBookkeeping(outputs={"c2": "2"})), (pending, StepBookkeeping()),
                          (message, StepBookkeeping())], TOOLS)
    assert turns == [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
            {"id": "c2", "type": "function", "function": {"name": "code_interpreter",
                                                          "arguments": json.dumps({"code": "1+1"})}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "c2", "content": "2"}]


# -- a reply becomes records -------------------------------------------------------------

def _route(name: str):
    run = dict(RUN, tools=[WEATHER, {"type": "function", "function": {"name": "send_email"}}, {"type": "code_interpreter"}])
    return ct.route_call(name, ct.offer_of(run, {"send_email"}), TOOLS)


def test_a_text_answer_is_a_message_and_its_step():
    answer = ct.ModelAnswer("Hello", (), "stop", {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3})
    records = ct.records_for_answer(RUN, answer, _route, IDS, message_content=text_content)
    assert records.outcome.kind == "message"
    assert records.message["id"] == "msg_1" and records.message["status"] == "completed"
    assert records.message["content"] == text_content("Hello") and records.message["run_id"] == "run_1"
    assert records.message_step["step_details"] == {"type": "message_creation",
                                                    "message_creation": {"message_id": "msg_1"}}
    assert records.message_step["usage"]["total_tokens"] == 3 and records.message_step["status"] == "completed"
    assert records.message_step["id"] == "step_m" and records.tool_step is None


def test_a_truncated_answer_is_an_incomplete_message():
    records = ct.records_for_answer(RUN, ct.ModelAnswer("Hel", (), "length", None), _route, IDS,
                                    message_content=text_content)
    assert (records.outcome.kind, records.outcome.reason) == ("incomplete", "max_completion_tokens")
    assert records.message["status"] == "incomplete"
    assert records.message["incomplete_details"] == {"reason": "max_tokens"}


def test_tool_calls_are_routed_and_undeclared_ones_answered_at_once():
    answer = ct.ModelAnswer(None, (("c1", "get_weather", "{}"), ("c2", "send_email", "{}"),
                                   ("c3", "code_interpreter", json.dumps({"code": "2+2"})),
                                   ("c4", "rm_rf", "{}")), "tool_calls", None)
    records = ct.records_for_answer(RUN, answer, _route, IDS, message_content=text_content)
    assert records.outcome.model_dump(include={"kind", "step_id", "server_calls", "client_calls"}) == {
        "kind": "tool_calls", "step_id": "step_1", "server_calls": ["c2", "c3"], "client_calls": ["c1"]}
    calls = records.tool_step["step_details"]["tool_calls"]
    assert [call["type"] for call in calls] == ["function", "function", "code_interpreter", "function"]
    assert calls[2]["code_interpreter"]["input"] == "2+2"
    assert [call.get("function", {}).get("output") for call in calls[:2]] == [None, None]
    assert "no tool named 'rm_rf'" in json.loads(calls[3]["function"]["output"])["error"]
    assert records.tool_step["status"] == "in_progress" and records.message is None


def test_a_turn_of_only_undeclared_calls_is_answered_and_complete():
    answer = ct.ModelAnswer(None, (("c1", "nope", "{}"),), "tool_calls", None)
    records = ct.records_for_answer(RUN, answer, _route, IDS, message_content=text_content)
    assert (records.outcome.server_calls, records.outcome.client_calls) == ([], [])
    assert records.tool_step["status"] == "completed" and records.tool_step["completed_at"] == 100


def test_text_shown_before_tool_calls_is_kept_as_its_own_message():
    answer = ct.ModelAnswer("Let me check.", (("c1", "get_weather", "{}"),), "tool_calls", None)
    hidden = ct.records_for_answer(RUN, answer, _route, IDS, message_content=text_content)
    assert hidden.message is None and [step["id"] for step, _ in hidden.new_steps()] == ["step_1"]
    shown = ct.records_for_answer(RUN, answer, _route, IDS, message_content=text_content,
                                  text_shown=True)
    assert shown.message["content"] == text_content("Let me check.") and shown.message["id"] == "msg_1"
    assert [step["id"] for step, _ in shown.new_steps()] == ["step_m", "step_1"]
    assert shown.outcome.client_calls == ["c1"]


def test_answer_of_a_completion():
    completion = ChatCompletion.model_validate({
        "id": "x", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}})
    assert ct.answer_of(completion) == ct.ModelAnswer(None, (("c1", "f", "{\"a\":1}"),), "tool_calls",
                                                      {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11})


# -- model faults ---------------------------------------------------------------------------

def _status_error(cls, status: int, headers: dict | None = None, body: dict | None = None):
    request = httpx.Request("POST", "http://model/v1/chat/completions")
    response = httpx.Response(status, headers=headers or {}, request=request, json=body or {})
    return cls("boom", response=response, body=(body or {}).get("error"))


def test_faults_are_classified():
    limited = ct.fault_outcome(_status_error(openai.RateLimitError, 429, {"retry-after": "7"}))
    assert (limited.kind, limited.retry_after) == ("rate_limited", 7.0)
    assert ct.fault_outcome(_status_error(openai.InternalServerError, 503)).kind == "server_error"
    assert ct.fault_outcome(openai.APIConnectionError(request=httpx.Request("POST", "http://m"))).kind == "server_error"
    refused = ct.fault_outcome(_status_error(openai.BadRequestError, 400, body={"error": {"code": "content_filter"}}))
    assert (refused.kind, refused.code) == ("failed", "invalid_prompt")
    wrong = ct.fault_outcome(_status_error(openai.NotFoundError, 404, body={"error": {"code": "model_not_found"}}))
    assert (wrong.kind, wrong.code) == ("failed", "server_error")
