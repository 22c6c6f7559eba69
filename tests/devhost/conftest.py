"""devhost serving the sample app (tests/devhost/sample_app) against the session's Azurite."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.support.devhost_proc import DevhostProcess

SAMPLE_APP = Path(__file__).parent / "sample_app"
BODY_LIMIT = 64 * 1024  # the sample host's FUNCTIONS_REQUEST_BODY_SIZE_LIMIT


class SampleHost:
    def __init__(self, process: DevhostProcess, activity_log: Path):
        self.process = process
        self.activity_log = activity_log

    def request(self, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(f"{self.process.base_url}/{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers  # names case-insensitive, as in HTTP
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers

    def start(self, orchestrator: str, payload) -> str:
        status, body, _ = self.request("POST", f"start/{orchestrator}", payload)
        assert status == 202, body
        return json.loads(body)["id"]

    def status(self, instance_id: str) -> dict:
        status, body, _ = self.request("GET", f"status/{instance_id}")
        assert status == 200, body
        return json.loads(body)

    def wait_for(self, instance_id: str, statuses=("Completed", "Failed", "Terminated"), timeout=60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.status(instance_id)
            if state["runtimeStatus"] in statuses:
                return state
            time.sleep(0.05)
        raise AssertionError(f"{instance_id} still {state} after {timeout}s\n{self.process.log()[-3000:]}")

    def activity_calls(self, name: str) -> list:
        if not self.activity_log.exists():
            return []
        entries = [json.loads(line) for line in self.activity_log.read_text().splitlines()]
        return [e["value"] for e in entries if e["activity"] == name]


@pytest.fixture
def sample_host(azurite, tmp_path):
    activity_log = tmp_path / "activities.jsonl"
    process = DevhostProcess(SAMPLE_APP, {
        "AzureWebJobsStorage": azurite.connection_string,
        "SAMPLE_HUB": f"hub{uuid.uuid4().hex[:8]}",
        "ACTIVITY_LOG": str(activity_log),
        "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": str(BODY_LIMIT),
    }, tmp_path / "devhost.log", route_prefix="api")
    process.start()
    yield SampleHost(process, activity_log)
    process.stop()
