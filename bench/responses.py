"""The Responses API end to end: answer latency, streaming, background polling, durable history growth.

A private Azurite, devhost serving the product app and the scripted model (0.5 s latency), driven
by the pinned `openai` SDK. Each figure is a ratio (or a difference) against a baseline measured in
the same run, so machine load hits both sides alike:

1. time to answer: `responses.create` (held, not background) vs the model called directly with
   `chat.completions.create`; target ratio <= 1.05.
2. streaming: `responses.create(stream=True)` time to the first `response.output_text.delta` minus
   the model's own time to first token when called directly (first token after 0.5 s, then pieces
   50 ms apart), target <= 50 ms median; and per-delta lag (when each delta reached the client minus
   when the model sent that piece, one clock: the model runs in this process), target <= 20 ms median.
   Measured with the in-process fast path and, on a second devhost, with polling storage only (every 50 ms).
3. background: `responses.create(background=True)`, then `responses.retrieve` every 0.25 s until it
   has ended: time until the answer is seen vs the model latency; target ratio <= 1.10.
4. a conversation of 1,000 items vs one of 10: durable history bytes per model turn of a response
   with `conversation=` (its run's orchestration, read from devhost's Durable HTTP API), target ratio
   <= 1.05; and the response's time, for the record.

Beside the figures, diagnostics that say where the overhead lies: the time from the call until the
model is asked and from its last piece until the answer (the scripted model notes when it sent each
piece), and the same question as an Assistants run on the same engine. `python -m bench._storage_timeline`
lists the storage requests behind them.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import openai
from openai.types.chat import ChatCompletionUserMessageParam
from openai.types.responses import EasyInputMessageParam

import scripted_model
from bench._harness import direct_model, keyed_host, report
from bench.run_engine import _durable_history
from scripted_model import reply_text
from tests.conftest import devhost_env, sdk_client
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess

MODEL = "scripted-model"
MODEL_LATENCY_MS = 500
REPEATS = 7
FIRST_TOKEN_MS, PIECE_MS, PIECES = 500, 50, 12
STREAM_REPEATS = 15
POLL_SECONDS = 0.25
CONVERSATION_LENGTHS = (10, 1_000)
ITEMS_PER_CALL = 20  # OpenAI's limit for conversations.create and conversations.items.create
TURNS_PER_CONVERSATION = 5
TERMINAL = ("completed", "failed", "cancelled", "incomplete")


def _user(text: str) -> ChatCompletionUserMessageParam:
    return {"role": "user", "content": text}


def _completed(response) -> None:
    if response.status != "completed":
        raise RuntimeError(f"response {response.id} ended {response.status}: {response.error}")


def _model_span(scripted, tag: str) -> tuple[float, float]:
    """When the model got the request tagged `tag` and when it sent its last piece (wall clock, this
    process's): the scripted model sends its first piece exactly its latency after the request came."""
    sent = scripted.script.sent()
    completion = next(completion for completion, piece, _ in sent if tag in piece)
    times = [at for sent_by, _, at in sent if sent_by == completion]
    return times[0] - MODEL_LATENCY_MS / 1000, times[-1]


# -- 1. time to answer -------------------------------------------------------------

def time_to_answer(client: openai.OpenAI, direct: openai.OpenAI, scripted, assistant_id: str) -> dict:
    def call_direct(i: int) -> float:
        started = time.perf_counter()
        direct.chat.completions.create(model=MODEL, messages=[_user(f"direct question {i}")])
        return time.perf_counter() - started

    spans: list[tuple[float, float]] = []  # (before the model, after it), seconds

    def call_service(i: int) -> float:
        tag = uuid.uuid4().hex[:10]
        started, wall = time.perf_counter(), time.time()
        response = client.responses.create(model=MODEL, input=f"service question {tag}")
        elapsed, ended = time.perf_counter() - started, time.time()
        _completed(response)
        asked, answered = _model_span(scripted, tag)
        spans.append((asked - wall, ended - answered))
        return elapsed

    call_direct(-1)  # warm up both paths (connections, imports, table creation)
    call_service(-1)
    spans.clear()
    direct_times, service_times, chained_times, run_times = [], [], [], []
    previous = None
    for i in range(REPEATS):  # interleaved
        direct_times.append(call_direct(i))
        service_times.append(call_service(i))
        # Diagnostic: a chain by previous_response_id (its run appends to the previous one's thread).
        started = time.perf_counter()
        chained = client.responses.create(model=MODEL, input=f"chained question {i}",
                                          previous_response_id=previous or openai.omit)
        chained_times.append(time.perf_counter() - started)
        _completed(chained)
        previous = chained.id
        # Diagnostic: the same question as an Assistants run on the same engine (SDK polling at 20 ms, so
        # the poll interval hardly counts), to tell the engine's overhead from the Responses layer's.
        started = time.perf_counter()
        run = client.beta.threads.create_and_run_poll(assistant_id=assistant_id, poll_interval_ms=20,
                                                      thread={"messages": [{"role": "user", "content": f"run {i}"}]})
        run_times.append(time.perf_counter() - started)
        if run.status != "completed":
            raise RuntimeError(f"run {run.id} ended {run.status}")
    baseline, service = statistics.median(direct_times), statistics.median(service_times)
    chain, assistants_run = statistics.median(chained_times), statistics.median(run_times)
    return {
        "answer_direct_model_median_ms": round(baseline * 1000, 1),
        "answer_create_median_ms": round(service * 1000, 1),
        "answer_create_vs_direct_ratio": round(service / baseline, 3),
        # Where the overhead is: from the call to the model being asked, from the model's last piece to the answer.
        "answer_create_before_model_ms_median": round(statistics.median(before for before, _ in spans) * 1000, 1),
        "answer_create_after_model_ms_median": round(statistics.median(after for _, after in spans) * 1000, 1),
        "answer_create_chained_median_ms": round(chain * 1000, 1),
        "answer_create_chained_vs_direct_ratio": round(chain / baseline, 3),
        "answer_assistants_run_poll20ms_median_ms": round(assistants_run * 1000, 1),
        "answer_assistants_run_poll20ms_vs_direct_ratio": round(assistants_run / baseline, 3),
    }


# -- 2. streaming -----------------------------------------------------------------------

def _answer(tag: str) -> str:
    return " ".join(f"{tag}-{index}" for index in range(PIECES * 2))


def _streamed_reply(tag: str) -> dict:
    return reply_text(_answer(tag), match=tag, first_token_ms=FIRST_TOKEN_MS, piece_ms=PIECE_MS, pieces=PIECES)


def _stream_once(client: openai.OpenAI, scripted) -> tuple[float, list[float], bool, float]:
    """One streamed response: (seconds to first delta, lag of each delta, whole text and completed,
    seconds from the call to the model being asked)."""
    tag = uuid.uuid4().hex[:10]
    scripted.client.enqueue(_streamed_reply(tag))
    arrivals: list[tuple[float, str]] = []
    started = time.time()
    last = None
    for event in client.responses.create(model=MODEL, input=f"question {tag}", stream=True):
        if event.type == "response.output_text.delta":
            arrivals.append((time.time(), event.delta))
        last = event
    sent = [at for _, piece, at in scripted.script.sent() if tag in piece]
    lags = [arrival - at for (arrival, _), at in zip(arrivals, sent, strict=False)]
    first = arrivals[0][0] - started if arrivals else float("nan")
    whole = "".join(piece for _, piece in arrivals) == _answer(tag) and last is not None \
        and last.type == "response.completed"
    return first, lags, whole, sent[0] - FIRST_TOKEN_MS / 1000 - started


def _direct_first_token(direct: openai.OpenAI, scripted) -> float:
    tag = uuid.uuid4().hex[:10]
    scripted.client.enqueue(_streamed_reply(tag))
    started = time.time()
    first = None
    for chunk in direct.chat.completions.create(model=MODEL, stream=True, messages=[_user(f"question {tag}")]):
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.time() - started
    if first is None:
        raise RuntimeError("the model streamed no text")
    return first


def streaming(client: openai.OpenAI, direct: openai.OpenAI, scripted, label: str = "stream") -> dict:
    _stream_once(client, scripted)  # warm up
    model, streams = [], []
    for _ in range(STREAM_REPEATS):  # interleaved
        model.append(_direct_first_token(direct, scripted))
        streams.append(_stream_once(client, scripted))
    firsts = [first for first, _, _, _ in streams]
    lags = sorted(lag for _, run_lags, _, _ in streams for lag in run_lags)
    figures = {
        "model_first_token_ms_median": round(statistics.median(model) * 1000, 1),
        "first_token_ms_median": round(statistics.median(firsts) * 1000, 1),
        "first_token_overhead_ms_median": round((statistics.median(firsts) - statistics.median(model)) * 1000, 1),
        # The overhead split: from the call to the model being asked; the first delta's own lag.
        "before_model_ms_median": round(statistics.median(asked for _, _, _, asked in streams) * 1000, 1),
        "first_delta_lag_ms_median": round(statistics.median(run_lags[0] for _, run_lags, _, _ in streams) * 1000, 1),
        "delta_lag_ms_median": round(statistics.median(lags) * 1000, 1),
        "delta_lag_ms_p90": round(lags[int(len(lags) * 0.9)] * 1000, 1),
        "all_text_complete": all(whole for _, _, whole, _ in streams),
    }
    return {f"{label}_{name}": value for name, value in figures.items()}


# -- 3. background, polled ----------------------------------------------------------------

def background_polled(client: openai.OpenAI, scripted) -> dict:
    def once() -> dict:
        tag = uuid.uuid4().hex[:10]
        started, wall = time.perf_counter(), time.time()
        response = client.responses.create(model=MODEL, input=f"background question {tag}", background=True)
        created, retrieves = time.perf_counter() - started, []
        while response.status not in TERMINAL:
            time.sleep(POLL_SECONDS)
            asked = time.perf_counter()
            response = client.responses.retrieve(response.id)
            retrieves.append(time.perf_counter() - asked)
        seen = time.perf_counter() - started
        _completed(response)
        return {"seen": seen, "created": created, "polls": len(retrieves), "retrieve": statistics.median(retrieves),
                "model_done": _model_span(scripted, tag)[1] - wall}

    once()  # warm up
    runs = [once() for _ in range(REPEATS)]

    def median_ms(key: str) -> float:
        return round(statistics.median(run[key] for run in runs) * 1000, 1)

    return {
        "background_create_returned_ms_median": median_ms("created"),
        "background_retrieve_ms_median": median_ms("retrieve"),
        "background_model_done_ms_median": median_ms("model_done"),  # the model's last piece, from the create call
        "background_answer_seen_ms_median": median_ms("seen"),
        "background_retrieves_median": statistics.median(run["polls"] for run in runs),
        "background_answer_seen_vs_model_latency_ratio": round(
            statistics.median(run["seen"] for run in runs) / (MODEL_LATENCY_MS / 1000), 3),
    }


# -- 4. durable history per turn ------------------------------------------------------------

def _conversation_with(client: openai.OpenAI, count: int) -> tuple[str, float]:
    started = time.perf_counter()
    items: list[EasyInputMessageParam] = [{"type": "message", "role": "user", "content": f"item {i} of {count}"}
                                          for i in range(count)]
    conversation = client.conversations.create(items=items[:ITEMS_PER_CALL])
    for start in range(ITEMS_PER_CALL, count, ITEMS_PER_CALL):
        client.conversations.items.create(conversation.id, items=items[start:start + ITEMS_PER_CALL])
    return conversation.id, time.perf_counter() - started


def history_per_turn(client: openai.OpenAI, host: DevhostProcess) -> dict:
    result: dict = {}
    per_turn: dict[int, list[float]] = {length: [] for length in CONVERSATION_LENGTHS}
    times: dict[int, list[float]] = {length: [] for length in CONVERSATION_LENGTHS}
    conversations = {}
    for length in CONVERSATION_LENGTHS:
        conversations[length], fill_seconds = _conversation_with(client, length)
        result[f"fill_{length}_items_seconds"] = round(fill_seconds, 2)
    for turn in range(TURNS_PER_CONVERSATION):  # interleaved
        for length, conversation_id in conversations.items():
            started = time.perf_counter()
            response = client.responses.create(model=MODEL, input=f"turn {turn}", conversation=conversation_id)
            times[length].append(time.perf_counter() - started)
            _completed(response)
            history = _durable_history(host, "run_" + response.id.removeprefix("resp_"))
            size = len(json.dumps(history, separators=(",", ":")).encode("utf-8"))
            turns = sum(1 for event in history if event.get("EventType") == 4 and event.get("Name") == "run_model_turn")
            per_turn[length].append(size / max(turns, 1))
            result.update({f"history_{length}_items_bytes": size, f"history_{length}_items_events": len(history),
                           f"history_{length}_items_model_turns": turns})
    small, large = CONVERSATION_LENGTHS
    for length in CONVERSATION_LENGTHS:
        result[f"history_{length}_items_bytes_per_turn_median"] = round(statistics.median(per_turn[length]))
        result[f"response_{length}_items_median_seconds"] = round(statistics.median(times[length]), 3)
    result["history_bytes_per_turn_ratio_1000_vs_10"] = round(
        statistics.median(per_turn[large]) / statistics.median(per_turn[small]), 3)
    result["response_time_ratio_1000_vs_10"] = round(statistics.median(times[large]) / statistics.median(times[small]),
                                                     3)
    return result


def _measure() -> dict:
    azurite = start_azurite()
    scripted = scripted_model.start_in_thread()
    workdir = Path(tempfile.mkdtemp(prefix="bench-responses-"))
    host = None
    try:
        host = keyed_host(azurite, scripted, workdir / "devhost.log", MODEL_LATENCY_MS)
        client = sdk_client(host.base_url)
        direct = direct_model(scripted)
        result: dict = {"model_latency_ms": MODEL_LATENCY_MS}
        assistant = client.beta.assistants.create(model=MODEL, instructions="Answer briefly.")
        result.update(time_to_answer(client, direct, scripted, assistant.id))
        result.update(background_polled(client, scripted))
        result.update(history_per_turn(client, host))
        scripted.client.set_default(latency_ms=0)  # streamed replies carry their own pacing
        result.update(streaming(client, direct, scripted))
        host.stop()
        # Diagnostic: events found by polling storage only, as when the model turn runs on another instance.
        host = DevhostProcess(ROOT, devhost_env(azurite, scripted, RUN_EVENTS_FAST_PATH="0", RUN_EVENTS_POLL_MS="50"),
                              workdir / "devhost-poll-50ms.log").start()
        result.update(streaming(sdk_client(host.base_url), direct, scripted, "stream_poll_50ms"))
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


def main() -> dict:
    return report(_measure)


if __name__ == "__main__":
    main()
