"""The registry: tools exist only when the operator enabled them; assistants opt in by metadata."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tools import registry
from tools.registry import Pending, ServerTool, ToolError, register

BUILTINS = {"send_email", "create_calendar_event", "get_stock_price", "get_country_info", "fetch_article"}


def _register_once(name: str, run, timeout_seconds: float = 5.0) -> None:
    if name not in registry.registered_names():
        register(ServerTool(name=name, description=f"test tool {name}", parameters={"type": "object"},
                            run=run, timeout_seconds=timeout_seconds))


def test_every_builtin_is_registered():
    assert BUILTINS <= set(registry.registered_names())


def test_nothing_is_enabled_by_default(monkeypatch):
    monkeypatch.delenv("SERVER_TOOLS_ENABLED", raising=False)
    assert registry.enabled_tools() == []
    assert all(registry.server_tool(name) is None for name in BUILTINS)
    assert json.loads(registry.execute("get_stock_price", '{"symbol": "MSFT"}')) == {
        "error": "no server-side tool named get_stock_price is enabled"}


def test_the_operator_enables_tools_by_name(monkeypatch):
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", " get_country_info,,fetch_article , no_such_tool,fetch_article")
    assert [tool.name for tool in registry.enabled_tools()] == ["fetch_article", "get_country_info"]
    assert registry.server_tool("fetch_article").name == "fetch_article"
    assert registry.server_tool("send_email") is None
    assert registry.server_tool("no_such_tool") is None


@pytest.mark.parametrize("metadata, expected", [
    ({"server_tools": "get_stock_price,send_email"}, {"get_stock_price", "send_email"}),
    ({"server_tools": "  get_stock_price , ,get_stock_price,"}, {"get_stock_price"}),
    ({"server_tools": "get_stock_price,unknown_tool"}, {"get_stock_price"}),
    ({"server_tools": "Get_Stock_Price"}, set()),  # names are exact
    ({"server_tools": ""}, set()),
    ({"server_tools": "   "}, set()),
    ({"server_tools": ["get_stock_price"]}, set()),  # metadata values are strings; anything else: none
    ({"other": "get_stock_price"}, set()),
    ({}, set()),
    (None, set()),
    ("get_stock_price", set()),
])
def test_opted_in_parses_the_metadata_marker(metadata, expected):
    assert registry.opted_in(metadata) == frozenset(expected)


def test_opting_in_is_independent_of_enabling(monkeypatch):
    monkeypatch.delenv("SERVER_TOOLS_ENABLED", raising=False)
    assert registry.opted_in({"server_tools": "send_email"}) == {"send_email"}
    assert registry.server_tool("send_email") is None


def test_chat_tool_definition_is_the_chat_completions_schema():
    definition = registry.chat_tool_definition("get_stock_price")
    assert definition["type"] == "function"
    function = definition["function"]
    assert function["name"] == "get_stock_price" and function["description"]
    assert function["parameters"]["required"] == ["symbol"]
    assert function["parameters"]["properties"]["symbol"]["type"] == "string"
    json.dumps(definition)  # plain JSON, ready for the tools list of a request


def test_every_builtin_schema_is_a_json_schema_object():
    for name in BUILTINS:
        parameters = registry.chat_tool_definition(name)["function"]["parameters"]
        assert parameters["type"] == "object"
        assert set(parameters["required"]) <= set(parameters["properties"])


def test_chat_tool_definition_of_an_unknown_tool_raises():
    with pytest.raises(KeyError):
        registry.chat_tool_definition("no_such_tool")


def test_a_tool_past_its_timeout_is_abandoned_with_an_error_output(monkeypatch):
    _register_once("test_sleeper", lambda arguments: time.sleep(5), timeout_seconds=0.2)
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "test_sleeper")
    started = time.perf_counter()
    output = json.loads(registry.execute("test_sleeper", "{}"))
    assert output == {"error": "test_sleeper did not finish within 0.2 s"}
    assert time.perf_counter() - started < 2


def test_errors_and_crashes_become_outputs(monkeypatch):
    def refuse(arguments):
        raise ToolError("no such city")

    _register_once("test_refuser", refuse)
    _register_once("test_crasher", lambda arguments: 1 / 0)
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "test_refuser,test_crasher")
    assert json.loads(registry.execute("test_refuser", "{}")) == {"error": "no such city"}
    assert json.loads(registry.execute("test_crasher", "{}")) == {
        "error": "test_crasher failed: ZeroDivisionError: division by zero"}
    assert "invalid arguments" in registry.execute("test_refuser", "[1, 2]")
    assert "invalid arguments" in registry.execute("test_refuser", "{not json")


def test_long_outputs_are_capped(monkeypatch):
    _register_once("test_chatty", lambda arguments: "x" * (registry.MAX_OUTPUT_CHARS + 10))
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "test_chatty")
    output = registry.execute("test_chatty", "{}")
    assert output.startswith("x" * registry.MAX_OUTPUT_CHARS)
    assert output.endswith(f"[output truncated: {registry.MAX_OUTPUT_CHARS + 10} characters in all]")


def test_a_pending_result_reaches_invoke_and_the_model_never_sees_its_location(monkeypatch):
    pending = Pending("https://logic.example/runs/1?sig=secret", 7.0, 60.0)
    _register_once("test_async", lambda arguments: pending)
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "test_async")
    assert registry.invoke("test_async", "{}") == pending
    text = registry.execute("test_async", "{}")
    assert json.loads(text)["status"] == "accepted"
    assert "sig=secret" not in text and "logic.example" not in text


def test_every_call_is_logged_with_name_and_outcome_only(monkeypatch, caplog):
    def refuse(arguments):
        raise ToolError(f"refused {arguments['secret']}")

    _register_once("test_logged", refuse)
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "test_logged")
    with caplog.at_level(logging.INFO, logger="tools"):
        registry.execute("test_logged", json.dumps({"secret": "hunter2-body"}))
    (record,) = [r for r in caplog.records if r.name == "tools"]
    assert "test_logged" in record.getMessage() and "error" in record.getMessage()
    assert "hunter2" not in caplog.text
