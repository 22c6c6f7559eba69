"""The smoke test's calls to the API, with the standard library's HTTP client."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from smoke.checks import Reply, RunOutcome

TERMINAL = {"completed", "failed", "cancelled", "expired", "incomplete", "requires_action"}
# Deterministic code whose output no model can guess, so the check proves the sandbox ran it.
CODE = "import hashlib\nprint(hashlib.sha256(b'assistants-api-in-a-box smoke test').hexdigest()[:16])"
EXPECTED_OUTPUT = hashlib.sha256(b"assistants-api-in-a-box smoke test").hexdigest()[:16]
RUN_PROMPT = "Smoke test: reply with one short sentence."
CODE_PROMPT = ("Smoke test for code_interpreter: run exactly this Python with the code interpreter tool, "
               f"then tell me what it printed.\n```python\n{CODE}\n```")


def api_base(endpoint: str) -> str:
    """The /v1 base URL from an app root or a /v1 URL, without a trailing slash."""
    base = endpoint.strip().rstrip("/")
    return base if base.endswith("/v1") else f"{base}/v1"


def is_loopback(endpoint: str) -> bool:
    host = urllib.parse.urlsplit(api_base(endpoint)).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Api:
    """JSON calls to one deployment; the key travels as `api-key` (a Bearer header would be taken
    for an Entra token by App Service Authentication when that is on)."""

    def __init__(self, endpoint: str, key: str | None, timeout: float = 60.0):
        self.base = api_base(endpoint)
        self.key = key
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None, authenticated: bool = True) -> Reply:
        headers = {"Accept": "application/json", "OpenAI-Beta": "assistants=v2"}
        if authenticated and self.key:
            headers["api-key"] = self.key
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Reply(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, _json(error.read()))
        except (urllib.error.URLError, OSError) as error:
            return Reply(None, error=str(getattr(error, "reason", error)))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def unauthenticated_call(api: Api) -> Reply:
    return api.call("GET", "/assistants?limit=1", authenticated=False)


def key_call(api: Api) -> Reply:
    return api.call("GET", "/assistants?limit=1")


def run_once(api: Api, model: str, prompt: str, tools: list[dict], timeout: float) -> tuple[RunOutcome, float]:
    """Create an assistant and a thread-and-run, wait for the run, read its reply and tool calls;
    the assistant and thread are deleted afterwards. Returns the outcome and the seconds waited."""
    started = time.monotonic()
    assistant = api.call("POST", "/assistants", {
        "model": model, "name": "smoke test", "tools": tools,
        "instructions": "You are a deployment smoke test. Follow the user's instructions exactly."})
    if assistant.status != 200:
        return RunOutcome(failed_request=assistant), time.monotonic() - started
    try:
        outcome = _run(api, assistant.body["id"], prompt, started, timeout)
    finally:
        api.call("DELETE", f"/assistants/{assistant.body['id']}")
    return outcome, time.monotonic() - started


def _run(api: Api, assistant_id: str, prompt: str, started: float, timeout: float) -> RunOutcome:
    created = api.call("POST", "/threads/runs", {
        "assistant_id": assistant_id, "thread": {"messages": [{"role": "user", "content": prompt}]}})
    if created.status != 200:
        return RunOutcome(failed_request=created)
    run = created.body
    try:
        while run.get("status") not in TERMINAL and time.monotonic() - started < timeout:
            time.sleep(1.0)
            polled = api.call("GET", f"/threads/{run['thread_id']}/runs/{run['id']}")
            if polled.status != 200:
                return RunOutcome(run=run, failed_request=polled)
            run = polled.body
        return RunOutcome(run=run, reply_text=_reply_text(api, run), tool_calls=_tool_calls(api, run))
    finally:
        if run.get("status") not in TERMINAL:
            api.call("POST", f"/threads/{run['thread_id']}/runs/{run['id']}/cancel")
        api.call("DELETE", f"/threads/{run['thread_id']}")


def _reply_text(api: Api, run: dict) -> str:
    listed = api.call("GET", f"/threads/{run['thread_id']}/messages?order=desc&limit=10")
    if listed.status != 200:
        return ""
    for message in listed.body.get("data", []):
        if message.get("role") == "assistant" and message.get("run_id") == run["id"]:
            return "".join(part.get("text", {}).get("value", "") for part in message.get("content", [])
                           if part.get("type") == "text")
    return ""


def _tool_calls(api: Api, run: dict) -> tuple[dict, ...]:
    listed = api.call("GET", f"/threads/{run['thread_id']}/runs/{run['id']}/steps?order=asc&limit=100")
    if listed.status != 200:
        return ()
    return tuple(call for step in listed.body.get("data", []) if step.get("type") == "tool_calls"
                 for call in step.get("step_details", {}).get("tool_calls", []))
