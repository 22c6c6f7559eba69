"""The seed's business tools: e-mail and calendar through Logic Apps.

Each Logic App exposes an HTTP request trigger whose callback URL (a secret: it carries a
SAS signature) is an app setting. The tool posts the model's arguments there, after the
recipients passed the operator's allowlist (tools/recipients.py). Success is only the Logic
App's 2xx; anything else is reported honestly (status and the Logic App's own message, never
a URL). A Logic App that answers 202 with a Location (the asynchronous HTTP pattern) yields
`Pending`: the orchestrator polls it on durable timers with `poll_once` and decides with the
pure `poll_decision`, never an activity that sleeps.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urljoin, urlsplit

import requests

from core import settings
from tools import recipients
from tools.registry import Pending, ServerTool, ToolError, cap_output, register

LOGIC_APP_TIMEOUT_SECONDS = 20.0
# How long the orchestrator may poll an accepted Logic App run before giving up.
LOGIC_APP_POLL_DEADLINE_SECONDS = 300.0
DEFAULT_RETRY_AFTER_SECONDS = 5.0
MAX_RETRY_AFTER_SECONDS = 120.0
LOGIC_APP_SETTINGS = ("SEND_EMAIL_LOGIC_APP_URL", "CREATE_CALENDAR_EVENT_LOGIC_APP_URL")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_MAX_MESSAGE_CHARS = 300
_MAX_RESPONSE_BYTES = 4_000


@dataclass(frozen=True)
class Done:
    """The Logic App finished: `output` is what the model reads."""

    output: dict[str, Any]


@dataclass(frozen=True)
class Failed:
    """The Logic App failed or cannot be followed: `message` is safe to show the model."""

    message: str


def retry_after(headers: Mapping[str, str]) -> float:
    """Retry-After in seconds (the delta-seconds form Logic Apps send), bounded; else the default."""
    value = str(_header(headers, "retry-after") or "").strip()
    if not value.isdigit():
        return DEFAULT_RETRY_AFTER_SECONDS
    return min(max(float(value), 1.0), MAX_RETRY_AFTER_SECONDS)


def poll_decision(status: int, headers: Mapping[str, str], body: bytes | str,
                  polled: str | None = None) -> Done | Pending | Failed:
    """What a Logic App's answer means: finished, still running (poll again) or failed.

    Pure, so an orchestrator may call it. `polled` is the status URL this answer came from
    (None for the first POST); `body` may be bytes or its text (JSON-friendly). Status 0
    stands for "not reached": while polling it is worth another try, for the POST it fails.
    A 202 without Location to the POST is final (the Logic App reports no completion)."""
    if status == 202 or (status == 0 and polled):
        location = _header(headers, "location")
        if not location:
            if polled:
                return Pending(polled, retry_after(headers), LOGIC_APP_POLL_DEADLINE_SECONDS)
            return Done({"status": "accepted", "http_status": 202,
                         "detail": "the Logic App accepted the request; it does not report when it is done"})
        target = urljoin(polled or "", location)
        if urlsplit(target).scheme not in ("http", "https") or not urlsplit(target).netloc:
            return Failed("the Logic App accepted the request but gave a status URL that cannot be followed")
        return Pending(target, retry_after(headers), LOGIC_APP_POLL_DEADLINE_SECONDS)
    if status == 0:
        return Failed("the Logic App could not be reached")
    if 200 <= status < 300:
        output: dict[str, Any] = {"status": "succeeded", "http_status": status}
        answer = _json(body)
        if isinstance(answer, (dict, list)) and len(body) <= _MAX_RESPONSE_BYTES:
            output["response"] = answer
        return Done(output)
    message = error_message(body)
    return Failed(f"the Logic App answered HTTP {status}" + (f": {message}" if message else ""))


def outcome_text(decision: Done | Failed) -> str:
    """The tool output the model reads once polling ended."""
    if isinstance(decision, Failed):
        return json.dumps({"error": decision.message})
    return cap_output(decision.output)


def error_message(body: bytes | str) -> str:
    """The Logic App's own error text ({"error": {"message"}} or a plain string), URLs removed."""
    answer = _json(body)
    text: object = ""
    if isinstance(answer, dict):
        error = answer.get("error")
        text = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else \
            answer.get("message")
    elif isinstance(answer, str):
        text = answer
    if not isinstance(text, str):
        return ""
    text = " ".join(_URL.sub("<url>", text).split())
    return text[:_MAX_MESSAGE_CHARS]


