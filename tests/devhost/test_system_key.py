"""The local Durable HTTP API answers only the system key, as the host's does (devhost/durable/webhooks.py).

Without it, a caller could list every principal's runs, cancel, terminate or purge them, or start
an orchestration with a forged input. The product app's own calls go through the in-process client
binding and keep working.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import httpx2 as httpx
import pytest

from scripted_model import reply_text, reply_tool_calls
from tests.conftest import sdk_client
from tests.support.devhost_proc import ROOT, free_port

WEBHOOKS = "/runtime/webhooks/durabletask"


@pytest.fixture
def api(devhost):
    return sdk_client(devhost.base_url, f"key-test-{uuid.uuid4().hex}")


def _waiting_run(api, scripted):
    """A run parked in requires_action: an orchestration an intruder would love to touch."""
    tok = uuid.uuid4().hex
    scripted.client.enqueue(reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Faro"}}], match=tok))
    assistant = api.beta.assistants.create(model="gpt-scripted", tools=[{"type": "function", "function": {
        "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])
    thread = api.beta.threads.create(messages=[{"role": "user", "content": f"weather {tok}"}])
    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action", run
    return thread, run


@pytest.mark.parametrize("headers, query", [({}, {}), ({"x-functions-key": "wrong" * 10}, {}),
                                            ({}, {"code": "wrong"}), ({"api-key": "x"}, {})])
def test_without_the_key_every_route_is_401_and_nothing_happens(devhost, api, scripted, headers, query):
    thread, run = _waiting_run(api, scripted)
    instance = f"{WEBHOOKS}/instances/{run.id}"
    with httpx.Client(base_url=devhost.root_url, timeout=30, headers=headers, params=query) as http:
        attempts = [
            http.get(f"{WEBHOOKS}/instances/", params={**query, "showInput": "true"}),
            http.get(instance, params={**query, "showInput": "true"}),
            http.post(f"{instance}/raiseEvent/cancel", json="{}"),
            http.post(f"{instance}/terminate", params={**query, "reason": "intruder"}),
            http.delete(instance),
            http.post(f"{WEBHOOKS}/orchestrators/run_orchestrator", json=json.dumps({"principal": "victim"})),
            http.post(f"{WEBHOOKS}/orchestrators/run_orchestrator/forged-{uuid.uuid4().hex}", content=b"["*100_000),
            http.get(f"/runtime/durabletask-rpc/{'x' * 43}/instances/"),
        ]
    for response in attempts:
        assert response.status_code == 401, (response.request.url, response.text)
        assert response.json()["error"]["code"] == "invalid_system_key"
        assert run.id not in response.text
    time.sleep(0.5)
    still = api.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id)
    assert still.status == "requires_action"  # not cancelled, terminated or purged
    scripted.client.enqueue(reply_text("Sunny in Faro."))
    done = api.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id,
        tool_outputs=[{"tool_call_id": run.required_action.submit_tool_outputs.tool_calls[0].id, "output": "sunny"}])
    assert done.status == "completed"  # the orchestration was there all along, untouched


def test_with_the_key_the_api_answers(devhost, api, scripted):
    thread, run = _waiting_run(api, scripted)
    with httpx.Client(base_url=devhost.root_url, timeout=30) as http:
        by_query = http.get(f"{WEBHOOKS}/instances/{run.id}", params={"code": devhost.system_key})
        by_header = http.get(f"{WEBHOOKS}/instances/{run.id}", headers={"x-functions-key": devhost.system_key})
        listed = http.get(f"{WEBHOOKS}/instances/", params={"code": devhost.system_key})
        deep = http.post(f"{WEBHOOKS}/orchestrators/run_orchestrator", params={"code": devhost.system_key},
                         content=b"[" * 100_000)
    assert by_query.status_code == by_header.status_code == 202 and by_query.json()["instanceId"] == run.id
    assert run.id in [state["instanceId"] for state in listed.json()]
    assert deep.status_code == 400  # nested past the parser's stack: refused, not a 500


def test_each_start_makes_its_own_key(azurite, tmp_path):
    """Without DEVHOST_SYSTEM_KEY devhost makes a random key of its own and never prints it."""
    from tests.devhost.conftest import SAMPLE_APP

    env = {**os.environ, "PYTHONPATH": str(ROOT), "AzureWebJobsStorage": azurite.connection_string,
           "SAMPLE_HUB": f"hub{uuid.uuid4().hex[:8]}"}
    env.pop("DEVHOST_SYSTEM_KEY", None)
    port, log = free_port(), tmp_path / "devhost.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "devhost.run", "--app-dir", str(SAMPLE_APP),
                                    "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            while True:
                try:
                    answers = [http.get(f"{WEBHOOKS}/instances/"),
                               http.get(f"{WEBHOOKS}/instances/", params={"code": "guess" * 10})]
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and process.poll() is None, log.read_text()
                    time.sleep(0.1)
        assert [answer.status_code for answer in answers] == [401, 401]
        assert "durabletask-rpc/" not in log.read_text() and "code=" not in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=10)
