"""Orchestrations run through the real azure.durable_functions SDK inside devhost."""

import json
import time
import urllib.error
import urllib.request
import uuid


def test_every_durable_api_runs_to_completion(sample_host):
    key = uuid.uuid4().hex
    instance_id = sample_host.start("everything", {"flaky_key": key})
    waiting = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = sample_host.status(instance_id)
        if waiting["customStatus"] == {"stage": "waiting"}:
            break
        time.sleep(0.05)
    assert waiting["runtimeStatus"] == "Running" and waiting["customStatus"] == {"stage": "waiting"}
    assert sample_host.request("POST", f"raise/{instance_id}/approval", {"by": "tester"})[0] == 202

    done = sample_host.wait_for(instance_id)
    assert done["runtimeStatus"] == "Completed", done
    assert done["customStatus"] == {"stage": "done"}
    # The real host hands a Python client's event data to the orchestrator as a JSON string
    # (the SDK client JSON-encodes it twice); devhost is faithful to that.
    assert done["output"] == {"doubled": 42, "flaky": "ok after 3", "approved": True,
                              "approval": json.dumps({"by": "tester"}), "fanned": [0, 2, 4, 6, 8]}
    assert sample_host.activity_calls("flaky") == [key, key, key]  # two failures retried, then success
    assert sorted(sample_host.activity_calls("double")) == [0, 1, 2, 3, 4, 21]


def test_event_raised_before_the_orchestrator_waits_is_delivered(sample_host):
    instance_id = sample_host.start("everything", {"flaky_key": uuid.uuid4().hex})
    assert sample_host.request("POST", f"raise/{instance_id}/approval", {"early": True})[0] == 202
    done = sample_host.wait_for(instance_id)
    assert json.loads(done["output"]["approval"]) == {"early": True}


def test_retries_exhausted_fail_the_orchestration(sample_host):
    instance_id = sample_host.start("failing", {})
    done = sample_host.wait_for(instance_id)
    assert done["runtimeStatus"] == "Failed"
    assert "this activity always fails" in done["output"]
    assert len(sample_host.activity_calls("always_fails")) == 2


def test_continue_as_new_restarts_with_new_input(sample_host):
    instance_id = sample_host.start("countdown", 3)
    done = sample_host.wait_for(instance_id)
    assert done["runtimeStatus"] == "Completed" and done["output"] == "liftoff", done
    assert sample_host.activity_calls("double") == [3, 2, 1]


def test_non_deterministic_orchestrator_fails(sample_host):
    instance_id = sample_host.start("fickle", {})
    done = sample_host.wait_for(instance_id)
    assert done["runtimeStatus"] == "Failed"
    assert "Non-Deterministic" in done["output"]
    assert sample_host.activity_calls("slow_step") == []  # the diverging action never ran


def test_terminate_stops_a_running_orchestration(sample_host):
    instance_id = sample_host.start("sequence", {"steps": 50, "delay": 0.05})
    sample_host.wait_for(instance_id, statuses=("Running",))
    assert sample_host.request("POST", f"terminate/{instance_id}")[0] == 202
    done = sample_host.wait_for(instance_id)
    assert done["runtimeStatus"] == "Terminated" and done["output"] == "test says stop"
    calls = len(sample_host.activity_calls("slow_step"))
    time.sleep(0.3)
    assert len(sample_host.activity_calls("slow_step")) <= calls + 1  # at most the one in flight


def test_killed_devhost_resumes_without_rerunning_completed_activities(sample_host):
    instance_id = sample_host.start("sequence", {"steps": 6, "delay": 0.4})
    deadline = time.monotonic() + 30
    while len(sample_host.activity_calls("slow_step")) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    sample_host.process.kill()
    completed_before_kill = sample_host.activity_calls("slow_step")
    assert 2 <= len(completed_before_kill) < 6

    sample_host.process.start()
    done = sample_host.wait_for(instance_id)
    assert done["runtimeStatus"] == "Completed" and done["output"] == [0, 1, 2, 3, 4, 5]
    calls = sample_host.activity_calls("slow_step")
    # Each step ran once, except possibly the one in flight at the kill (at-least-once).
    assert sorted(set(calls)) == [0, 1, 2, 3, 4, 5]
    assert len(calls) - 6 <= 1
    assert all(calls.count(step) == 1 for step in completed_before_kill[:-1])


def _start_with_id(sample_host, name: str, instance_id: str, payload) -> int:
    url = sample_host.process.durable_api(f"orchestrators/{name}/{instance_id}")
    # As the SDK's client sends it: a JSON string of the JSON input.
    request = urllib.request.Request(url, data=json.dumps(json.dumps(payload)).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_instance_id_is_refused_while_running_and_reusable_once_finished(sample_host):
    instance_id = f"mine-{uuid.uuid4().hex}"
    assert _start_with_id(sample_host, "everything", instance_id, {"flaky_key": uuid.uuid4().hex}) == 202
    assert _start_with_id(sample_host, "countdown", instance_id, 2) == 409  # still waiting for its approval
    assert sample_host.request("POST", f"terminate/{instance_id}")[0] == 202
    assert sample_host.wait_for(instance_id)["runtimeStatus"] == "Terminated"

    assert _start_with_id(sample_host, "countdown", instance_id, 2) == 202  # the stored, finished one is replaced
    done = sample_host.wait_for(instance_id)
    assert done["runtimeStatus"] == "Completed" and done["output"] == "liftoff", done
