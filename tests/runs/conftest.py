"""Helpers for the run engine tests: fresh principals, assistants, unique match tokens, polling.

Every test talks to the product through the pinned `openai` SDK. Model replies are
routed with `match=<token>` (a unique substring of the test's user message) so a
late request from an earlier test can never consume another test's script.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid

import openai
import pytest

from tests.conftest import sdk_client

TERMINAL = ("completed", "failed", "cancelled", "expired", "incomplete")
MODEL = "gpt-scripted"

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "description": "Local time in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
SEND_EMAIL = {"type": "function", "function": {
    "name": "send_email", "description": "Send an e-mail",
    "parameters": {"type": "object", "properties": {"to": {"type": "string"}, "subject": {"type": "string"},
                                                    "body": {"type": "string"}},
                   "required": ["to", "subject", "body"]}}}


def token() -> str:
    """A unique word to put in a user message and route scripted replies to it."""
    return "tok" + uuid.uuid4().hex[:12]


@pytest.fixture
def fresh(devhost) -> openai.OpenAI:
    """An SDK client acting as a principal no other test uses."""
    return sdk_client(devhost.base_url, f"principal-{uuid.uuid4().hex}")


def make_assistant(client: openai.OpenAI, **settings):
    body = {"model": MODEL, "instructions": "You are the assistant under test.", **settings}
    return client.beta.assistants.create(**body)


@pytest.fixture
def assistant(fresh):
    return make_assistant(fresh, tools=[WEATHER, TIME])


def thread_with(client: openai.OpenAI, text: str):
    return client.beta.threads.create(messages=[{"role": "user", "content": text}])


def wait_for(client: openai.OpenAI, thread_id: str, run_id: str, statuses, timeout: float = 30.0):
    """Poll until the run is in one of `statuses` (no fixed sleeps); returns the run."""
    statuses = (statuses,) if isinstance(statuses, str) else tuple(statuses)
    deadline = time.monotonic() + timeout
    run = client.beta.threads.runs.retrieve(run_id, thread_id=thread_id)
    while run.status not in statuses:
        assert time.monotonic() < deadline, f"run stayed {run.status}, wanted {statuses}: {run}"
        assert run.status not in TERMINAL, f"run ended {run.status}, wanted {statuses}: {run}"
        time.sleep(0.05)
        run = client.beta.threads.runs.retrieve(run_id, thread_id=thread_id)
    return run


def wait_until(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def requests_for(scripted, marker: str) -> list[dict]:
    """The model requests whose messages mention `marker`, oldest first."""
    return [body for body in scripted.client.requests() if marker in json.dumps(body["messages"])]


def texts(client: openai.OpenAI, thread_id: str) -> list[tuple[str, str]]:
    """(role, text) of every message in the thread, oldest first."""
    page = client.beta.threads.messages.list(thread_id=thread_id, order="asc", limit=100)
    return [(m.role, "".join(part.text.value for part in m.content if part.type == "text")) for m in page.data]


class LogicAppStandIn:
    """A local HTTP server standing in for a Logic App's request trigger; records what it got."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 202
        self.delay_seconds = 0.0  # a slow Logic App
        # Asynchronous HTTP pattern: with pending_polls > 0 the POST answers 202 + Location, and the
        # status URL answers 202 that many times before 200.
        self.pending_polls = 0
        self.polls: list[str] = []
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                stand_in.received.append({"path": self.path, "body": json.loads(self.rfile.read(length) or b"null")})
                time.sleep(stand_in.delay_seconds)
                if stand_in.pending_polls:
                    return self._answer(202, location=f"{stand_in.url}/status/1?sig=secret")
                self._answer(stand_in.status)

            def do_GET(self):  # noqa: N802
                stand_in.polls.append(self.path)
                if len(stand_in.polls) < stand_in.pending_polls:
                    return self._answer(202, location=f"{stand_in.url}{self.path}")
                self._answer(200, body=b'{"status": "Succeeded"}')

            def _answer(self, status: int, location: str | None = None, body: bytes = b""):
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
