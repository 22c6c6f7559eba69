"""code_interpreter through full runs: the SDK, devhost, Azurite, the scripted model and real Python."""

from __future__ import annotations

import io
import os
import time
import uuid

import pytest
from PIL import Image

from scripted_model import reply_text, reply_tool_calls
from tests.conftest import devhost_env, sdk_client
from tests.support.devhost_proc import ROOT, DevhostProcess
from tools.code_interpreter.isolation import bwrap_mode

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated
CODE_TOOL = [{"type": "code_interpreter"}]


def ask(client, scripted, assistant_id: str, question: str, *codes: str, answer: str = "Done.",
        thread_id: str | None = None):
    """A run whose model calls code_interpreter with each of `codes`, then answers."""
    marker = uuid.uuid4().hex[:10]
    replies = [reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": code}}], match=marker)
               for code in codes]
    scripted.client.enqueue(*replies, reply_text(answer, match=marker))
    if thread_id is None:
        return client.beta.threads.create_and_run_poll(
            assistant_id=assistant_id, thread={"messages": [{"role": "user", "content": f"{question} {marker}"}]})
    client.beta.threads.messages.create(thread_id=thread_id, role="user", content=f"{question} {marker}")
    return client.beta.threads.runs.create_and_poll(thread_id=thread_id, assistant_id=assistant_id)


def code_calls(client, run) -> list:
    steps = client.beta.threads.runs.steps.list(thread_id=run.thread_id, run_id=run.id, order="asc")
    return [call for step in steps if step.type == "tool_calls" for call in step.step_details.tool_calls]


def logs_of(call) -> str:
    return "".join(output.logs for output in call.code_interpreter.outputs if output.type == "logs")


@pytest.fixture(scope="module")
def assistant(client):
    return client.beta.assistants.create(model="gpt-scripted", name="Math Tutor", tools=CODE_TOOL,
                                         instructions="You are a personal math tutor.")


def test_solving_an_equation_runs_real_python(client, scripted, assistant):
    run = ask(client, scripted, assistant.id, "Solve 3x + 11 = 14",
              "from sympy import symbols, Eq, solve\nx = symbols('x')\nprint(f'x = {float(solve(Eq(3*x + 11, 14))[0])}')")
    assert run.status == "completed", run.last_error
    [call] = code_calls(client, run)
    assert call.type == "code_interpreter" and "solve(Eq(3*x + 11, 14))" in call.code_interpreter.input
    assert logs_of(call).strip() == "x = 1.0"
    tool_message = scripted.client.requests()[-1]["messages"][-1]
    assert tool_message["role"] == "tool" and "x = 1.0" in tool_message["content"]  # the model saw the result


def test_csv_attached_to_a_message_is_analysed_at_mnt_data(client, scripted, assistant):
    upload = client.files.create(file=("sales.csv", b"region,amount\nnorth,10\nsouth,32\nnorth,5\n"),
                                 purpose="assistants")
    marker = uuid.uuid4().hex[:10]
    scripted.client.enqueue(
        reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": (
            "import pandas as pd\ndf = pd.read_csv('/mnt/data/sales.csv')\n"
            "print(df.groupby('region').amount.sum().to_dict())")}}], match=marker),
        reply_text("North sold 15, south 32.", match=marker))
    run = client.beta.threads.create_and_run_poll(assistant_id=assistant.id, thread={"messages": [{
        "role": "user", "content": f"Totals per region? {marker}",
        "attachments": [{"file_id": upload.id, "tools": CODE_TOOL}]}]})
    assert run.status == "completed", run.last_error
    assert logs_of(code_calls(client, run)[0]).strip() == "{'north': 15, 'south': 32}"
    offered = next(t for t in scripted.client.requests()[-2]["tools"] if t["function"]["name"] == "code_interpreter")
    assert "/mnt/data/sales.csv" in offered["function"]["description"]  # the model is told where the file is


def test_a_matplotlib_chart_arrives_as_a_real_png_image_file(client, scripted, assistant):
    run = ask(client, scripted, assistant.id, "Plot a line",
              "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9, 16])\nplt.title('squares')")
    assert run.status == "completed", run.last_error
    [call] = code_calls(client, run)
    [image_output] = [output for output in call.code_interpreter.outputs if output.type == "image"]
    message = client.beta.threads.messages.list(thread_id=run.thread_id).data[0]
    [image_part] = [part for part in message.content if part.type == "image_file"]
    assert image_part.image_file.file_id == image_output.image.file_id
    png = client.files.content(image_part.image_file.file_id).read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1024
    assert Image.open(io.BytesIO(png)).size[0] > 100
    assert client.files.retrieve(image_part.image_file.file_id).purpose == "assistants_output"


def test_a_created_csv_arrives_through_a_file_path_annotation(client, scripted, assistant):
    run = ask(client, scripted, assistant.id, "Make a CSV",
              "with open('/mnt/data/squares.csv', 'w') as out:\n    out.write('n,square\\n' + ''.join(f'{n},{n*n}\\n' for n in range(4)))",
              answer="Here it is: [squares.csv](sandbox:/mnt/data/squares.csv)")
    assert run.status == "completed", run.last_error
    text = client.beta.threads.messages.list(thread_id=run.thread_id).data[0].content[-1].text
    [annotation] = text.annotations
    assert annotation.type == "file_path" and annotation.text == "sandbox:/mnt/data/squares.csv"
    assert text.value[annotation.start_index:annotation.end_index] == annotation.text
    assert client.files.content(annotation.file_path.file_id).read() == b"n,square\n0,0\n1,1\n2,4\n3,9\n"


