"""finance_responses: a thread begun through the Assistants API, continued through the Responses API, one history."""

from __future__ import annotations

import json
import re

import openai
import pytest

import samples.__main__ as samples_cli
from samples import finance_responses, functions
from scripted_model import reply_tool_calls
from tests.samples.conftest import CLIENT_MAIL_PATH, answer, leftovers, requests_about, script, tool_messages
from tests.samples.test_math_and_finance import CLOSES, bars, portfolio

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

[HOLDINGS] = finance_responses.ASSISTANTS_PROMPTS
WORTH, EMAIL = finance_responses.RESPONSES_PROMPTS
SUMMARY = "Your portfolio is worth 52,000 dollars."


def script_the_model(scripted) -> list[str]:
    symbols = [row["Symbol"] for row in portfolio()]
    script(scripted, HOLDINGS, reply_tool_calls([{"name": "get_stock_price", "arguments": {"symbol": "MSFT"}}]),
           answer("You hold MSFT, AAPL, NVDA, AMZN and KO; MSFT closed at 420.10."))
    script(scripted, WORTH,
           reply_tool_calls([{"name": "get_stock_price", "arguments": {"symbol": s}} for s in symbols]),
           answer(SUMMARY))
    script(scripted, EMAIL,
           reply_tool_calls([{"name": "send_email", "arguments": {"to": "jane.doe@contoso.com", "content": SUMMARY}}]),
           answer("I sent the summary to jane.doe@contoso.com."))
    return symbols


def test_the_responses_continue_the_thread_and_the_conversation_lists_both(run_sample, scripted, monkeypatch,
                                                                          logic_app, service):
    asked: list[str] = []
    monkeypatch.setattr(functions, "price_history", lambda symbol: asked.append(symbol) or bars(CLOSES[symbol]))
    symbols = script_the_model(scripted)

    code, out = run_sample("finance_responses")

    assert code == 0, out
    assert asked == ["MSFT", *symbols]  # one price for the run, five for the response: all run by the client
    # The first response on the thread saw the Assistants run's turn (its price call too, as a response
    # reads the tool calls in its history), and the holdings in its instructions.
    [first, follow_up] = requests_about(scripted, WORTH)
    assert [m["role"] for m in first["messages"][1:5]] == ["user", "assistant", "tool", "assistant"]
    assert first["messages"][2]["tool_calls"][0]["function"]["name"] == "get_stock_price"
    said = [(m["role"], m["content"]) for m in first["messages"] if m["role"] in ("user", "assistant") and m["content"]]
    assert said[:2] == [("user", HOLDINGS), ("assistant", "You hold MSFT, AAPL, NVDA, AMZN and KO; MSFT closed at "
                                                          "420.10.")] and said[-1] == ("user", WORTH)
    assert "- KO: 100 shares at an average cost of $58.10" in first["messages"][0]["content"]
    # Its function calls were answered by function_call_output items in the next response.
    seen = [json.loads(message) for message in tool_messages(scripted, WORTH)]
    assert {(price["symbol"], price["close"]) for price in seen} == {(s, CLOSES[s]) for s in symbols}
    assert [m["role"] for m in follow_up["messages"]][-2:] == ["tool", "tool"]
    assert logic_app.received == [{"path": CLIENT_MAIL_PATH, "body": {"to": "jane.doe@contoso.com",
                                                                       "content": SUMMARY}}]
    # The conversation read back: both APIs' messages, in order, and the function calls between them.
    assert re.search(r"^  \[function_call fc_\w+\] get_stock_price\(.*MSFT", out, flags=re.MULTILINE), out
    assert re.search(r"^  \[function_call_output fc\w*_\w+\] call_id=", out, flags=re.MULTILINE), out
    listed = re.findall(r"^  \[message msg_\w+\] (user|assistant): (.*)$", out, flags=re.MULTILINE)
    assert listed == [("user", HOLDINGS), ("assistant", "You hold MSFT, AAPL, NVDA, AMZN and KO; MSFT closed at "
                                                        "420.10."),
                      ("user", WORTH), ("assistant", SUMMARY),
                      ("user", EMAIL), ("assistant", "I sent the summary to jane.doe@contoso.com.")]
    # Everything it made is gone: the assistant, the thread, and each response.
    responses = re.findall(r"\[response (resp_\w+): completed", out)
    assert len(responses) == 4
    for response_id in responses:
        with pytest.raises(openai.NotFoundError):
            service.responses.retrieve(response_id)
    [thread_id] = re.findall(r"Assistants API: thread (thread_\w+)", out)
    with pytest.raises(openai.NotFoundError):
        service.conversations.retrieve(thread_id)
    assert leftovers(service) == {"assistants": 0, "files": 0}


def test_kept_the_responses_answers_are_thread_messages_to_the_assistants_api(run_sample, scripted, monkeypatch,
                                                                             tmp_path, capsys, service):
    monkeypatch.setattr(functions, "price_history", lambda symbol: bars(CLOSES[symbol]))
    script_the_model(scripted)
    assert samples_cli.main(["finance_responses", "--out", str(tmp_path), "--keep"]) == 0
    out = capsys.readouterr().out
    [thread_id] = re.findall(r"Assistants API: thread (thread_\w+)", out)
    try:
        messages = service.beta.threads.messages.list(thread_id, order="asc")
        as_thread = [(m.id, m.role, m.content[0].text.value) for m in messages.data]
        items = service.conversations.items.list(thread_id, order="asc", limit=100)
        as_conversation = [(item.id, item.role, item.content[0].text) for item in items.data if item.type == "message"]
        assert as_thread == as_conversation and len(as_thread) == 6
        # between the messages, each function call the run and the responses made, then the output it was given
        calls = [item for item in items.data if item.type == "function_call"]
        outputs = {item.call_id: item.output for item in items.data if item.type == "function_call_output"}
        assert calls and set(outputs) == {call.call_id for call in calls}
        assert [call.name for call in calls].count("send_email") == 1
        assert as_thread[3][1:] == ("assistant", SUMMARY)  # a response's answer, read as a thread message
        runs = service.beta.threads.runs.list(thread_id, order="asc").data
        assert len(runs) == 1 + 4  # the Assistants run, and the four responses' runs on the same thread
    finally:
        service.beta.threads.delete(thread_id)
        for assistant in service.beta.assistants.list().data:
            service.beta.assistants.delete(assistant.id)