def poll_once(location: str) -> tuple[int, dict[str, str], bytes]:
    """GET a Logic App status URL once; (0, {}, b"") when it cannot be reached.

    Only URLs on the origin of a configured Logic App are polled: a Location pointing
    elsewhere is refused rather than fetched with the app's network position."""
    if _origin(location) not in {_origin(settings.get(name)) for name in LOGIC_APP_SETTINGS if settings.get(name)}:
        raise ToolError("the status URL is not on a configured Logic App")
    try:
        response = requests.get(location, timeout=LOGIC_APP_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException:
        return 0, {}, b""
    return response.status_code, dict(response.headers), response.content


def _post_to_logic_app(setting_name: str, payload: dict[str, Any]) -> dict[str, Any] | Pending:
    url = settings.get(setting_name)
    if not url:
        raise ToolError(f"this deployment has no Logic App configured for this tool ({setting_name} is unset)")
    try:
        response = requests.post(url, json=payload, timeout=LOGIC_APP_TIMEOUT_SECONDS, allow_redirects=False)
    except requests.Timeout:
        raise ToolError(f"the Logic App did not answer within {LOGIC_APP_TIMEOUT_SECONDS:g} s; "
                        "it may or may not have acted") from None
    except requests.RequestException as error:
        raise ToolError(f"the Logic App could not be reached ({type(error).__name__})") from None
    decision = poll_decision(response.status_code, response.headers, response.content)
    if isinstance(decision, Failed):
        raise ToolError(decision.message)
    if isinstance(decision, Pending) and _origin(decision.location) != _origin(url):
        raise ToolError("the Logic App accepted the request but gave a status URL on another host")
    return decision.output if isinstance(decision, Done) else decision


def _origin(url: str | None) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url or "")
        return parts.scheme, (parts.hostname or ""), parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)


def _json(body: bytes | str) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


def _require(arguments: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if not str(arguments.get(name) or "").strip()]
    if missing:
        raise ToolError(f"missing required argument(s): {', '.join(missing)}")


def _allowed_recipients() -> str | None:
    return settings.get(recipients.SETTING)


def send_email(arguments: dict[str, Any]) -> dict[str, Any] | Pending:
    _require(arguments, "to", "subject", "body")
    to = recipients.addresses_in(arguments["to"], "to")
    recipients.check_allowed(to, _allowed_recipients())
    return _post_to_logic_app("SEND_EMAIL_LOGIC_APP_URL", {
        "to": ";".join(to), "subject": arguments["subject"], "body": arguments["body"]})


def create_calendar_event(arguments: dict[str, Any]) -> dict[str, Any] | Pending:
    _require(arguments, "subject", "start", "end")
    attendees = recipients.addresses_in(arguments.get("attendees") or [], "attendees")
    if attendees:
        recipients.check_allowed(attendees, _allowed_recipients())
    optional = {name: arguments[name] for name in ("time_zone", "location") if arguments.get(name)}
    return _post_to_logic_app("CREATE_CALENDAR_EVENT_LOGIC_APP_URL", {
        "subject": arguments["subject"], "start": arguments["start"], "end": arguments["end"],
        "attendees": attendees, "body": arguments.get("body") or "", **optional})


register(ServerTool(
    name="send_email",
    description="Send an e-mail from the user's Office 365 mailbox (to addresses this deployment allows).",
    parameters={"type": "object", "properties": {
        "to": {"type": "string", "description": "Recipient e-mail address(es), separated by ;"},
        "subject": {"type": "string"}, "body": {"type": "string"}},
        "required": ["to", "subject", "body"]},
    run=send_email, timeout_seconds=LOGIC_APP_TIMEOUT_SECONDS + 5, acts_on_world=True))

register(ServerTool(
    name="create_calendar_event",
    description="Create an event in the user's Office 365 calendar, inviting attendees this deployment allows.",
    parameters={"type": "object", "properties": {
        "subject": {"type": "string"},
        "start": {"type": "string", "description": "ISO 8601 start time"},
        "end": {"type": "string", "description": "ISO 8601 end time"},
        "time_zone": {"type": "string", "description": "Windows time zone name of start and end, default UTC"},
        "attendees": {"type": "array", "items": {"type": "string"}, "description": "Attendees' e-mail addresses"},
        "location": {"type": "string"},
        "body": {"type": "string"}},
        "required": ["subject", "start", "end"]},
    run=create_calendar_event, timeout_seconds=LOGIC_APP_TIMEOUT_SECONDS + 5, acts_on_world=True))
