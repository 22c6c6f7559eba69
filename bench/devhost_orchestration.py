"""How long devhost takes to run an orchestration of 10 sequential no-op activities.

Baseline, measured in the same run: one HTTP round trip to a trivial HTTP
function on the same devhost. The ratio says how many such round trips one
orchestrated step costs (start, episodes, persistence in Azurite, activity dispatch).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.devhost.conftest import SAMPLE_APP
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import DevhostProcess

STEPS = 10
REPEATS = 10


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def _post(url: str, body) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def run_orchestration(base: str) -> float:
    started = time.perf_counter()
    instance_id = _post(f"{base}/start/noop_sequence", {"steps": STEPS})["id"]
    while json.loads(_get(f"{base}/status/{instance_id}"))["runtimeStatus"] != "Completed":
        time.sleep(0.005)
    return time.perf_counter() - started


def main() -> dict:
    azurite = start_azurite()
    workdir = Path(tempfile.mkdtemp())
    host = DevhostProcess(SAMPLE_APP, {"AzureWebJobsStorage": azurite.connection_string, "SAMPLE_HUB": "bench",
                                       "ACTIVITY_LOG": str(workdir / "log")}, workdir / "devhost.log",
                          route_prefix="api").start()
    try:
        base = host.base_url
        for _ in range(3):  # warm up both paths
            _get(f"{base}/ping")
            run_orchestration(base)
        round_trips = []
        for _ in range(50):
            started = time.perf_counter()
            _get(f"{base}/ping")
            round_trips.append(time.perf_counter() - started)
        orchestrations = [run_orchestration(base) for _ in range(REPEATS)]
    finally:
        host.stop()
        azurite.stop()
    baseline = statistics.median(round_trips)
    total = statistics.median(orchestrations)
    result = {
        "orchestration_10_noop_activities_ms": round(total * 1000, 1),
        "per_step_ms": round(total * 1000 / STEPS, 2),
        "baseline_http_round_trip_ms": round(baseline * 1000, 2),
        "per_step_vs_round_trip_ratio": round(total / STEPS / baseline, 2),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
