"""Streaming runs through the SDK's helpers (strict validation) on the session's devhost."""

from __future__ import annotations

import threading

import httpx2 as httpx  # the HTTP client the pinned openai SDK ships with
import pytest

from scripted_model import reply_text, reply_tool_calls
from scripted_model.wire import split_content
from tests.runs.conftest import WEATHER, texts, thread_with, token, wait_for
from tests.streaming.conftest import Recorder, auth_headers, make_assistant, open_events, read_all, strict_client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated

ANSWER = "The quick brown fox jumps over the lazy dog, twice."
TEXT_RUN_EVENTS = ["thread.run.created", "thread.run.queued", "thread.run.in_progress", "thread.run.step.created",
                   "thread.run.step.in_progress", "thread.message.created", "thread.message.in_progress"]


def test_runs_stream_shows_text_as_the_model_writes_it(api, scripted):
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text(ANSWER, match=tok, pieces=6, piece_ms=60))
    thread = thread_with(api, f"Say it {tok}")
    handler = Recorder()

    with api.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as stream:
        stream.until_done()
        final_run, final_messages = stream.get_final_run(), stream.get_final_messages()

    events = handler.events()
    deltas = events.count("thread.message.delta")
    assert events == TEXT_RUN_EVENTS + ["thread.message.delta"] * deltas + [
        "thread.message.completed", "thread.run.step.completed", "thread.run.completed"]
    # Piece by piece: each delta is one or more of the model's pieces in order (a loaded machine may
    # bring two pieces in one write), and most pieces came as their own delta.
    pieces, deltas = split_content(ANSWER, 6), handler.deltas
    assert "".join(deltas) == ANSWER and len(deltas) > 3
    ends = [len("".join(pieces[:index])) for index in range(1, len(pieces) + 1)]
    assert all(len("".join(deltas[:index])) in ends for index in range(1, len(deltas) + 1)), deltas
    snapshots = [call[2] for call in handler.of("text_delta")]
    assert snapshots[-1] == ANSWER and all(ANSWER.startswith(snapshot) for snapshot in snapshots)
    assert handler.of("text_done") == [("text_done", ANSWER)] and handler.ended
    assert final_run.status == "completed" and final_messages[0].content[0].text.value == ANSWER
    assert texts(api, thread.id)[-1] == ("assistant", ANSWER)  # concatenated deltas == stored message
    stored = api.beta.threads.messages.list(thread_id=thread.id, order="desc", limit=1).data[0]
    assert stored.id == final_messages[0].id


def test_raw_stream_true_sends_numbered_events_in_openai_order_then_done(api, scripted):
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text("Hello there, friend.", match=tok))
    thread = thread_with(api, f"hi {tok}")
    stream = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id, stream=True)
    names = [event.event for event in stream]
    assert names[:7] == TEXT_RUN_EVENTS and names[-1] == "thread.run.completed"
    run_id = api.beta.threads.runs.list(thread_id=thread.id).data[0].id

    replay = read_all(api, thread.id, run_id)
    assert [event for _, event, _ in replay] == names + ["done"]
    assert [int(seq) for seq, _, _ in replay[:-1]] == list(range(1, len(names) + 1))
    assert replay[-1][2] == "[DONE]"


def test_create_and_run_stream_starts_with_the_thread(api, scripted):
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text("A new thread answers.", match=tok))
    handler = Recorder()
    with api.beta.threads.create_and_run_stream(
            assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": f"new {tok}"}]},
            event_handler=handler) as stream:
        stream.until_done()
    assert handler.events()[:3] == ["thread.created", "thread.run.created", "thread.run.queued"]
    assert "".join(handler.deltas) == "A new thread answers."


def test_function_calls_stream_then_submit_tool_outputs_stream_continues_the_run(api, scripted):
    assistant = make_assistant(api, tools=[WEATHER])
    tok = token()
    scripted.client.enqueue(
        reply_tool_calls([{"name": "get_weather", "arguments": {"city": "Oslo"}}], match=tok),
        reply_text("Sunny in Oslo.", match=tok))
    thread = thread_with(api, f"Weather? {tok}")
    handler = Recorder()
    with api.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as stream:
        stream.until_done()
        run = stream.get_final_run()
    assert run.status == "requires_action" and handler.events()[-1] == "thread.run.requires_action"
    (created,) = handler.of("tool_created")
    call_id = run.required_action.submit_tool_outputs.tool_calls[0].id
    assert created == ("tool_created", "function", call_id)
    assert handler.of("tool_delta")  # the arguments arrived in pieces
    done = handler.of("tool_done")[0]  # (the SDK calls it again at the run's end)
    assert done[2]["function"]["name"] == "get_weather"
    assert done[2]["function"]["arguments"] == '{"city": "Oslo"}'

    after = Recorder()
    with api.beta.threads.runs.submit_tool_outputs_stream(
            thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": call_id, "output": "sunny"}],
            event_handler=after) as stream:
        stream.until_done()
        final = stream.get_final_run()
    assert final.id == run.id and final.status == "completed"
    assert after.events()[:3] == ["thread.run.step.completed", "thread.run.queued", "thread.run.in_progress"]
    assert "".join(after.deltas) == "Sunny in Oslo." and after.ended


