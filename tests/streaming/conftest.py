"""Helpers for streaming tests: strict SDK clients, a recording event handler, raw SSE reading."""

from __future__ import annotations

import json
import uuid

import httpx2 as httpx  # the HTTP client the pinned openai SDK ships with
import openai
import pytest
from openai import AssistantEventHandler

from tests.conftest import sdk_client
from tests.runs.conftest import MODEL


def strict_client(base_url: str, principal: str | None = None) -> openai.OpenAI:
    """The SDK validating every event against its models, with a key of its own (a fresh principal)."""
    return sdk_client(base_url, principal or f"principal-{uuid.uuid4().hex}")


def auth_headers(client: openai.OpenAI) -> dict[str, str]:
    """The client's credentials, for raw HTTP calls."""
    return {"Authorization": f"Bearer {client.api_key}"}


@pytest.fixture
def api(devhost) -> openai.OpenAI:
    return strict_client(devhost.base_url)


def make_assistant(client: openai.OpenAI, **settings):
    return client.beta.assistants.create(model=MODEL, instructions="You are the assistant under test.", **settings)


class Recorder(AssistantEventHandler):
    """Records every callback the SDK makes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []
        self.deltas: list[str] = []
        self.ended = False

    def on_event(self, event) -> None:
        self.calls.append(("event", event.event))

    def on_text_created(self, text) -> None:
        self.calls.append(("text_created", text.value))

    def on_text_delta(self, delta, snapshot) -> None:
        self.deltas.append(delta.value)
        self.calls.append(("text_delta", delta.value, snapshot.value))

    def on_text_done(self, text) -> None:
        self.calls.append(("text_done", text.value))

    def on_message_done(self, message) -> None:
        self.calls.append(("message_done", message.id))

    def on_tool_call_created(self, tool_call) -> None:
        self.calls.append(("tool_created", tool_call.type, tool_call.id))

    def on_tool_call_delta(self, delta, snapshot) -> None:
        self.calls.append(("tool_delta", delta.type, snapshot.model_dump()))

    def on_tool_call_done(self, tool_call) -> None:
        self.calls.append(("tool_done", tool_call.type, tool_call.model_dump()))

    def on_image_file_done(self, image_file) -> None:
        self.calls.append(("image_done", image_file.file_id))

    def on_end(self) -> None:
        self.ended = True

    def events(self) -> list[str]:
        return [call[1] for call in self.calls if call[0] == "event"]

    def of(self, kind: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == kind]


def sse_events(response: httpx.Response):
    """(id, event, data) of each server-sent event, and ("comment", text) for comment lines."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            yield ("comment", line[1:].strip(), None)
            continue
        if not line:
            if fields:
                data = fields.get("data", "")
                yield (fields.get("id"), fields.get("event"), data if data == "[DONE]" else json.loads(data))
                fields = {}
            continue
        name, _, value = line.partition(":")
        fields[name] = value[1:] if value.startswith(" ") else value


def open_events(client: openai.OpenAI, thread_id: str, run_id: str, after: int | None = None,
                last_event_id: str | None = None, timeout: float = 60):
    """GET …/events as a raw httpx stream (a context manager)."""
    headers = auth_headers(client)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    params = {"after": after} if after is not None else {}
    return httpx.stream("GET", f"{client.base_url}threads/{thread_id}/runs/{run_id}/events", params=params,
                        headers=headers, timeout=timeout)


def read_all(client: openai.OpenAI, thread_id: str, run_id: str, **options) -> list[tuple]:
    with open_events(client, thread_id, run_id, **options) as response:
        assert response.status_code == 200, response.read()
        return [event for event in sse_events(response) if event[0] != "comment"]
