"""Business tools post to their Logic App only for allowed recipients; success is only a 2xx,
a 202 + Location is followed, every failure is an honest output the model can read."""

from __future__ import annotations

import json
import logging

import pytest

from tests.tools.conftest import Reply
from tools import business, registry
from tools.business import Done, Failed, outcome_text, poll_decision, poll_once
from tools.registry import Pending, ToolError

EMAIL = {"to": "ana@example.com", "subject": "Hi", "body": "Hello"}


@pytest.fixture
def logic_app(stand_in, monkeypatch):
    monkeypatch.setenv("SEND_EMAIL_LOGIC_APP_URL", f"{stand_in.url}/email?sig=secret")
    monkeypatch.setenv("CREATE_CALENDAR_EVENT_LOGIC_APP_URL", f"{stand_in.url}/calendar?sig=secret")
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "send_email,create_calendar_event")
    monkeypatch.setenv("TOOL_EMAIL_ALLOWED_RECIPIENTS", "example.com, bob@partner.org")
    stand_in.routes["/email"] = stand_in.routes["/calendar"] = Reply(200)
    return stand_in


def posted(stand_in) -> list[tuple[str, dict]]:
    return [(r["path"], json.loads(r["body"])) for r in stand_in.received if r["method"] == "POST"]


def run(name: str, arguments: dict) -> dict:
    return json.loads(registry.execute(name, json.dumps(arguments)))


# -- success and honest failures ---------------------------------------------------------

def test_send_email_posts_the_arguments_and_a_2xx_is_success(logic_app):
    assert run("send_email", EMAIL) == {"status": "succeeded", "http_status": 200}
    assert posted(logic_app) == [("/email?sig=secret", EMAIL)]


def test_a_json_answer_of_the_logic_app_is_passed_on(logic_app):
    logic_app.routes["/calendar"] = Reply(201, b'{"eventId": "AAMk1"}', {"Content-Type": "application/json"})
    output = run("create_calendar_event", {"subject": "Sync", "start": "2026-12-01T10:00:00Z",
                                           "end": "2026-12-01T10:30:00Z"})
    assert output == {"status": "succeeded", "http_status": 201, "response": {"eventId": "AAMk1"}}
    assert posted(logic_app)[0][1] == {"subject": "Sync", "start": "2026-12-01T10:00:00Z",
                                       "end": "2026-12-01T10:30:00Z", "attendees": [], "body": ""}


def test_a_202_without_location_is_reported_as_accepted_not_as_sent(logic_app):
    logic_app.routes["/email"] = Reply(202)
    output = run("send_email", EMAIL)
    assert output["status"] == "accepted" and output["http_status"] == 202


def test_logic_app_failure_reports_status_and_its_message_without_urls(logic_app):
    logic_app.routes["/email"] = Reply(502, json.dumps({"error": {
        "code": "BadGateway", "message": "Mailbox unavailable, see https://prod-1.logic.azure.com/x?sig=leak"}}).encode())
    output = run("send_email", EMAIL)
    assert output == {"error": "the Logic App answered HTTP 502: Mailbox unavailable, see <url>"}


def test_logic_app_failure_without_a_message(logic_app):
    logic_app.routes["/email"] = Reply(500)
    assert run("send_email", EMAIL) == {"error": "the Logic App answered HTTP 500"}


def test_the_secret_callback_url_never_reaches_the_model(logic_app):
    logic_app.routes["/email"] = Reply(500, b'{"error": {"message": "denied"}}')
    assert "sig=secret" not in registry.execute("send_email", json.dumps(EMAIL))


def test_an_unreachable_logic_app_says_so(monkeypatch, logic_app):
    monkeypatch.setenv("SEND_EMAIL_LOGIC_APP_URL", "http://127.0.0.1:9/email?sig=secret")
    output = run("send_email", EMAIL)
    assert output["error"].startswith("the Logic App could not be reached")
    assert "sig=secret" not in output["error"]


def test_a_slow_logic_app_is_a_timeout_error(monkeypatch, logic_app):
    monkeypatch.setattr(business, "LOGIC_APP_TIMEOUT_SECONDS", 0.3)
    logic_app.routes["/email"] = Reply(200, delay_seconds=1.5)
    output = run("send_email", EMAIL)
    assert output["error"].startswith("the Logic App did not answer within 0.3 s")


def test_missing_arguments_and_bad_json_are_reported_not_raised(logic_app):
    assert "missing required argument(s): body" in registry.execute("send_email", '{"to": "a@example.com", "subject": "s"}')
    assert "invalid arguments" in registry.execute("send_email", "{not json")
    assert posted(logic_app) == []


def test_unconfigured_tool_says_so(monkeypatch, logic_app):
    monkeypatch.delenv("SEND_EMAIL_LOGIC_APP_URL", raising=False)
    assert "SEND_EMAIL_LOGIC_APP_URL is unset" in run("send_email", EMAIL)["error"]


