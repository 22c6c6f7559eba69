"""code_interpreter inside responses: the same plug-in and sandbox as runs, in a container of the Containers
API (auto or named), shown as `code_interpreter_call` items with `container_file_citation`s."""

from __future__ import annotations

import openai
import pytest
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from scripted_model import reply_text, reply_tool_calls
from tests.runs.conftest import MODEL, requests_for, token

OUTPUTS = "code_interpreter_call.outputs"
EVENTS = TypeAdapter(ResponseStreamEvent)
AUTO = {"type": "code_interpreter", "container": {"type": "auto"}}
SALES = b"region,amount\nnorth,120\nsouth,80\nwest,45\n"
SUMMARY_CODE = ("import pandas as pd, matplotlib.pyplot as plt\n"
                "frame = pd.read_csv('/mnt/data/sales.csv')\n"
                "print('total', frame.amount.sum())\n"
                "frame.to_csv('/mnt/data/summary.csv', index=False)\n"
                "frame.plot.bar(x='region', y='amount')\n"
                "plt.show()\n")
ANSWER = "The total is 245. The table is at [summary.csv](sandbox:/mnt/data/summary.csv)."


def _script(scripted, tok: str, *codes: str, answer: str = ANSWER, **pace) -> None:
    scripted.client.enqueue(*[reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": code}}], match=tok,
                                               **pace) for code in codes], reply_text(answer, match=tok))


def _sales_file(client: openai.OpenAI) -> str:
    return client.files.create(file=("sales.csv", SALES), purpose="user_data").id


def test_an_auto_container_holds_the_files_runs_the_code_and_its_files_are_cited(fresh, scripted):
    file_id = _sales_file(fresh)
    tok = token()
    _script(scripted, tok, SUMMARY_CODE)
    response = fresh.responses.create(model=MODEL, input=f"Summarize the sales {tok}",
                                      tools=[{"type": "code_interpreter", "container": {"type": "auto",
                                                                                      "file_ids": [file_id]}}])
    assert response.status == "completed", response.error
    call, message = response.output
    assert call.type == "code_interpreter_call" and call.status == "completed"
    assert call.code == SUMMARY_CODE and call.container_id.startswith("cntr_")
    assert call.outputs is None  # outputs only on include
    offered, answered = requests_for(scripted, tok)[-2:]
    assert "/mnt/data/sales.csv" in str(offered["tools"])  # the model is told where the file is
    assert "total 245" in answered["messages"][-1]["content"]  # and reads what the code printed
    [part] = message.content
    assert part.text == ANSWER
    [citation] = part.annotations
    assert citation.type == "container_file_citation" and citation.container_id == call.container_id
    assert citation.filename == "summary.csv" and ANSWER[citation.start_index:citation.end_index] == \
        "sandbox:/mnt/data/summary.csv"

    in_container = {item.path: item for item in fresh.containers.files.list(call.container_id)}
    assert in_container["/mnt/data/sales.csv"].source == "user"
    assert in_container["/mnt/data/summary.csv"].source == "assistant"
    assert in_container["/mnt/data/summary.csv"].id == citation.file_id
    content = fresh.containers.files.content.retrieve(citation.file_id, container_id=call.container_id).read()
    assert content.decode().splitlines()[0] == "region,amount" and b"west,45" in content

    shown = fresh.responses.retrieve(response.id, include=[OUTPUTS]).output[0]
    logs = [output for output in shown.outputs if output.type == "logs"]
    images = [output for output in shown.outputs if output.type == "image"]
    assert "total 245" in logs[0].logs and len(images) == 1
    image_file = images[0].url.rsplit("/", 2)[-2]
    assert images[0].url == f"/v1/containers/{call.container_id}/files/{image_file}/content"
    png = fresh.containers.files.content.retrieve(image_file, container_id=call.container_id).read()
    assert png.startswith(b"\x89PNG")


def test_a_named_container_keeps_its_session_across_responses(fresh, scripted):
    container = fresh.containers.create(name="analysis", file_ids=[_sales_file(fresh)])
    tool = {"type": "code_interpreter", "container": container.id}
    first = token()
    _script(scripted, first, "import pandas as pd\nframe = pd.read_csv('/mnt/data/sales.csv')\nprint(len(frame))",
            answer="Loaded.")
    assert fresh.responses.create(model=MODEL, input=f"Load it {first}", tools=[tool]).status == "completed"
    second = token()
    _script(scripted, second, "print('max', frame.amount.max())", answer="Done.")
    response = fresh.responses.create(model=MODEL, input=f"Largest? {second}", tools=[tool], include=[OUTPUTS])
    assert response.status == "completed", response.error
    call = response.output[0]
    assert call.container_id == container.id
    assert "max 120" in call.outputs[0].logs  # the variable of the first response's call is still there
    assert response.tools[0].container == container.id


@pytest.mark.parametrize("piece_ms", [0, 60])
def test_code_interpreter_streams_its_call_events_in_order(fresh, scripted, piece_ms):
    """Also with the model's pieces far enough apart that the first is stored before the next comes
    (a turn once took its own first write for an earlier attempt's and stopped showing the rest)."""
    tok = token()
    _script(scripted, tok, "print(6 * 7)", answer="It is 42.", piece_ms=piece_ms)
    events = [EVENTS.validate_python(event.model_dump()) for event in fresh.responses.create(
        model=MODEL, input=f"6 times 7? {tok}", stream=True, tools=[AUTO], include=[OUTPUTS])]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    kinds = [event.type for event in events]
    calling = [kind for kind in kinds if kind.startswith("response.code_interpreter_call")]
    assert calling == ["response.code_interpreter_call.in_progress", "response.code_interpreter_call_code.delta",
                       "response.code_interpreter_call_code.done", "response.code_interpreter_call.interpreting",
                       "response.code_interpreter_call.completed"]
    added = next(event for event in events if event.type == "response.output_item.added")
    assert added.item.type == "code_interpreter_call" and added.item.container_id.startswith("cntr_")
    code_done = next(event for event in events if event.type == "response.code_interpreter_call_code.done")
    assert code_done.code == "print(6 * 7)"
    assert kinds.index("response.code_interpreter_call.completed") < kinds.index("response.output_text.delta")
    done = events[-1].response
    assert events[-1].type == "response.completed" and "42" in done.output[0].outputs[0].logs


def test_containers_and_files_that_are_not_the_callers_are_refused(fresh, other_client):
    theirs = other_client.containers.create(name="theirs")
    with pytest.raises(openai.NotFoundError):
        fresh.responses.create(model=MODEL, input="x", tools=[{"type": "code_interpreter", "container": theirs.id}])
    with pytest.raises(openai.NotFoundError):
        fresh.responses.create(model=MODEL, input="x", tools=[{"type": "code_interpreter", "container": "cntr_nope"}])
    their_file = _sales_file(other_client)
    with pytest.raises(openai.BadRequestError) as caught:
        fresh.responses.create(model=MODEL, input="x", tools=[
            {"type": "code_interpreter", "container": {"type": "auto", "file_ids": [their_file]}}])
    assert caught.value.body["param"] == "tools[0].container.file_ids"
    with pytest.raises(openai.BadRequestError):
        fresh.responses.create(model=MODEL, input="x", tools=[
            {"type": "code_interpreter", "container": {"type": "auto", "network_policy": {
                "type": "allowlist", "allowed_domains": ["example.com"]}}}])
    with pytest.raises(openai.BadRequestError):
        fresh.responses.create(model=MODEL, input="x", tools=[AUTO, AUTO])