def test_code_interpreter_calls_show_input_logs_and_image(api, scripted):
    assistant = make_assistant(api, tools=[{"type": "code_interpreter"}])
    tok = token()
    code = ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "print('plotting')\nplt.plot([1, 2, 3])\nplt.show()")
    scripted.client.enqueue(reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": code}}], match=tok),
                            reply_text("Here is the plot.", match=tok))
    thread = thread_with(api, f"Plot {tok}")
    handler = Recorder()
    with api.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as stream:
        stream.until_done()
        assert stream.get_final_run().status == "completed"
    (created,) = handler.of("tool_created")
    assert created[1] == "code_interpreter"
    done = handler.of("tool_done")[0]  # (the SDK calls it again at the run's end)
    interpreter = done[2]["code_interpreter"]
    assert interpreter["input"] == code
    kinds = [output["type"] for output in interpreter["outputs"]]
    assert kinds == ["logs", "image"] and interpreter["outputs"][0]["logs"].strip() == "plotting"
    (image,) = handler.of("image_done")
    assert image[1] == interpreter["outputs"][1]["image"]["file_id"]
    assert "".join(handler.deltas) == "Here is the plot."
    assert handler.events().count("thread.run.step.completed") == 2
    message = api.beta.threads.messages.list(thread_id=thread.id, order="desc", limit=1).data[0]
    assert [part.type for part in message.content] == ["image_file", "text"]
    assert message.content[0].image_file.file_id == image[1]


def test_two_streams_of_one_run_see_every_event_and_a_closed_one_cancels_nothing(api, scripted):
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text(ANSWER, match=tok, pieces=8, piece_ms=60))
    thread = thread_with(api, f"Twice {tok}")
    first = api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id, stream=True)
    seen_first = []
    for event in first:
        seen_first.append(event.event)
        if event.event == "thread.run.created":
            run_id = event.data.id
            break
    seen_second: list[tuple] = []
    second = threading.Thread(target=lambda: seen_second.extend(read_all(api, thread.id, run_id)))
    second.start()
    for event in first:
        seen_first.append(event.event)
        if event.event == "thread.message.delta":
            break
    first.close()  # the client goes away mid-answer
    second.join(timeout=60)
    assert [event for _, event, _ in seen_second][-1] == "done"
    names = [event for _, event, _ in seen_second[:-1]]
    assert names[:len(seen_first)] == seen_first
    assert names.count("thread.message.delta") == len(split_content(ANSWER, 8))
    run = wait_for(api, thread.id, run_id, "completed")
    assert run.status == "completed" and texts(api, thread.id)[-1] == ("assistant", ANSWER)


def test_resume_after_n_and_with_last_event_id(api, scripted):
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text(ANSWER, match=tok, pieces=5))
    thread = thread_with(api, f"Resume {tok}")
    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    everything = read_all(api, thread.id, run.id)
    count = len(everything) - 1
    assert read_all(api, thread.id, run.id, after=5) == everything[5:]
    assert read_all(api, thread.id, run.id, after=1, last_event_id="9") == everything[9:]
    assert read_all(api, thread.id, run.id, after=count) == [(None, "done", "[DONE]")]  # a finished run: at once
    pieces = [data["delta"]["content"][0]["text"]["value"] for _, event, data in everything
              if event == "thread.message.delta"]
    assert "".join(pieces) == ANSWER


def test_bad_requests_get_the_error_envelope(api, devhost, scripted):
    assistant = make_assistant(api)
    thread = thread_with(api, f"bad {token()}")
    headers = auth_headers(api)
    response = httpx.post(f"{devhost.base_url}/threads/{thread.id}/runs", headers=headers,
                          json={"assistant_id": assistant.id, "stream": "True"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "stream" and error["type"] == "invalid_request_error"
    response = httpx.post(f"{devhost.base_url}/threads/runs", headers=headers,
                          json={"assistant_id": assistant.id, "stream": 1})
    assert response.status_code == 400 and response.json()["error"]["param"] == "stream"
    run = api.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    for params in ({"after": "-1"}, {"after": "x"}, {"after": "999"}):
        response = httpx.get(f"{devhost.base_url}/threads/{thread.id}/runs/{run.id}/events", params=params,
                             headers=headers)
        assert response.status_code == 400 and response.json()["error"]["param"] == "after", response.text
    stranger = strict_client(devhost.base_url)
    with open_events(stranger, thread.id, run.id) as response:
        assert response.status_code == 404 and b"No run found" in response.read()


def test_cancel_mid_answer_closes_the_shown_message_and_ends_the_stream(api, scripted):
    assistant = make_assistant(api)
    tok = token()
    scripted.client.enqueue(reply_text(ANSWER, match=tok, pieces=10, piece_ms=200))
    thread = thread_with(api, f"Cancel me {tok}")
    names, pieces, closed = [], [], None
    for event in api.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id, stream=True):
        names.append(event.event)
        if event.event == "thread.run.created":
            run_id = event.data.id
        elif event.event == "thread.message.delta":
            pieces.append(event.data.delta.content[0].text.value)
            if len(pieces) == 2:
                api.beta.threads.runs.cancel(run_id=run_id, thread_id=thread.id)
        elif event.event == "thread.message.incomplete":
            closed = event.data
    assert names[-1] == "thread.run.cancelled" and "thread.run.cancelling" in names
    assert names[-3:-1] == ["thread.message.incomplete", "thread.run.step.cancelled"]
    assert closed.incomplete_details.reason == "run_cancelled"
    assert closed.content[0].text.value == "".join(pieces) and 2 <= len(pieces) < 10