def test_not_enabled_means_nothing_is_sent(monkeypatch, logic_app):
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "create_calendar_event")
    assert "no server-side tool named send_email is enabled" in run("send_email", EMAIL)["error"]
    assert posted(logic_app) == []


# -- the recipient allowlist ------------------------------------------------------------------

@pytest.mark.parametrize("to", ["eve@evil.test", "ana@example.com; eve@evil.test", "bob@sub.example.com",
                                "alice@partner.org"])
def test_a_recipient_outside_the_allowlist_sends_nothing(logic_app, to):
    output = run("send_email", dict(EMAIL, to=to))
    assert "not an allowed recipient" in output["error"] and "nothing was sent" in output["error"]
    assert posted(logic_app) == []


@pytest.mark.parametrize("to, sent", [
    ("ana@example.com", "ana@example.com"),
    ("ANA@Example.COM", "ANA@Example.COM"),
    ("Bob <bob@partner.org>", "bob@partner.org"),
    ("ana@example.com; bob@partner.org", "ana@example.com;bob@partner.org"),
])
def test_allowed_recipients_are_sent_as_plain_addresses(logic_app, to, sent):
    assert run("send_email", dict(EMAIL, to=to))["status"] == "succeeded"
    assert posted(logic_app)[0][1]["to"] == sent


def test_no_allowlist_means_no_recipient(monkeypatch, logic_app):
    monkeypatch.delenv("TOOL_EMAIL_ALLOWED_RECIPIENTS", raising=False)
    output = run("send_email", EMAIL)
    assert "TOOL_EMAIL_ALLOWED_RECIPIENTS is unset" in output["error"]
    assert posted(logic_app) == []


def test_a_star_allows_anyone(monkeypatch, logic_app):
    monkeypatch.setenv("TOOL_EMAIL_ALLOWED_RECIPIENTS", "*")
    assert run("send_email", dict(EMAIL, to="anyone@anywhere.test"))["status"] == "succeeded"


def test_something_that_is_not_an_address_is_refused(logic_app):
    output = run("send_email", dict(EMAIL, to="ana at example dot com"))
    assert "not an e-mail address" in output["error"]
    assert posted(logic_app) == []


def test_calendar_attendees_are_checked_too(logic_app):
    event = {"subject": "Sync", "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T10:30:00Z"}
    refused = run("create_calendar_event", dict(event, attendees=["ana@example.com", "eve@evil.test"]))
    assert "eve@evil.test" in refused["error"] and posted(logic_app) == []
    assert run("create_calendar_event", dict(event, attendees=["ana@example.com"], time_zone="W. Europe Standard Time",
                                             location="Room 1"))["status"] == "succeeded"
    assert posted(logic_app)[0][1] == dict(event, attendees=["ana@example.com"], body="",
                                           time_zone="W. Europe Standard Time", location="Room 1")


# -- logging ---------------------------------------------------------------------------------

def test_each_call_is_logged_without_recipients_bodies_or_urls(logic_app, caplog):
    with caplog.at_level(logging.INFO, logger="tools"):
        run("send_email", EMAIL)
        run("send_email", dict(EMAIL, to="eve@evil.test"))
    lines = [r.getMessage() for r in caplog.records if r.name == "tools"]
    assert len(lines) == 2 and "send_email: ok" in lines[0] and "send_email: error" in lines[1]
    for secret in ("ana@example.com", "eve@evil.test", "Hello", "sig=secret"):
        assert secret not in caplog.text


# -- the asynchronous HTTP pattern: 202 + Location ----------------------------------------------

def test_a_202_with_location_is_pending_with_its_location_and_retry_after(logic_app):
    status_url = f"{logic_app.url}/runs/1/status?sig=poll-secret"
    logic_app.routes["/email"] = Reply(202, headers={"Location": status_url, "Retry-After": "7"})
    result = registry.invoke("send_email", json.dumps(EMAIL))
    assert result == Pending(status_url, 7.0, business.LOGIC_APP_POLL_DEADLINE_SECONDS)
    assert "poll-secret" not in registry.execute("send_email", json.dumps(EMAIL))


def test_a_location_on_another_host_is_not_followed(logic_app):
    logic_app.routes["/email"] = Reply(202, headers={"Location": "http://169.254.169.254/latest/meta-data"})
    assert run("send_email", EMAIL) == {
        "error": "the Logic App accepted the request but gave a status URL on another host"}


