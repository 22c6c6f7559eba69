"""A soak under a misbehaving storage account, a flaky model and a service killed at random moments.

Mixed runs (plain answers, client function calls with submitted outputs, code_interpreter on an attached
file in the local sandbox, file_search over a vector store ingested under the same faults, streamed runs
read to the end, cancels) go through the official SDK, with its automatic retries, to devhost, whose storage traffic
(the app's and the durable engine's) passes tests.support.storage_faults. The model fails some turns
(429 / 5xx); devhost is SIGKILLed now and then and restarted. Afterwards every run must be terminal,
no message duplicated or lost (every user message sent is in its thread once), no run step repeated,
every run's event log numbered without gap or repeat and ending in its terminal event, every completed
run answered exactly once, every failed run saying why.

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
import urllib.error
import urllib.request
import uuid
from collections import Counter
from contextlib import ExitStack
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
KINDS = ("plain", "function", "code", "search", "stream", "cancel")
RUN_END_EVENTS = ("thread.run.completed", "thread.run.failed", "thread.run.cancelled", "thread.run.expired",
                  "thread.run.incomplete")
NOTES = "The walrus census of 2025 counted 4,812 walruses on Svalbard; the owl survey found 37 snowy owls.\n"
PRINCIPAL = "00000000-0000-0000-0000-00000000c4a0"


@dataclass
class Report:
    runs: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # run id -> (thread, kind, status)
    client_errors: Counter = field(default_factory=Counter)
    stuck: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    failed_silently: list[str] = field(default_factory=list)
    failed_honestly: list[str] = field(default_factory=list)  # failed, with a last_error saying why
    faults: dict[str, int] = field(default_factory=dict)
    kills: int = 0
    seconds: float = 0.0
    runs_seconds: float = 0.0  # from the first run started to the last client done (no setup, no settling)
    broken_streams: list[str] = field(default_factory=list)
    sent: dict[str, list[str]] = field(default_factory=dict)  # thread id -> the user messages sent to it
    lost: list[str] = field(default_factory=list)
    duplicated_steps: list[str] = field(default_factory=list)
    broken_logs: list[str] = field(default_factory=list)
    events_checked: int = 0
    last_errors: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)

    def statuses(self) -> Counter:
        return Counter(status for _, _, status in self.runs.values())

    def figures(self) -> dict:
        return {"runs_started": len(self.runs), "kinds": dict(self.kinds), "statuses": dict(self.statuses()),
                "last_error_codes": dict(self.last_errors), "stuck": len(self.stuck),
                "duplicated_messages": len(self.duplicates), "lost_messages": len(self.lost),
                "duplicated_steps": len(self.duplicated_steps), "event_logs_with_gap_or_repeat": len(self.broken_logs),
                "events_checked": self.events_checked,
                "completed_without_one_answer": len(self.unanswered),
                "failed_honestly": len(self.failed_honestly), "failed_without_last_error": len(self.failed_silently), "broken_streams": len(self.broken_streams),
                "storage_faults": self.faults, "sigkills": self.kills, "client_errors": dict(self.client_errors),
                "seconds": round(self.seconds, 1), "runs_seconds": round(self.runs_seconds, 1)}

    @property
    def ok(self) -> bool:
        return not (self.stuck or self.duplicates or self.unanswered or self.failed_silently or self.broken_streams
                    or self.lost or self.duplicated_steps or self.broken_logs)


def _client(base_url: str) -> openai.OpenAI:
    # The SDK's own automatic retries are part of what is tested: a retried create or submit must find
    # what its first attempt began.
    return openai.OpenAI(base_url=base_url, api_key=keys.key_for(PRINCIPAL), max_retries=6, timeout=30)


def _one_run(client: openai.OpenAI, scripted, assistants: dict[str, str], kind: str, rng: random.Random,
             report: Report, lock: threading.Lock, model_fault_rate: float) -> None:
    tag = f"T{uuid.uuid4().hex[:10]}"
    assistant_id = assistants.get(kind, assistants["plain"])
    message: dict = {"role": "user", "content": f"question {tag}"}
    if rng.random() < model_fault_rate:  # the model fails this run's first turn: 429 (with Retry-After) or a 5xx
        scripted.client.enqueue(reply_error(rng.choice([429, 500, 503]), retry_after=0.2, match=tag))
    if kind == "function":
        scripted.client.enqueue(reply_tool_calls([{"name": "lookup", "arguments": {"q": tag}}], match=tag))
    if kind == "cancel":
        scripted.client.enqueue(reply_text(f"slow answer {tag}", latency_ms=3000, match=tag))
    if kind == "code":  # a file attached for code_interpreter, read and written in the sandbox
        upload = client.files.create(file=(f"{tag}.csv", f"n\n{len(tag)}\n2\n".encode()), purpose="assistants")
        message["attachments"] = [{"file_id": upload.id, "tools": [{"type": "code_interpreter"}]}]
        scripted.client.enqueue(reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": (
            f"rows = open('/mnt/data/{tag}.csv').read().split()[1:]\n"
            f"open('/mnt/data/sum-{tag}.txt', 'w').write(str(sum(map(int, rows))))\nprint(sum(map(int, rows)))")}}],
            match=tag))
    if kind == "search":
        scripted.client.enqueue(reply_tool_calls([{"name": "file_search", "arguments": {"query": "walrus census"}}],
                                                 match=tag))
    if kind in ("code", "search"):
        scripted.client.enqueue(reply_text(f"answer {tag}", match=tag))
    thread = client.beta.threads.create(messages=[message])
    with lock:
        report.sent[thread.id] = [message["content"]]
        report.kinds[kind] += 1
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


def _worker(base_url_of, scripted, assistants: dict[str, str], jobs: list[str], seed: int, report: Report,
            lock: threading.Lock, model_fault_rate: float) -> None:
    rng = random.Random(seed)
    while True:
        with lock:
            if not jobs:
                return
            kind = jobs.pop()
        try:
            _one_run(_client(base_url_of()), scripted, assistants, kind, rng, report, lock, model_fault_rate)
        except Exception as error:  # noqa: BLE001 - counted and reported: the SDK gave up (retries exhausted)
            with lock:
                report.client_errors[f"{kind}: {type(error).__name__}: {str(error)[:100]}"] += 1


def _event_log(client: openai.OpenAI, thread_id: str, run_id: str) -> list[tuple[int, str]]:
    """The run's whole event log as its stream endpoint serves it from the start: (number, name) each.
    A stream pauses at requires_action (as OpenAI's does); it is resumed after the last event seen."""
    seen: list[tuple[int, str]] = []
    while True:
        after = f"?after={seen[-1][0]}" if seen else ""
        request = urllib.request.Request(f"{client.base_url}threads/{thread_id}/runs/{run_id}/events{after}",
                                         headers={"api-key": client.api_key, "Accept": "text/event-stream"})
        number, name, read = None, None, 0
        with urllib.request.urlopen(request, timeout=60) as response:
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("id:"):
                    number = int(line[3:].strip())
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line == "" and number is not None:
                    seen.append((number, name))
                    number, name, read = None, None, read + 1
        if not read or not seen or seen[-1][1] in RUN_END_EVENTS:
            return seen


def _check_log(client: openai.OpenAI, report: Report, thread_id: str, run_id: str) -> None:
    for attempt in range(5):
        try:
            log = _event_log(client, thread_id, run_id)
            break
        except (OSError, ValueError):  # urllib's errors are OSErrors
            time.sleep(1 + attempt)
    else:
        report.broken_logs.append(f"{run_id}: unreadable")
        return
    numbers = [number for number, _ in log]
    report.events_checked += len(log)
    if not log or numbers != list(range(numbers[0], numbers[0] + len(numbers))) or numbers[0] not in (0, 1) \
            or log[-1][1] not in RUN_END_EVENTS or sum(name in RUN_END_EVENTS for _, name in log) != 1:
        report.broken_logs.append(f"{run_id}: {numbers[:3]}..{numbers[-3:]} last {log[-1][1] if log else None}")


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
        if status == "failed":
            honest = bool(run.last_error and run.last_error.message)
            (report.failed_honestly if honest else report.failed_silently).append(run_id)
        if status == "failed":
            report.last_errors[run.last_error.code if run.last_error else None] += 1
        messages = list(client.beta.threads.messages.list(thread_id=thread_id, limit=100, order="asc"))
        user_texts = [m.content[0].text.value for m in messages if m.role == "user" and m.content
                      and m.content[0].type == "text"]
        for sent in report.sent.get(thread_id, []):
            if user_texts.count(sent) != 1:
                (report.lost if user_texts.count(sent) == 0 else report.duplicates).append(thread_id)
        steps = list(client.beta.threads.runs.steps.list(thread_id=thread_id, run_id=run_id, limit=100))
        shapes = [(step.type, tuple(call.id for call in step.step_details.tool_calls)
                   if step.type == "tool_calls" else step.step_details.message_creation.message_id)
                  for step in steps]
        if len({step.id for step in steps}) != len(steps) or len(set(shapes)) != len(shapes):
            report.duplicated_steps.append(run_id)
        _check_log(client, report, thread_id, run_id)
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
         workdir: Path | None = None, settle_seconds: float = 150.0, model_fault_rate: float = 0.25) -> Report:
    """One soak; storage_rate is the chance of each storage fault kind per request, model_fault_rate the
    chance a run's first model turn fails, kill_every the mean seconds between SIGKILLs (0: none)."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="chaos-"))
    report, lock = Report(), threading.Lock()
    azurite = start_azurite()
    session_keys = ExitStack()  # the keys of this soak's Azurite, then the session's again (pytest)
    session_keys.enter_context(keys.bound_to(azurite.connection_string))
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
        coder = setup.beta.assistants.create(model="scripted", name="chaos code", tools=[{"type": "code_interpreter"}])
        store = setup.vector_stores.create(name="chaos notes")  # ingested under the storage faults too
        setup.vector_stores.file_batches.upload_and_poll(store.id, files=[("notes.txt", NOTES.encode())])
        searcher = setup.beta.assistants.create(model="scripted", name="chaos search", tools=[{"type": "file_search"}],
                                                tool_resources={"file_search": {"vector_store_ids": [store.id]}})
        assistants = {"plain": assistant.id, "function": assistant.id, "code": coder.id, "search": searcher.id}
        rng = random.Random(seed)
        jobs = [rng.choice(KINDS) for _ in range(runs)]
        threads = [threading.Thread(target=_worker, args=(lambda: devhost.base_url, scripted, assistants, jobs,
                                                          seed + n, report, lock, model_fault_rate), daemon=True)
                   for n in range(workers)]
        runs_started = time.monotonic()
        for thread in threads:
            thread.start()
        first = True  # the first kill comes while the first runs are in flight, however fast they are
        while any(thread.is_alive() for thread in threads):
            pause = rng.uniform(0.5, 1.5) * (min(kill_every, 2.0) if first else kill_every) if kill_every else 1.0
            first = False
            end = time.monotonic() + pause
            while time.monotonic() < end and any(thread.is_alive() for thread in threads):
                time.sleep(0.2)
            if kill_every and any(thread.is_alive() for thread in threads):
                devhost.kill()
                report.kills += 1
                time.sleep(rng.uniform(0.0, 1.0))
                devhost.start(timeout=120)
        report.runs_seconds = time.monotonic() - runs_started
        report.runs.pop(None, None)
        _settle(_client(devhost.base_url), report, time.monotonic() + settle_seconds)
    finally:
        report.seconds = time.monotonic() - started
        report.faults = proxy.summary()
        devhost.stop()
        proxy.stop()
        scripted.stop()
        azurite.stop()
        session_keys.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--storage-rate", type=float, default=0.03, help="chance of each storage fault kind")
    parser.add_argument("--model-fault-rate", type=float, default=0.25, help="chance a run's first model turn fails")
    parser.add_argument("--kill-every", type=float, default=20.0, help="seconds between SIGKILLs (0: none)")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--baseline", action="store_true",
                        help="first run the same soak without any fault or kill, and report the slowdown")
    arguments = parser.parse_args()
    baseline = None
    if arguments.baseline:
        baseline = soak(arguments.runs, arguments.workers, storage_rate=0.0, kill_every=0.0, seed=arguments.seed,
                        model_fault_rate=0.0)
    report = soak(arguments.runs, arguments.workers, arguments.storage_rate, arguments.kill_every, arguments.seed,
                  model_fault_rate=arguments.model_fault_rate)
    figures = report.figures()
    if baseline is not None:
        figures["baseline"] = {"ok": baseline.ok, "statuses": dict(baseline.statuses()),
                               "runs_seconds": round(baseline.runs_seconds, 1)}
        figures["slowdown"] = slowdown(report, baseline)
    print(json.dumps(figures, indent=2))
    if not report.ok:
        print("stuck", report.stuck, "duplicates", report.duplicates, "unanswered", report.unanswered,
              "silent failures", report.failed_silently, "broken streams", report.broken_streams,
              "lost", report.lost, "duplicated steps", report.duplicated_steps, "broken logs", report.broken_logs)
        raise SystemExit(1)


def slowdown(faulted: Report, baseline: Report) -> float | None:
    """Wall time of the runs under faults ÷ the same runs without (setup and settling left out of both)."""
    if baseline.runs_seconds <= 0:
        return None
    return round(faulted.runs_seconds / baseline.runs_seconds, 2)


if __name__ == "__main__":
    main()
