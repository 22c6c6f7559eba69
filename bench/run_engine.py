"""The run engine end to end: answer latency, durable history growth, and concurrency.

Everything runs against a private Azurite, devhost serving the product app and the
scripted model with an injected latency of 0.5 s, driven by the pinned `openai` SDK.
Each figure is a ratio against a baseline measured in the same run:

1. time to answer: `threads.create_and_run_poll` (default SDK polling, paced by the
   server's `openai-poll-after-ms`) vs the same model called directly with
   `chat.completions.create`; target ratio <= 1.10.
2. a thread of 1,000 messages vs one of 10: durable history bytes per model turn, read from
   devhost's Durable HTTP API (`showHistory=true`), target equal or nearly so; and the run's
   time (median of RUNS_PER_THREAD runs, interleaved), target ratio <= 1.25.
3. 50 concurrent runs on 50 threads: wall time vs the model latency bound (0.5 s).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai

import scripted_model
from bench._harness import direct_model, keyed_host, report
from tests.conftest import sdk_client
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import DevhostProcess

MODEL = "scripted-model"
MODEL_LATENCY_MS = 500
REPEATS = 5
THREAD_LENGTHS = (10, 1_000)
# OpenAI accepts at most 32 messages in threads.create; the rest go through messages.create.
THREAD_CREATE_MAX_MESSAGES = 32
CONCURRENT_RUNS = 50
RUNS_PER_THREAD = 5


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), to tell which process is the bottleneck."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _durable_history(host: DevhostProcess, instance_id: str, timeout: float = 30.0) -> list[dict]:
    """The orchestration's history once it has finished (the run is answered a moment before)."""
    url = host.durable_api(f"instances/{instance_id}?showHistory=true&showInput=false")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while True:
        try:
            with opener.open(url, timeout=60) as response:
                status = json.loads(response.read())
        except urllib.error.HTTPError as error:  # 202 while running is a success; 500 for a failed one
            status = json.loads(error.read())
        if status["runtimeStatus"] not in ("Pending", "Running") or time.monotonic() > deadline:
            return status["history"]
        time.sleep(0.02)


def _user(text: str) -> dict:
    return {"role": "user", "content": text}


# -- 1. time to answer -------------------------------------------------------------

def time_to_answer(client: openai.OpenAI, direct: openai.OpenAI, assistant_id: str) -> dict:
    def call_direct(i: int) -> float:
        started = time.perf_counter()
        direct.chat.completions.create(model=MODEL, messages=[_user(f"direct question {i}")])
        return time.perf_counter() - started

    def call_service(i: int, **poll) -> float:
        started = time.perf_counter()
        run = client.beta.threads.create_and_run_poll(
            assistant_id=assistant_id, thread={"messages": [_user(f"service question {i}")]}, **poll)
        elapsed = time.perf_counter() - started
        if run.status != "completed":
            raise RuntimeError(f"run {run.id} ended {run.status}: {run.last_error}")
        return elapsed

    call_direct(-1)  # warm up both paths (connections, imports, table creation)
    call_service(-1)
    direct_times, service_times, fast_poll_times = [], [], []
    for i in range(REPEATS):  # interleaved, so drift in machine load hits all alike
        direct_times.append(call_direct(i))
        service_times.append(call_service(i))
        # Diagnostic: 20 ms client polling takes most of the poll-interval wait out, leaving the
        # server's own overhead (at the price of more load on the server while the run is going).
        fast_poll_times.append(call_service(100 + i, poll_interval_ms=20))
    baseline = statistics.median(direct_times)
    service = statistics.median(service_times)
    fast = statistics.median(fast_poll_times)
    return {
        "answer_direct_model_median_ms": round(baseline * 1000, 1),
        "answer_service_median_ms": round(service * 1000, 1),
        "answer_service_vs_direct_ratio": round(service / baseline, 3),
        "answer_service_poll20ms_median_ms": round(fast * 1000, 1),
        "answer_service_poll20ms_vs_direct_ratio": round(fast / baseline, 3),
    }


# -- 2. durable history per turn ---------------------------------------------------------

def _thread_with(client: openai.OpenAI, count: int) -> tuple[str, float]:
    started = time.perf_counter()
    first = min(count, THREAD_CREATE_MAX_MESSAGES)
    thread = client.beta.threads.create(messages=[_user(f"message {i} of {count}") for i in range(first)])
    for i in range(first, count):
        client.beta.threads.messages.create(thread.id, role="user", content=f"message {i} of {count}")
    return thread.id, time.perf_counter() - started


