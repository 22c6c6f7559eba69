"""The seed's business tools: e-mail and calendar through Logic Apps.

Each Logic App exposes an HTTP request trigger whose callback URL (a secret:
it carries a SAS signature) is an app setting. The tool posts the model's
arguments there; an unconfigured or failing Logic App becomes a clear tool
output the model can relay, not a failed run.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from core import settings
from tools.registry import ServerTool, ToolError, register

LOGIC_APP_TIMEOUT_SECONDS = 20.0


def _post_to_logic_app(setting_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    url = settings.get(setting_name)
    if not url:
        raise ToolError(f"this deployment has no Logic App configured for this tool ({setting_name} is unset)")
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=LOGIC_APP_TIMEOUT_SECONDS) as response:
            return {"status": "sent", "http_status": response.status}
    except urllib.error.HTTPError as error:
        raise ToolError(f"the Logic App answered HTTP {error.code}") from error
    except (urllib.error.URLError, TimeoutError) as error:
        raise ToolError(f"the Logic App could not be reached: {getattr(error, 'reason', error)}") from error


def _require(arguments: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if not str(arguments.get(name) or "").strip()]
    if missing:
        raise ToolError(f"missing required argument(s): {', '.join(missing)}")


def send_email(arguments: dict[str, Any]) -> dict[str, Any]:
    _require(arguments, "to", "subject", "body")
    return _post_to_logic_app("SEND_EMAIL_LOGIC_APP_URL", {
        "to": arguments["to"], "subject": arguments["subject"], "body": arguments["body"]})


def create_calendar_event(arguments: dict[str, Any]) -> dict[str, Any]:
    _require(arguments, "subject", "start", "end")
    return _post_to_logic_app("CREATE_CALENDAR_EVENT_LOGIC_APP_URL", {
        "subject": arguments["subject"], "start": arguments["start"], "end": arguments["end"],
        "attendees": arguments.get("attendees") or [], "body": arguments.get("body") or ""})


register(ServerTool(
    name="send_email",
    description="Send an e-mail from the user's Office 365 mailbox.",
    parameters={"type": "object", "properties": {
        "to": {"type": "string", "description": "Recipient e-mail address"},
        "subject": {"type": "string"}, "body": {"type": "string"}},
        "required": ["to", "subject", "body"]},
    run=send_email, timeout_seconds=LOGIC_APP_TIMEOUT_SECONDS))

register(ServerTool(
    name="create_calendar_event",
    description="Create an event in the user's Office 365 calendar.",
    parameters={"type": "object", "properties": {
        "subject": {"type": "string"},
        "start": {"type": "string", "description": "ISO 8601 start time"},
        "end": {"type": "string", "description": "ISO 8601 end time"},
        "attendees": {"type": "array", "items": {"type": "string"}},
        "body": {"type": "string"}},
        "required": ["subject", "start", "end"]},
    run=create_calendar_event, timeout_seconds=LOGIC_APP_TIMEOUT_SECONDS))
