"""The post-deploy smoke test (smoke/): its verdicts, the CLI against devhost, a wrong key, the azd hook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripted_model import reply_text, reply_tool_calls
from smoke import checks, probes
from smoke.checks import FAIL, PASS, SKIP, Reply, RunOutcome
from tests.conftest import DEFAULT_PRINCIPAL
from tests.support import keys

ROOT = Path(__file__).resolve().parents[1]
ENVELOPE_401 = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                          "param": None, "code": "invalid_api_key"}}


# --- verdicts (pure) ---------------------------------------------------------------


def test_a_401_in_openais_envelope_passes():
    assert checks.refuses_strangers(Reply(401, ENVELOPE_401), loopback=False).status == PASS


@pytest.mark.parametrize("reply, loopback, status, hint", [
    (Reply(200, {"data": []}), False, FAIL, "Anyone with the URL"),
    (Reply(200, {"data": []}), True, SKIP, ""),
    (Reply(401, "Unauthorized"), False, FAIL, "App Service Authentication"),
    (Reply(404, ""), False, FAIL, "/v1 URL"),
    (Reply(None, error="connection refused"), False, FAIL, "azd deploy"),
    (Reply(500, {"error": {"message": "boom"}}), False, FAIL, "Application Insights"),
])
def test_an_answer_other_than_401_says_what_it_means(reply, loopback, status, hint):
    check = checks.refuses_strangers(reply, loopback)
    assert check.status == status and hint in check.next_step


def test_key_verdicts():
    assert checks.accepts_key(Reply(200, {"data": []})).status == PASS
    assert checks.accepts_key(None).status == SKIP
    wrong = checks.accepts_key(Reply(401, ENVELOPE_401))
    assert wrong.status == FAIL and "wrong or revoked" in wrong.next_step and "Incorrect API key" in wrong.detail


def run(status: str, **fields) -> dict:
    return {"id": "run_1", "thread_id": "thread_1", "status": status, **fields}


@pytest.mark.parametrize("outcome, status, hint", [
    (RunOutcome(run("completed"), "pong"), PASS, ""),
    (RunOutcome(run("completed"), ""), FAIL, "steps"),
    (RunOutcome(run("failed", last_error={"code": "rate_limit_exceeded", "message": "Too many"})), FAIL, "quota"),
    (RunOutcome(run("failed", last_error={"code": "server_error", "message": "Error code: 401 - PermissionDenied"})),
     FAIL, "10 minutes"),
    (RunOutcome(run("failed", last_error={"code": "server_error", "message": "The API deployment for this resource does not exist"})),
     FAIL, "AZURE_OPENAI_CHAT_DEPLOYMENT"),
    (RunOutcome(run("queued")), FAIL, "cold start"),
    (RunOutcome(failed_request=Reply(400, {"error": {"message": "bad model"}})), FAIL, "Application Insights"),
])
def test_run_verdicts(outcome, status, hint):
    check = checks.run_completes(outcome, 12.0)
    assert check.status == status and hint in check.next_step


def code_call(logs: str) -> dict:
    return {"type": "code_interpreter", "code_interpreter": {"input": "...", "outputs": [{"type": "logs", "logs": logs}]}}


def test_code_interpreter_verdicts():
    expected = probes.EXPECTED_OUTPUT
    assert checks.code_interpreter_runs(RunOutcome(run("completed"), "ok", tool_calls=(code_call(expected + "\n"),)),
                                        expected, 3).status == PASS
    refused = checks.code_interpreter_runs(
        RunOutcome(run("completed"), "ok", tool_calls=(code_call("dynamic sessions POST code/execute: HTTP 401"),)),
        expected, 3)
    assert refused.status == FAIL and "Session Executor and Contributor" in refused.next_step
    skipped = checks.code_interpreter_runs(RunOutcome(run("completed"), "I think it is 42"), expected, 3)
    assert skipped.status == FAIL and "without calling code_interpreter" in skipped.detail
    failed = checks.code_interpreter_runs(
        RunOutcome(run("failed", last_error={"code": "rate_limit_exceeded", "message": "x"})), expected, 3)
    assert failed.status == FAIL and "quota" in failed.next_step


def test_office365_verdicts():
    assert checks.office365_connected("Connected", "").status == PASS
    assert checks.office365_connected(None, "").status == SKIP
    error = checks.office365_connected("Error", "https://portal.example/consent")
    assert error.status == FAIL and "https://portal.example/consent" in error.next_step and "Authorize" in error.next_step


def test_report_lists_every_check_and_next_steps_of_failures_only():
    results = [checks.Check("a", PASS, "fine", "unused"), checks.Check("b", FAIL, "broken", "fix it")]
    text = checks.render(results)
    assert "[PASS] a: fine" in text and "[FAIL] b: broken" in text and "next step: fix it" in text
    assert "unused" not in text
    assert checks.exit_code(results) == 1 and checks.exit_code(results[:1]) == 0


@pytest.mark.parametrize("endpoint, base", [
    ("https://func-x.azurewebsites.net", "https://func-x.azurewebsites.net/v1"),
    ("https://func-x.azurewebsites.net/v1/", "https://func-x.azurewebsites.net/v1"),
])
def test_endpoint_is_the_root_or_the_v1_url(endpoint, base):
    assert probes.api_base(endpoint) == base


def test_loopback_is_recognised():
    assert probes.is_loopback("http://127.0.0.1:7071") and probes.is_loopback("http://localhost:7071/v1")
    assert not probes.is_loopback("https://func-x.azurewebsites.net")


# --- the CLI against devhost (make run's host) --------------------------------------


def smoke_cli(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smoke", *args], input=stdin, capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=env)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pointed_at_devhost_every_check_that_applies_passes(devhost, scripted):
    marker = "Smoke test for code_interpreter"
    scripted.client.enqueue(
        reply_tool_calls([{"name": "code_interpreter", "arguments": {"code": probes.CODE}}], match=marker),
        reply_text("It printed the digest.", match=marker))

    key = keys.key_for(DEFAULT_PRINCIPAL)  # devhost is secured as deployed: keys only

    done = smoke_cli("--endpoint", devhost.root_url, "--model", "gpt-scripted", "--key", "-", stdin=key + "\n")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "[PASS] an unauthenticated call is refused (401)" in done.stdout
    assert "[PASS] the API key is accepted" in done.stdout
    assert key not in done.stdout + done.stderr
    assert "[PASS] a run completes against the model" in done.stdout
    assert f"[PASS] code_interpreter runs Python in the sandbox: the sandbox printed {probes.EXPECTED_OUTPUT}" in done.stdout
    assert "Smoke test passed." in done.stdout


# --- a deployment that refuses the key -----------------------------------------------


class _Refuses(BaseHTTPRequestHandler):
    """A stand-in deployment: every call gets 401 in OpenAI's envelope, whatever key it carries."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.keys.append(self.headers.get("api-key"))  # before answering: the next call may come at once
        body = json.dumps(ENVELOPE_401).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def refusing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    server.keys = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_wrong_key_is_reported_clearly(refusing_server):
    endpoint = f"http://127.0.0.1:{refusing_server.server_address[1]}"

    done = smoke_cli("--endpoint", endpoint, "--key", "-", stdin="sk-wrong\n")

    assert done.returncode == 1
    assert "[PASS] an unauthenticated call is refused (401)" in done.stdout
    assert "[FAIL] the API key is accepted: 401: Incorrect API key provided." in done.stdout
    assert "next step: The key is wrong or revoked" in done.stdout
    assert "sk-wrong" not in done.stdout + done.stderr  # the key never reaches the output
    assert refusing_server.keys == [None, "sk-wrong"]


