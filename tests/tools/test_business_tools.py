"""Business tools post to their Logic App; every failure becomes an output the model can read."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tools import registry


class LogicAppStandIn(BaseHTTPRequestHandler):
    received: list = []
    status = 202

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        LogicAppStandIn.received.append((self.path, json.loads(body)))
        self.send_response(LogicAppStandIn.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def logic_app(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), LogicAppStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    LogicAppStandIn.received = []
    LogicAppStandIn.status = 202
    base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("SEND_EMAIL_LOGIC_APP_URL", f"{base}/email?sig=secret")
    monkeypatch.setenv("CREATE_CALENDAR_EVENT_LOGIC_APP_URL", f"{base}/calendar?sig=secret")
    yield LogicAppStandIn
    server.shutdown()


def test_send_email_posts_the_arguments(logic_app):
    output = registry.execute("send_email", json.dumps({"to": "a@example.com", "subject": "Hi", "body": "Hello"}))
    assert json.loads(output) == {"status": "sent", "http_status": 202}
    assert logic_app.received == [("/email?sig=secret", {"to": "a@example.com", "subject": "Hi", "body": "Hello"})]


def test_calendar_event_posts_defaults_for_optional_fields(logic_app):
    registry.execute("create_calendar_event", json.dumps(
        {"subject": "Sync", "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T10:30:00Z"}))
    assert logic_app.received[0][1] == {"subject": "Sync", "start": "2026-12-01T10:00:00Z",
                                        "end": "2026-12-01T10:30:00Z", "attendees": [], "body": ""}


def test_logic_app_failure_is_a_readable_error_output(logic_app):
    logic_app.status = 500
    output = json.loads(registry.execute("send_email", json.dumps({"to": "a@x", "subject": "s", "body": "b"})))
    assert output == {"error": "the Logic App answered HTTP 500"}


def test_missing_arguments_and_bad_json_are_reported_not_raised(logic_app):
    assert "missing required argument(s): body" in registry.execute("send_email", '{"to": "a@x", "subject": "s"}')
    assert "invalid arguments" in registry.execute("send_email", "{not json")
    assert logic_app.received == []


def test_unconfigured_tool_says_so(monkeypatch):
    monkeypatch.delenv("SEND_EMAIL_LOGIC_APP_URL", raising=False)
    output = json.loads(registry.execute("send_email", json.dumps({"to": "a@x", "subject": "s", "body": "b"})))
    assert "SEND_EMAIL_LOGIC_APP_URL is unset" in output["error"]


def test_the_secret_callback_url_never_reaches_the_model(logic_app):
    logic_app.status = 500
    assert "sig=secret" not in registry.execute("send_email", json.dumps({"to": "a@x", "subject": "s", "body": "b"}))


def test_registered_tools_are_listed():
    assert {"send_email", "create_calendar_event"} <= set(registry.registered_names())


def test_a_tool_past_its_timeout_is_abandoned_with_an_error_output():
    import time

    from tools.registry import ServerTool, register

    register(ServerTool(name="test_sleeper", description="sleeps", parameters={"type": "object"},
                        run=lambda arguments: time.sleep(5), timeout_seconds=0.2))
    started = time.perf_counter()
    output = json.loads(registry.execute("test_sleeper", "{}"))
    assert output == {"error": "test_sleeper did not finish within 0.2 s"}
    assert time.perf_counter() - started < 2