def test_poll_once_reads_the_status_and_the_decision_follows_it(logic_app):
    status_url = f"{logic_app.url}/runs/1/status?sig=poll-secret"
    logic_app.routes["/runs/1/status"] = Reply(202, headers={"Location": status_url, "Retry-After": "2"})
    status, headers, body = poll_once(status_url)
    assert poll_decision(status, headers, body, polled=status_url) == Pending(
        status_url, 2.0, business.LOGIC_APP_POLL_DEADLINE_SECONDS)

    logic_app.routes["/runs/1/status"] = Reply(200, b'{"messageId": "m-1"}')
    assert poll_decision(*poll_once(status_url), polled=status_url) == Done(
        {"status": "succeeded", "http_status": 200, "response": {"messageId": "m-1"}})

    logic_app.routes["/runs/1/status"] = Reply(400, b'{"error": {"code": "X", "message": "Invalid recipient"}}')
    assert poll_decision(*poll_once(status_url), polled=status_url) == Failed(
        "the Logic App answered HTTP 400: Invalid recipient")


def test_poll_once_refuses_urls_off_the_logic_apps_origin(logic_app):
    with pytest.raises(ToolError):
        poll_once("http://169.254.169.254/latest/meta-data")
    with pytest.raises(ToolError):
        poll_once(f"http://127.0.0.1:{logic_app.port + 1}/runs/1")


def test_poll_once_of_an_unreachable_logic_app_is_status_0(monkeypatch):
    monkeypatch.setenv("SEND_EMAIL_LOGIC_APP_URL", "http://127.0.0.1:9/email?sig=secret")
    assert poll_once("http://127.0.0.1:9/runs/1") == (0, {}, b"")


STATUS = "https://prod-1.logic.example/workflows/w/runs/r/operations/o?sig=s"


@pytest.mark.parametrize("status, headers, body, polled, expected", [
    (200, {}, b"", None, Done({"status": "succeeded", "http_status": 200})),
    (204, {}, b"", STATUS, Done({"status": "succeeded", "http_status": 204})),
    (200, {}, b'["a"]', None, Done({"status": "succeeded", "http_status": 200, "response": ["a"]})),
    (200, {}, b"plain text", None, Done({"status": "succeeded", "http_status": 200})),
    (202, {"Location": STATUS}, b"", None, Pending(STATUS, 5.0, 300.0)),
    (202, {"location": STATUS, "retry-after": "12"}, b"", None, Pending(STATUS, 12.0, 300.0)),
    (202, {"Location": STATUS, "Retry-After": "0"}, b"", None, Pending(STATUS, 1.0, 300.0)),
    (202, {"Location": STATUS, "Retry-After": "86400"}, b"", None, Pending(STATUS, 120.0, 300.0)),
    (202, {"Location": STATUS, "Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, b"", None, Pending(STATUS, 5.0, 300.0)),
    (202, {"Location": "/workflows/w/runs/r/next"}, b"", STATUS,
     Pending("https://prod-1.logic.example/workflows/w/runs/r/next", 5.0, 300.0)),
    (202, {"Retry-After": "3"}, b"", STATUS, Pending(STATUS, 3.0, 300.0)),  # still running, same URL
    (202, {"Location": "/relative"}, b"", None,
     Failed("the Logic App accepted the request but gave a status URL that cannot be followed")),
    (202, {"Location": "file:///etc/passwd"}, b"", None,
     Failed("the Logic App accepted the request but gave a status URL that cannot be followed")),
    (0, {}, b"", STATUS, Pending(STATUS, 5.0, 300.0)),  # not reached while polling: try again
    (0, {}, b"", None, Failed("the Logic App could not be reached")),
    (404, {}, b"", STATUS, Failed("the Logic App answered HTTP 404")),
    (500, {}, b'{"error": {"code": "c", "message": "boom"}}', STATUS, Failed("the Logic App answered HTTP 500: boom")),
    (400, {}, b'{"error": "bad input"}', None, Failed("the Logic App answered HTTP 400: bad input")),
    (400, {}, b'{"message": "bad\\n  field"}', None, Failed("the Logic App answered HTTP 400: bad field")),
    (429, {}, b"not json", None, Failed("the Logic App answered HTTP 429")),
    (302, {"Location": STATUS}, b"", None, Failed("the Logic App answered HTTP 302")),
])
def test_poll_decision(status, headers, body, polled, expected):
    assert poll_decision(status, headers, body, polled=polled) == expected


def test_a_long_logic_app_message_is_cut():
    decision = poll_decision(500, {}, json.dumps({"error": {"message": "x" * 5000}}).encode())
    assert isinstance(decision, Failed) and len(decision.message) < 400


def test_poll_decision_takes_the_body_as_text_too():
    """An activity result must be JSON, so the body may travel as text."""
    assert poll_decision(500, {}, '{"error": {"message": "boom"}}') == Failed("the Logic App answered HTTP 500: boom")
    assert poll_decision(200, {}, '{"id": 1}') == Done({"status": "succeeded", "http_status": 200, "response": {"id": 1}})


def test_outcome_text_is_what_the_model_reads_when_polling_ends():
    assert json.loads(outcome_text(Done({"status": "succeeded", "http_status": 200}))) == {
        "status": "succeeded", "http_status": 200}
    assert json.loads(outcome_text(Failed("the Logic App answered HTTP 500"))) == {
        "error": "the Logic App answered HTTP 500"}