@pytest.mark.skipif(sys.platform == "win32", reason="the sh hook")
def test_postdeploy_hook_reads_the_key_and_connection_status_and_reports(refusing_server, tmp_path):
    (tmp_path / "infra").mkdir()
    shutil.copytree(ROOT / "infra" / "hooks", tmp_path / "infra" / "hooks")
    shutil.copytree(ROOT / "smoke", tmp_path / "smoke")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A stand-in Azure CLI: the vault holds a key the deployment refuses; the connection is not authorized.
    (bin_dir / "az").write_text('#!/bin/sh\ncase "$1" in keyvault) echo "sk-from-vault";; resource) echo Error;; esac\n')
    (bin_dir / "az").chmod(0o755)
    (bin_dir / "python3").symlink_to(sys.executable)
    env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
           "API_BASE_URL": f"http://127.0.0.1:{refusing_server.server_address[1]}/v1",
           "AZURE_OPENAI_CHAT_DEPLOYMENT": "gpt-4.1-mini", "AZURE_KEYVAULT_NAME": "kv-x",
           "AZURE_RESOURCE_GROUP": "rg-dev", "OFFICE365_CONNECTION_NAME": "office365-x",
           "AZURE_TENANT_ID": "tenant", "AZURE_SUBSCRIPTION_ID": "sub"}

    done = subprocess.run(["sh", str(tmp_path / "infra" / "hooks" / "postdeploy.sh")], capture_output=True,
                          text=True, timeout=60, env=env)

    assert done.returncode == 1, done.stdout + done.stderr
    assert refusing_server.keys == [None, "sk-from-vault"]
    assert "[FAIL] the API key is accepted" in done.stdout
    assert "[FAIL] the Office 365 connection is authorized" in done.stdout
    assert "Microsoft.Web/connections/office365-x/edit" in done.stdout
