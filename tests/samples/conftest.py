"""The samples end to end: `python -m samples <name>` against one devhost shared by every sample test.

That devhost runs the product as an operator would who enabled the server-side send_email
tool for contoso.com, its Logic App being a loopback stand-in; the same stand-in plays the
seed's EMAIL_URI Logic App for e-mail the samples' clients send themselves (another path).
The scripted model makes the calls a real model would, routed by each sample's own
prompts (`match`), and its code_interpreter calls carry real Python run in the sandbox.

Markers `needs_streaming` and `needs_file_search` skip a test only when this service
answers the feature with 400/404 — they turn on by themselves once it is served.
"""

from __future__ import annotations

import uuid

import openai
import pytest

import samples.__main__ as samples_cli
from scripted_model import reply_text, reply_tool_calls
from tests.conftest import devhost_env
from tests.runs.conftest import LogicAppStandIn
from tests.support import keys
from tests.support.devhost_proc import ROOT, DevhostProcess

MODEL = "gpt-scripted"
SERVER_MAIL_PATH = "/server-mail"
CLIENT_MAIL_PATH = "/client-mail"
FEATURE_MARKERS = {
    "needs_streaming": "streaming runs (runs.stream) are not served here yet",
    "needs_file_search": "file_search / vector stores are not served here yet",
}


def pytest_configure(config):
    for marker, meaning in FEATURE_MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: skipped while the service answers 400/404 ({meaning})")


@pytest.fixture(scope="package")
def logic_app():
    stand_in = LogicAppStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture(scope="package")
def sample_host(azurite, scripted, logic_app, tmp_path_factory):
    env = devhost_env(azurite, scripted, SERVER_TOOLS_ENABLED="send_email",
                      SEND_EMAIL_LOGIC_APP_URL=logic_app.url + SERVER_MAIL_PATH,
                      TOOL_EMAIL_ALLOWED_RECIPIENTS="contoso.com")
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("samples") / "devhost.log").start()
    yield process
    process.stop()


@pytest.fixture
def principal_key(sample_host) -> str:
    """A key of a principal no other test uses, so what a sample leaves behind is visible."""
    return keys.key_for(f"samples-{uuid.uuid4().hex}")


@pytest.fixture
def service(sample_host, principal_key) -> openai.OpenAI:
    """The test's view of the service, as the principal the sample runs as."""
    return openai.OpenAI(base_url=sample_host.base_url, api_key=principal_key, max_retries=0, timeout=60)


@pytest.fixture
def run_sample(sample_host, principal_key, logic_app, monkeypatch, tmp_path, capsys):
    """Runs `python -m samples <name>` in-process with the seed's .env names set; returns (exit code, stdout)."""
    monkeypatch.setenv("OPENAI_URI", sample_host.root_url)
    monkeypatch.setenv("OPENAI_KEY", principal_key)
    monkeypatch.setenv("OPENAI_VERSION", "2024-05-01-preview")
    monkeypatch.setenv("OPENAI_GPT_DEPLOYMENT", MODEL)
    monkeypatch.setenv("EMAIL_URI", logic_app.url + CLIENT_MAIL_PATH)
    logic_app.received.clear()
    logic_app.status = 202

    def run(name: str, host: DevhostProcess | None = None) -> tuple[int, str]:
        """`host`: another devhost of the session to run against (default: the samples' own)."""
        if host is not None:
            monkeypatch.setenv("OPENAI_URI", host.root_url)
        code = samples_cli.main([name, "--out", str(tmp_path / "out")])
        return code, capsys.readouterr().out

    run.out_dir = tmp_path / "out"
    return run


@pytest.fixture(autouse=True)
def _needs_feature(request):
    for marker in FEATURE_MARKERS:
        if request.node.get_closest_marker(marker):
            reason = request.getfixturevalue("feature_refusals").get(marker)
            if reason:
                pytest.skip(f"{FEATURE_MARKERS[marker]}: {reason}")


@pytest.fixture(scope="package")
def feature_refusals(sample_host) -> dict[str, str]:
    """Which features this service refuses with 400/404, asked of the service itself (marker -> its answer)."""
    client = openai.OpenAI(base_url=sample_host.base_url, api_key=keys.key_for("samples-probe"), max_retries=0,
                           timeout=60)
    refusals = {}
    try:
        client.vector_stores.list(limit=1)
    except openai.APIStatusError as error:
        if error.status_code not in (400, 404):
            raise
        refusals["needs_file_search"] = f"{error.status_code} {error.message}"
    assistant = client.beta.assistants.create(model=MODEL, instructions="Stream probe.")
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "probe streaming"}])
    try:
        with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
            stream.until_done()
    except openai.APIStatusError as error:
        if error.status_code not in (400, 404):
            raise
        refusals["needs_streaming"] = f"{error.status_code} {error.message}"
    return refusals


def script(scripted, prompt: str, *replies: dict) -> None:
    """Queue the model's replies to one of a sample's prompts (routed by the prompt's text)."""
    scripted.client.enqueue(*({**reply, "match": prompt} for reply in replies))


def code_call(code: str) -> dict:
    return reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": code}}])


def answer(text: str) -> dict:
    return reply_text(text)


def requests_about(scripted, prompt: str) -> list[dict]:
    """The model requests made while answering `prompt`, oldest first."""
    def last_user(body):
        users = [m for m in body["messages"] if m["role"] == "user"]
        content = users[-1]["content"] if users else ""
        return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
    return [body for body in scripted.client.requests() if last_user(body) == prompt]


def tool_messages(scripted, prompt: str) -> list[str]:
    """What the model was told by the tools while answering `prompt` (the last request's tool messages)."""
    requests = requests_about(scripted, prompt)
    return [m["content"] for m in requests[-1]["messages"] if m["role"] == "tool"] if requests else []


def leftovers(service: openai.OpenAI) -> dict[str, int]:
    """What the sample's principal still owns (a sample deletes all it made)."""
    return {"assistants": len(service.beta.assistants.list().data), "files": len(service.files.list().data)}

