"""The run engine's figures on one tree, as JSON on the last line of stdout (bench/engine_versus.py runs it
in this tree and in an earlier commit's, so it uses only test helpers both have).

Run as a script with the tree as the working directory: `python <this file>`. Figures: time to answer
(`create_and_run_poll` ÷ the model called directly, interleaved), devhost CPU per sequential run, and
CONCURRENT runs at once (wall ÷ model latency, devhost CPU per run).
"""

import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, os.getcwd())  # the tree measured, not the one this file came from

import openai  # noqa: E402

import scripted_model  # noqa: E402
from tests.conftest import devhost_env, sdk_client  # noqa: E402
from tests.support import keys  # noqa: E402
from tests.support.azurite import start_azurite  # noqa: E402
from tests.support.devhost_proc import ROOT, DevhostProcess  # noqa: E402

MODEL = "scripted-model"
MODEL_LATENCY_S = 0.5
ANSWERS = 7
SEQUENTIAL = 10
CONCURRENT = 50


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(client: openai.OpenAI, direct: openai.OpenAI, devhost_pid: int) -> dict:
    assistant = client.beta.assistants.create(model=MODEL, instructions="Answer briefly.")

    def answer(i: int) -> float:
        started = time.perf_counter()
        run = client.beta.threads.create_and_run_poll(
            assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": f"question {i}"}]})
        if run.status != "completed":
            raise RuntimeError(f"run {run.id} ended {run.status}")
        return time.perf_counter() - started

    def asked_directly(i: int) -> float:
        started = time.perf_counter()
        direct.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": f"direct {i}"}])
        return time.perf_counter() - started

    answer(-1), asked_directly(-1)  # warm up: connections, tables, imports
    direct_times, service_times = [], []
    for i in range(ANSWERS):
        direct_times.append(asked_directly(i))
        service_times.append(answer(i))
    before = cpu_seconds(devhost_pid)
    for i in range(SEQUENTIAL):
        answer(1000 + i)
    sequential_cpu = (cpu_seconds(devhost_pid) - before) / SEQUENTIAL

    threads = [client.beta.threads.create(messages=[{"role": "user", "content": f"at once {i}"}]).id
               for i in range(CONCURRENT)]

    def one(thread_id: str) -> str:
        return client.beta.threads.runs.create_and_poll(thread_id=thread_id, assistant_id=assistant.id).status

    before, started = cpu_seconds(devhost_pid), time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        statuses = list(pool.map(one, threads))
    wall, concurrent_cpu = time.perf_counter() - started, cpu_seconds(devhost_pid) - before
    if statuses.count("completed") != CONCURRENT:
        raise RuntimeError(f"concurrent runs ended {statuses}")
    return {
        "answer_vs_direct_ratio": statistics.median(service_times) / statistics.median(direct_times),
        "sequential_devhost_cpu_ms_per_run": sequential_cpu * 1000,
        "concurrent_wall_vs_model_latency": wall / MODEL_LATENCY_S,
        "concurrent_devhost_cpu_ms_per_run": concurrent_cpu * 1000 / CONCURRENT,
    }


def main() -> None:
    azurite, scripted = start_azurite(), scripted_model.start_in_thread()
    workdir = Path(tempfile.mkdtemp(prefix="engine-probe-"))
    host = DevhostProcess(ROOT, devhost_env(azurite, scripted), workdir / "devhost.log").start()
    try:
        scripted.client.set_default(latency_ms=int(MODEL_LATENCY_S * 1000))  # no replies queued: it echoes
        keys.bind(azurite.connection_string)  # keys required, as deployed
        direct = openai.OpenAI(base_url=scripted.base_url, api_key="scripted-model-needs-no-key", max_retries=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            figures = measure(sdk_client(host.base_url), direct, host.process.pid)
    finally:
        host.stop()
        scripted.stop()
        azurite.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
