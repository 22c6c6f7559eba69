"""List latency on a 1,000-message thread, through devhost + Azurite and the official SDK.

Measures GET /threads/{id}/messages for the first page (no cursor) and for a
page in the middle (cursor at message 500), in both orders, at limit 20 and
100, plus a single message retrieve as the baseline round trip. Each figure is
the median (and p95) of REPEATS calls after a warm-up.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai

from tests.support import keys
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess

MESSAGES = 1000
REPEATS = 50


def _timed(call, repeats: int = REPEATS) -> tuple[float, float]:
    call()  # warm-up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> dict:
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the SDK marks Assistants deprecated
    azurite = start_azurite()
    workdir = Path(tempfile.mkdtemp())
    host = DevhostProcess(ROOT, {"AzureWebJobsStorage": azurite.connection_string, "DURABLE_TASK_HUB": "benchlist",
                                 "AZURE_OPENAI_ENDPOINT": ""}, workdir / "devhost.log").start()
    try:
        keys.bind(azurite.connection_string)  # the host requires keys, as deployed
        client = openai.OpenAI(base_url=host.base_url, api_key=keys.key_for("bench"), max_retries=0,
                               _strict_response_validation=True)
        thread = client.beta.threads.create()
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:  # four writers contend on one thread, as a busy thread would
            ids = list(pool.map(lambda i: client.beta.threads.messages.create(
                thread.id, role="user", content=f"message {i} " + "lorem ipsum " * 20).id, range(MESSAGES)))
        insert_seconds = time.perf_counter() - started
        ids.sort()
        middle = ids[MESSAGES // 2]
        messages = client.beta.threads.messages
        figures = {
            "retrieve one message": _timed(lambda: messages.retrieve(middle, thread_id=thread.id)),
        }
        for limit in (20, 100):
            for order in ("desc", "asc"):
                figures[f"first page  limit={limit} order={order}"] = _timed(
                    lambda limit=limit, order=order: messages.list(thread.id, limit=limit, order=order))
                figures[f"middle page limit={limit} order={order}"] = _timed(
                    lambda limit=limit, order=order: messages.list(thread.id, limit=limit, order=order,
                                                                   after=middle))
        figures["middle page limit=20 before="] = _timed(lambda: messages.list(thread.id, limit=20, before=middle))
        print(f"created {MESSAGES} messages with 4 concurrent writers in {insert_seconds:.1f} s")
        print(f"{MESSAGES} messages on one thread; median / p95 of {REPEATS} calls (ms)")
        for name, (median, p95) in figures.items():
            print(f"  {name:<38} {median:7.1f} / {p95:7.1f}")
        return {name: {"median_ms": round(m, 2), "p95_ms": round(p, 2)} for name, (m, p) in figures.items()}
    finally:
        host.stop()
        azurite.stop()


if __name__ == "__main__":
    main()
