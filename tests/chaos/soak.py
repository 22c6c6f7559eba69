"""A soak under a misbehaving storage account, a flaky model and a service killed at random moments.

Mixed runs (plain answers, client function calls with submitted outputs, streamed runs read to the end,
cancels) go through the official SDK, with its automatic retries, to devhost, whose storage traffic
(the app's and the durable engine's) passes tests.support.storage_faults. The model fails some turns
(429 / 5xx); devhost is SIGKILLed now and then and restarted. Afterwards every run must be terminal,
no message duplicated, every completed run answered exactly once, every failed run saying why.

`python -m tests.chaos.soak --runs 300` (make chaos) prints the figures; tests/chaos/test_soak.py runs
a short one in `make test`.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import openai

import scripted_model
from scripted_model.script import reply_error, reply_text, reply_tool_calls
from tests.support import keys
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess
from tests.support.storage_faults import FaultRates, StorageFaultProxy

TERMINAL = {"completed", "failed", "cancelled", "expired", "incomplete"}
KINDS = ("plain", "function", "stream", "cancel")
PRINCIPAL = "00000000-0000-0000-0000-00000000c4a0"


@dataclass
class Report:
    runs: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # run id -> (thread, kind, status)
    client_errors: Counter = field(default_factory=Counter)
    stuck: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    failed_silently: list[str] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    kills: int = 0
    seconds: float = 0.0
    broken_streams: list[str] = field(default_factory=list)

    def statuses(self) -> Counter:
        return Counter(status for _, _, status in self.runs.values())

    def figures(self) -> dict:
        return {"runs_started": len(self.runs), "statuses": dict(self.statuses()), "stuck": len(self.stuck),
                "duplicated_messages": len(self.duplicates), "completed_without_one_answer": len(self.unanswered),
                "failed_without_last_error": len(self.failed_silently), "broken_streams": len(self.broken_streams),
                "storage_faults": self.faults, "sigkills": self.kills, "client_errors": dict(self.client_errors),
                "seconds": round(self.seconds, 1)}

    @property
    def ok(self) -> bool:
        return not (self.stuck or self.duplicates or self.unanswered or self.failed_silently or self.broken_streams)


def _client(base_url: str) -> openai.OpenAI:
    # The SDK's own automatic retries are part of what is tested: a retried create or submit must find
    # what its first attempt began.
    return openai.OpenAI(base_url=base_url, api_key=keys.key_for(PRINCIPAL), max_retries=6, timeout=30)


def _one_run(client: openai.OpenAI, scripted, assistant_id: str, kind: str, rng: random.Random,
             report: Report, lock: threading.Lock) -> None:
    tag = f"T{uuid.uuid4().hex[:10]}"
    if rng.random() < 0.25:  # the model fails this run's first turn: 429 (with Retry-After) or a 5xx
        scripted.client.enqueue(reply_error(rng.choice([429, 500, 503]), retry_after=0.2, match=tag))
    if kind == "function":
        scripted.client.enqueue(reply_tool_calls([{"name": "lookup", "arguments": {"q": tag}}], match=tag))
    if kind == "cancel":
        scripted.client.enqueue(reply_text(f"slow answer {tag}", latency_ms=3000, match=tag))
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"question {tag}"}])
    if kind == "stream":
        run_id, seen = None, []
        with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant_id) as stream:
            for event in stream:
                seen.append(event.event)
                if event.event == "thread.run.created":
                    run_id = event.data.id
                    with lock:  # checked afterwards even if a SIGKILL cuts the stream
                        report.runs[run_id] = (thread.id, kind, "?")
        with lock:
            report.runs[run_id] = (thread.id, kind, "?")
            if not seen or seen[-1] not in ("thread.run.completed", "thread.run.failed", "thread.run.cancelled",
                                            "thread.run.expired", "thread.run.incomplete"):
                report.broken_streams.append(run_id)
        return
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant_id)
    with lock:
        report.runs[run.id] = (thread.id, kind, "?")
    if kind == "cancel":
        time.sleep(rng.uniform(0.05, 1.0))
        try:
            client.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
        except openai.BadRequestError:
            pass  # already ended
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = client.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id)
        if run.status == "requires_action":
            outputs = [{"tool_call_id": call.id, "output": f"result for {tag}"}
                       for call in run.required_action.submit_tool_outputs.tool_calls]
            try:
                client.beta.threads.runs.submit_tool_outputs(run_id=run.id, thread_id=thread.id,
                                                             tool_outputs=outputs)
            except openai.BadRequestError as error:
                with lock:
                    report.client_errors[f"submit 400: {str(error)[:80]}"] += 1
        elif run.status in TERMINAL:
            return
        time.sleep(0.2)


def _worker(base_url_of, scripted, assistant_id: str, jobs: list[str], seed: int, report: Report,
            lock: threading.Lock) -> None:
    rng = random.Random(seed)
    while True:
        with lock:
            if not jobs:
                return
            kind = jobs.pop()
        try:
            _one_run(_client(base_url_of()), scripted, assistant_id, kind, rng, report, lock)
        except Exception as error:  # noqa: BLE001 - counted and reported: the SDK gave up (retries exhausted)
            with lock:
                report.client_errors[f"{kind}: {type(error).__name__}: {str(error)[:100]}"] += 1


def _settle(client: openai.OpenAI, report: Report, deadline: float) -> None:
    """Wait (the sweeper included) until every run is terminal, then check the threads."""
    for run_id, (thread_id, kind, _) in list(report.runs.items()):
        if run_id is None:
            continue
        status = "?"
        while True:
            try:
                run = client.beta.threads.runs.retrieve(run_id=run_id, thread_id=thread_id)
                status = run.status
            except openai.APIError:
                pass
            if status in TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        report.runs[run_id] = (thread_id, kind, status)
        if status not in TERMINAL:
            report.stuck.append(run_id)
            continue
        if status == "failed" and not (run.last_error and run.last_error.message):
            report.failed_silently.append(run_id)
        messages = list(client.beta.threads.messages.list(thread_id=thread_id, limit=100, order="asc"))
        ids = [message.id for message in messages]
        if len(ids) != len(set(ids)):
            report.duplicates.append(thread_id)
        texts = [(m.role, m.run_id, m.content[0].text.value if m.content and m.content[0].type == "text" else "")
                 for m in messages]
        if len(texts) != len(set(texts)):
            report.duplicates.append(thread_id)
        answers = [m for m in messages if m.role == "assistant" and m.run_id == run_id]
        if status == "completed" and len(answers) != 1:
            report.unanswered.append(run_id)


def soak(runs: int = 24, workers: int = 4, storage_rate: float = 0.03, kill_every: float = 20.0, seed: int = 25,
         workdir: Path | None = None, settle_seconds: float = 150.0) -> Report:
    workdir = Path(workdir or tempfile.mkdtemp(prefix="chaos-"))
    report, lock = Report(), threading.Lock()
    azurite = start_azurite()
    keys.bind(azurite.connection_string)
    scripted = scripted_model.start_in_thread()
    proxy = StorageFaultProxy(azurite.ports, FaultRates.each(storage_rate), seed=seed,
                              log_path=workdir / "storage-faults.log")
    env = {"AzureWebJobsStorage": proxy.connection_string, "DURABLE_TASK_HUB": f"chaos{uuid.uuid4().hex[:8]}",
           "OPENAI_BASE_URL": scripted.base_url, "OPENAI_API_KEY": "scripted", "AZURE_OPENAI_ENDPOINT": "",
           "OPENAI_EMBEDDINGS_MODEL": "scripted-embeddings",
           "RUN_SWEEP_SCHEDULE": "*/5 * * * * *", "RUN_SWEEP_GRACE_SECONDS": "20", "RUN_EXPIRY_SECONDS": "90"}
    devhost = DevhostProcess(ROOT, env, workdir / "devhost.log")
    started = time.monotonic()
    try:
        devhost.start(timeout=120)
        setup = _client(devhost.base_url)
        assistant = setup.beta.assistants.create(model="scripted", name="chaos", tools=[{
            "type": "function", "function": {"name": "lookup", "parameters": {
                "type": "object", "properties": {"q": {"type": "string"}}}}}])
        rng = random.Random(seed)
        jobs = [rng.choice(KINDS) for _ in range(runs)]
        threads = [threading.Thread(target=_worker, args=(lambda: devhost.base_url, scripted, assistant.id, jobs,
                                                          seed + n, report, lock), daemon=True)
                   for n in range(workers)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            pause = rng.uniform(0.5, 1.5) * kill_every if kill_every else 1.0
            end = time.monotonic() + pause
            while time.monotonic() < end and any(thread.is_alive() for thread in threads):
                time.sleep(0.2)
            if kill_every and any(thread.is_alive() for thread in threads):
                devhost.kill()
                report.kills += 1
                time.sleep(rng.uniform(0.0, 1.0))
                devhost.start(timeout=120)
        report.runs.pop(None, None)
        _settle(_client(devhost.base_url), report, time.monotonic() + settle_seconds)
    finally:
        report.seconds = time.monotonic() - started
        report.faults = proxy.summary()
        devhost.stop()
        proxy.stop()
        scripted.stop()
        azurite.stop()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--storage-rate", type=float, default=0.03, help="chance of each storage fault kind")
    parser.add_argument("--kill-every", type=float, default=20.0, help="seconds between SIGKILLs (0: none)")
    parser.add_argument("--seed", type=int, default=25)
    arguments = parser.parse_args()
    report = soak(arguments.runs, arguments.workers, arguments.storage_rate, arguments.kill_every, arguments.seed)
    print(json.dumps(report.figures(), indent=2))
    if not report.ok:
        print("stuck", report.stuck, "duplicates", report.duplicates, "unanswered", report.unanswered,
              "silent failures", report.failed_silently, "broken streams", report.broken_streams)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
