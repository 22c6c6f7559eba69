"""Streams on a devhost of this module's own, which finds events by polling storage only (no in-process
wake-ups, as when the model turn runs on another instance), sends keep-alives every second, and is
killed mid-stream."""

from __future__ import annotations

import time

import pytest

from scripted_model import reply_text
from tests.conftest import devhost_env
from tests.runs.conftest import texts, thread_with, token, wait_for
from tests.streaming.conftest import Recorder, make_assistant, open_events, sse_events, strict_client
from tests.support.devhost_proc import ROOT, DevhostProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

LONG = " ".join(f"word{index}" for index in range(40)) + "."


@pytest.fixture(scope="module")
def host(azurite, scripted, tmp_path_factory):
    env = devhost_env(azurite, scripted, RUN_EVENTS_FAST_PATH="0", RUN_EVENTS_POLL_MS="50",
                      RUN_EVENTS_KEEPALIVE_SECONDS="1")
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("streaming-devhost") / "devhost.log").start()
    yield process
    process.stop()


@pytest.fixture
def api(host):
    return strict_client(host.base_url)


def test_polling_storage_alone_streams_every_delta_and_idle_streams_keep_alive(api, scripted):
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text(LONG, match=tok, first_token_ms=2500, pieces=8, piece_ms=30))
    thread = thread_with(api, f"slow start {tok}")
    run = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    comments_before_text, pieces = 0, []
    with open_events(api, thread.id, run.id) as response:
        for seq, event, data in sse_events(response):
            if seq == "comment" and not pieces:
                comments_before_text += 1
            elif event == "thread.message.delta":
                pieces.append(data["delta"]["content"][0]["text"]["value"])
    assert comments_before_text >= 1  # the model thought for 2.5 s; keep-alives went out every second
    assert "".join(pieces) == LONG and texts(api, thread.id)[-1] == ("assistant", LONG)

    handler = Recorder()  # the SDK ignores the comments
    tok = token()
    scripted.client.enqueue(reply_text("Short.", match=tok, first_token_ms=1500))
    api.beta.threads.messages.create(thread_id=thread.id, role="user", content=f"again {tok}")
    with api.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as stream:
        stream.until_done()
    assert "".join(handler.deltas) == "Short." and handler.events()[-1] == "thread.run.completed"


def test_a_restart_mid_stream_keeps_the_run_and_a_resumed_stream_shows_no_text_twice(api, host, scripted):
    assistant = make_assistant(api)
    tok = token()
    # The host dies mid-answer; the model turn runs again and the (deterministic) model says the same.
    answer = reply_text(LONG, match=tok, pieces=20, piece_ms=150)
    scripted.client.enqueue(answer, answer)
    thread = thread_with(api, f"restart {tok}")
    run = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    pieces, last_id = [], None
    with open_events(api, thread.id, run.id) as response:
        for seq, event, data in sse_events(response):
            if seq != "comment":
                last_id = seq
            if event == "thread.message.delta":
                pieces.append(data["delta"]["content"][0]["text"]["value"])
                if len(pieces) == 3:
                    break
    host.restart()  # SIGKILL, then start again: the orchestration resumes from storage
    names = []
    with open_events(api, thread.id, run.id, last_event_id=last_id) as response:
        for _seq, event, data in sse_events(response):
            names.append(event)
            if event == "thread.message.delta":
                pieces.append(data["delta"]["content"][0]["text"]["value"])
    assert names[-2:] == ["thread.run.completed", "done"]
    assert names.count("thread.message.created") == 0  # the message was opened once, before the restart
    assert "".join(pieces) == LONG
    assert wait_for(api, thread.id, run.id, "completed").status == "completed"
    assert texts(api, thread.id)[-1] == ("assistant", LONG)


def test_without_wake_ups_a_held_poll_sees_the_answer_by_re_reading_storage(api, scripted):
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text("Found by re-reading.", match=tok, first_token_ms=1200))
    thread = thread_with(api, f"held {tok}")
    started = time.monotonic()
    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    waited = time.monotonic() - started
    assert run.status == "completed" and texts(api, thread.id)[-1] == ("assistant", "Found by re-reading.")
    # held, re-reading at 50, 100, 200, then every 250 ms: seen within a re-read of the end, not on a far poll tick
    assert 1.2 <= waited < 1.2 + 2.0
