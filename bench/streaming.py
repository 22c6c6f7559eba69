"""Streaming runs end to end: time to first token, per-delta lag, 50 concurrent streamed runs.

A private Azurite, devhost serving the product app and the scripted model streaming
(first token after 0.5 s, then pieces 50 ms apart), driven by the pinned `openai` SDK:

1. time to first token through `runs.stream` (from the call to the first text delta)
   minus the model's own time to first token when called directly; target <= 100 ms median.
2. per-delta lag: when each delta reached the client minus when the model sent that piece
   (the scripted model runs in this process, so both are read from one clock); target
   <= 50 ms median. Measured with the in-process fast path (devhost runs activities in the
   HTTP process) and, on a second devhost, with polling storage only (as when the model turn
   runs on another instance) at RUN_EVENTS_POLL_MS 50 and 100.
3. 50 concurrent streamed runs on 50 threads: all complete, each with every delta.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
from openai import AssistantEventHandler

import scripted_model
from bench._harness import report
from scripted_model import reply_text
from tests.conftest import devhost_env, sdk_client
from tests.support import keys
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess

MODEL = "scripted-model"
FIRST_TOKEN_MS, PIECE_MS, PIECES = 500, 50, 12
REPEATS = 15
CONCURRENT_RUNS = 50


def _answer(tag: str) -> str:
    return " ".join(f"{tag}-{index}" for index in range(PIECES * 2))


def _reply(tag: str) -> dict:
    return reply_text(_answer(tag), match=tag, first_token_ms=FIRST_TOKEN_MS, piece_ms=PIECE_MS, pieces=PIECES)


class _Timing(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, str]] = []

    def on_text_delta(self, delta, snapshot) -> None:
        self.arrivals.append((time.time(), delta.value))


def _stream_once(client: openai.OpenAI, scripted, assistant_id: str) -> tuple[float, list[float], str, str]:
    """One streamed run: (seconds to first delta, lag of each delta, text streamed, run status)."""
    tag = uuid.uuid4().hex[:10]
    scripted.client.enqueue(_reply(tag))
    thread = client.beta.threads.create(messages=[{"role": "user", "content": f"question {tag}"}])
    handler = _Timing()
    started = time.time()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant_id,
                                         event_handler=handler) as stream:
        stream.until_done()
        status = stream.get_final_run().status
    text = "".join(piece for _, piece in handler.arrivals)
    sent = [at for _, piece, at in scripted.script.sent() if tag in piece]
    lags = [arrival - at for (arrival, _), at in zip(handler.arrivals, sent)]
    first = handler.arrivals[0][0] - started if handler.arrivals else float("nan")
    return first, lags, text, status


def _direct_first_token(direct: openai.OpenAI, scripted) -> float:
    tag = uuid.uuid4().hex[:10]
    scripted.client.enqueue(_reply(tag))
    started = time.time()
    stream = direct.chat.completions.create(model=MODEL, stream=True,
                                            messages=[{"role": "user", "content": f"question {tag}"}])
    first = None
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.time() - started
    return first


def latency(client: openai.OpenAI, direct: openai.OpenAI, scripted, assistant_id: str, label: str) -> dict:
    _stream_once(client, scripted, assistant_id)  # warm up: imports, connections, tables
    model = [_direct_first_token(direct, scripted) for _ in range(REPEATS)]
    runs = [_stream_once(client, scripted, assistant_id) for _ in range(REPEATS)]
    firsts = [first for first, _, _, _ in runs]
    lags = [lag for _, run_lags, _, _ in runs for lag in run_lags]
    return {
        f"{label}_model_first_token_ms_median": round(statistics.median(model) * 1000, 1),
        f"{label}_stream_first_token_ms_median": round(statistics.median(firsts) * 1000, 1),
        f"{label}_first_token_overhead_ms_median": round((statistics.median(firsts) - statistics.median(model)) * 1000, 1),
        f"{label}_delta_lag_ms_median": round(statistics.median(lags) * 1000, 1),
        f"{label}_delta_lag_ms_p90": round(sorted(lags)[int(len(lags) * 0.9)] * 1000, 1),
        f"{label}_all_text_complete": all(text == _answer_of(text) for _, _, text, _ in runs),
    }


def _answer_of(text: str) -> str:
    tag = text.split("-", 1)[0] if text else "?"
    return _answer(tag)


def concurrent(client: openai.OpenAI, scripted, assistant_id: str) -> dict:
    started = time.time()
    with ThreadPoolExecutor(max_workers=CONCURRENT_RUNS) as pool:
        runs = list(pool.map(lambda _: _stream_once(client, scripted, assistant_id), range(CONCURRENT_RUNS)))
    wall = time.time() - started
    complete = sum(1 for _, _, text, status in runs if status == "completed" and text == _answer_of(text))
    lags = [lag for _, run_lags, _, _ in runs for lag in run_lags]
    return {"concurrent_runs": CONCURRENT_RUNS, "concurrent_complete_with_every_delta": complete,
            "concurrent_wall_seconds": round(wall, 2),
            "concurrent_first_token_ms_median": round(statistics.median(first for first, _, _, _ in runs) * 1000, 1),
            "concurrent_delta_lag_ms_median": round(statistics.median(lags) * 1000, 1)}


def _host(azurite, scripted, workdir: Path, name: str, **settings: str) -> DevhostProcess:
    return DevhostProcess(ROOT, devhost_env(azurite, scripted, **settings), workdir / f"{name}.log").start()


def _measure() -> dict:
    azurite = start_azurite()
    keys.bind(azurite.connection_string)  # the host requires keys, as deployed
    scripted = scripted_model.start_in_thread()
    workdir = Path(tempfile.mkdtemp(prefix="bench-streaming-"))
    result: dict = {"model_first_token_ms": FIRST_TOKEN_MS, "model_piece_ms": PIECE_MS}
    direct = openai.OpenAI(base_url=scripted.base_url, api_key="scripted-model-needs-no-key", max_retries=0)
    try:
        host = _host(azurite, scripted, workdir, "fast-path")
        try:
            client = sdk_client(host.base_url)
            assistant = client.beta.assistants.create(model=MODEL, instructions="Answer briefly.")
            result.update(latency(client, direct, scripted, assistant.id, "fast_path"))
            result.update(concurrent(client, scripted, assistant.id))
        finally:
            host.stop()
        for poll_ms in ("50", "100"):
            host = _host(azurite, scripted, workdir, f"poll-{poll_ms}", RUN_EVENTS_FAST_PATH="0",
                         RUN_EVENTS_POLL_MS=poll_ms)
            try:
                client = sdk_client(host.base_url)
                assistant = client.beta.assistants.create(model=MODEL, instructions="Answer briefly.")
                result.update(latency(client, direct, scripted, assistant.id, f"poll_{poll_ms}ms"))
            finally:
                host.stop()
        return result
    except Exception:
        print(f"devhost logs: {workdir}")
        raise
    finally:
        scripted.stop()
        azurite.stop()


def main() -> dict:
    return report(_measure)


if __name__ == "__main__":
    main()