def test_state_persists_across_runs_of_a_thread_but_not_across_threads(client, scripted, assistant):
    first = ask(client, scripted, assistant.id, "Remember", "secret_number = 41")
    second = ask(client, scripted, assistant.id, "Recall", "print(secret_number + 1)", thread_id=first.thread_id)
    assert logs_of(code_calls(client, second)[0]).strip() == "42"
    other = ask(client, scripted, assistant.id, "Recall elsewhere", "print(secret_number)")
    assert other.status == "completed"
    assert "NameError" in logs_of(code_calls(client, other)[0])


@pytest.fixture(scope="module")
def short_timeout_host(azurite, scripted, tmp_path_factory):
    process = DevhostProcess(ROOT, devhost_env(azurite, scripted, CODE_INTERPRETER_TIMEOUT_SECONDS="2"),
                             tmp_path_factory.mktemp("ci") / "devhost.log")
    yield process.start()
    process.stop()


def test_a_runaway_call_is_stopped_and_the_next_call_works(short_timeout_host, scripted):
    client = sdk_client(short_timeout_host.base_url)
    assistant = client.beta.assistants.create(model="gpt-scripted", tools=CODE_TOOL)
    started = time.monotonic()
    run = ask(client, scripted, assistant.id, "Loop", "while True:\n    pass", "print('alive')")
    assert run.status == "completed", run.last_error
    assert time.monotonic() - started < 20
    stuck, after = code_calls(client, run)
    assert "timed out" in logs_of(stuck)
    assert logs_of(after).strip() == "alive"


def test_code_runs_isolated_when_bubblewrap_can_run(client, scripted, assistant):
    if bwrap_mode() is None:
        pytest.skip("bubblewrap cannot run here: the suite allowed unisolated code (see the session header)")
    run = ask(client, scripted, assistant.id, "Look around",
              f"import os\nprint(os.path.exists({str(ROOT / 'core' / 'settings.py')!r}), os.listdir('/mnt/data'))")
    assert logs_of(code_calls(client, run)[0]).strip() == "False []"


@pytest.fixture(scope="module")
def no_namespaces_host(azurite, scripted, tmp_path_factory):
    """devhost where bubblewrap cannot create namespaces, and unisolated code is not allowed."""
    fake_bin = tmp_path_factory.mktemp("no-userns")
    fake = fake_bin / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = devhost_env(azurite, scripted, PATH=f"{fake_bin}:{os.environ['PATH']}",
                      CODE_INTERPRETER_ALLOW_UNISOLATED="false")
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("ci") / "devhost.log")
    yield process.start()
    process.stop()


def test_without_isolation_the_call_is_refused_and_the_model_told_why(no_namespaces_host, scripted):
    client = sdk_client(no_namespaces_host.base_url)
    assistant = client.beta.assistants.create(model="gpt-scripted", tools=CODE_TOOL)
    run = ask(client, scripted, assistant.id, "Read the settings",
              "print(open('local.settings.json').read())", answer="I cannot run code here.")
    assert run.status == "completed", run.last_error
    [call] = code_calls(client, run)
    assert logs_of(call).startswith("code_interpreter is unavailable on this server")
    assert "The code was not run" in logs_of(call)
    tool_message = scripted.client.requests()[-1]["messages"][-1]
    assert tool_message["role"] == "tool" and "code_interpreter is unavailable" in tool_message["content"]


def test_a_call_that_writes_many_files_returns_a_bounded_number_and_names_the_rest(devhost, scripted):
    """1,500 files in one call: the run completes, 20 come back as file objects, the rest are named
    to the model; no file object exists that the step does not reference."""
    principal_client = sdk_client(devhost.base_url, f"many-files-{uuid.uuid4().hex}")
    assistant = principal_client.beta.assistants.create(model="gpt-scripted", tools=CODE_TOOL)
    run = ask(principal_client, scripted, assistant.id, "Write many files",
              "for i in range(1500):\n    open(f'/mnt/data/part{i:04d}.txt', 'w').write(str(i))")

    assert run.status == "completed", run.last_error
    (call,) = code_calls(principal_client, run)
    tool_message = next(m for m in scripted.client.requests()[-1]["messages"] if m["role"] == "tool")
    assert tool_message["content"].count("[file saved: sandbox:/mnt/data/") == 20
    assert "1480 more files were written but not returned" in tool_message["content"]
    files = principal_client.files.list(purpose="assistants_output").data
    assert len(files) == 20 and all(f.filename.startswith("part") for f in files)


def test_a_large_output_file_arrives_intact_through_its_chunks(client, scripted, assistant):
    """Bigger than the 4 MiB pieces files are streamed to storage in: every piece, in order."""
    import hashlib

    code = ("import hashlib, random\n"
            "data = random.Random(7).randbytes(18 * 1024 * 1024 + 12345)\n"
            "open('/mnt/data/big.bin', 'wb').write(data)\n"
            "print(hashlib.sha256(data).hexdigest())")
    run = ask(client, scripted, assistant.id, "Make a big file", code,
              answer="[big.bin](sandbox:/mnt/data/big.bin)")
    assert run.status == "completed", run.last_error
    (call,) = code_calls(client, run)
    text = client.beta.threads.messages.list(thread_id=run.thread_id).data[0].content[-1].text
    content = client.files.content(text.annotations[0].file_path.file_id).read()
    assert len(content) == 18 * 1024 * 1024 + 12345
    assert hashlib.sha256(content).hexdigest() == logs_of(call).strip()