def history_per_turn(client: openai.OpenAI, host: DevhostProcess, assistant_id: str) -> dict:
    result: dict = {}
    per_turn: dict[int, float] = {}
    run_times: dict[int, list[float]] = {length: [] for length in THREAD_LENGTHS}
    threads = {}
    for length in THREAD_LENGTHS:
        threads[length], fill_seconds = _thread_with(client, length)
        result[f"fill_{length}_msgs_seconds"] = round(fill_seconds, 2)
    for _ in range(RUNS_PER_THREAD):  # interleaved, so drift in machine load hits both alike
        for length, thread_id in threads.items():
            started = time.perf_counter()
            run = client.beta.threads.runs.create_and_poll(thread_id=thread_id, assistant_id=assistant_id)
            run_times[length].append(time.perf_counter() - started)
            if run.status != "completed":
                raise RuntimeError(f"run on {length} messages ended {run.status}: {run.last_error}")
            history = _durable_history(host, run.id)
            size = len(json.dumps(history, separators=(",", ":")).encode("utf-8"))
            turns = sum(1 for event in history if event.get("EventType") == 4 and event.get("Name") == "run_model_turn")
            per_turn[length] = size / max(turns, 1)
            result.update({f"history_{length}_msgs_bytes": size, f"history_{length}_msgs_events": len(history),
                           f"history_{length}_msgs_model_turns": turns,
                           f"history_{length}_msgs_bytes_per_turn": round(per_turn[length])})
    small, large = THREAD_LENGTHS
    for length in THREAD_LENGTHS:
        result[f"run_{length}_msgs_median_seconds"] = round(statistics.median(run_times[length]), 3)
    result["history_bytes_per_turn_ratio_1000_vs_10"] = round(per_turn[large] / per_turn[small], 3)
    result["run_time_ratio_1000_vs_10"] = round(statistics.median(run_times[large]) /
                                                statistics.median(run_times[small]), 3)
    return result


# -- 3. concurrency -------------------------------------------------------------------

def concurrent_runs(client: openai.OpenAI, assistant_id: str, pids: dict[str, int]) -> dict:
    thread_ids = [client.beta.threads.create(messages=[_user(f"concurrent question {i}")]).id
                  for i in range(CONCURRENT_RUNS)]

    def one(thread_id: str) -> tuple[str, float]:
        started = time.perf_counter()
        run = client.beta.threads.runs.create_and_poll(thread_id=thread_id, assistant_id=assistant_id)
        return run.status, time.perf_counter() - started

    cpu_before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENT_RUNS) as pool:
        outcomes = list(pool.map(one, thread_ids))
    wall = time.perf_counter() - started
    cpu = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    statuses: dict[str, int] = {}
    for status, _ in outcomes:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(seconds for _, seconds in outcomes)
    return {
        "concurrent_runs": CONCURRENT_RUNS,
        "concurrent_all_completed": statuses.get("completed", 0) == CONCURRENT_RUNS,
        "concurrent_statuses": statuses,
        "concurrent_wall_seconds": round(wall, 3),
        "concurrent_run_median_seconds": round(statistics.median(latencies), 3),
        "concurrent_run_max_seconds": round(latencies[-1], 3),
        "concurrent_wall_vs_model_latency_ratio": round(wall / (MODEL_LATENCY_MS / 1000), 2),
        # CPU seconds each process used during the 50 runs; one near the wall time is the bottleneck.
        "concurrent_cpu_seconds": {name: round(cpu[name] - cpu_before[name], 2)
                                   for name in pids if cpu[name] is not None and cpu_before[name] is not None},
    }


def main() -> dict:
    return report(_measure)


def _measure() -> dict:
    azurite = start_azurite()
    scripted = scripted_model.start_in_thread()
    workdir = Path(tempfile.mkdtemp(prefix="bench-run-engine-"))
    host = None
    try:
        host = keyed_host(azurite, scripted, workdir / "devhost.log", MODEL_LATENCY_MS)
        client = sdk_client(host.base_url)
        direct = direct_model(scripted)
        assistant = client.beta.assistants.create(model=MODEL, instructions="Answer briefly.")
        result: dict = {"model_latency_ms": MODEL_LATENCY_MS}
        result.update(time_to_answer(client, direct, assistant.id))
        result.update(history_per_turn(client, host, assistant.id))
        pids = {"devhost": host.process.pid, "azurite": azurite.process.pid, "bench_and_model": os.getpid()}
        result.update(concurrent_runs(client, assistant.id, pids))
        return result
    except Exception:
        if host is not None:
            print(f"devhost log: {workdir / 'devhost.log'}")
        raise
    finally:
        if host is not None:
            host.stop()
        scripted.stop()
        azurite.stop()


if __name__ == "__main__":
    main()
