"""Verdicts on what the smoke test observed: pure functions, each saying what to do next on failure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class Reply:
    """One HTTP exchange: status None means no HTTP answer at all (`error` says why)."""

    status: int | None
    body: Any = None
    error: str = ""


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    next_step: str = ""


@dataclass(frozen=True)
class RunOutcome:
    """A run as the probe last saw it: the run object, the assistant's reply, or the failed request."""

    run: dict | None = None
    reply_text: str = ""
    failed_request: Reply | None = None
    tool_calls: tuple[dict, ...] = ()


ROLE_PROPAGATION = ("Role assignments made by this deployment can take up to 10 minutes to apply; "
                    "wait, then run `azd hooks run postdeploy` again.")


def error_message(body: Any) -> str:
    """The message of OpenAI's error envelope, or the body as text."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))
    return body if isinstance(body, str) else json.dumps(body)[:300]


def is_error_envelope(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and {"message", "type", "param", "code"} <= set(error)


def unreachable(name: str, reply: Reply) -> Check:
    return Check(name, FAIL, f"no answer: {reply.error}",
                 "Check the endpoint (API_BASE_URL in `azd env get-values`) and that `azd deploy` finished; "
                 "a Flex Consumption app can take a minute to start after its first deployment.")


def refuses_strangers(reply: Reply, loopback: bool) -> Check:
    name = "an unauthenticated call is refused (401)"
    if reply.status is None:
        return unreachable(name, reply)
    if reply.status == 401 and is_error_envelope(reply.body):
        return Check(name, PASS, "401 in OpenAI's error envelope")
    if reply.status == 401:
        return Check(name, FAIL, f"401, but not in OpenAI's error envelope: {error_message(reply.body)[:200]}",
                     "The SDK cannot read this error; App Service Authentication may be answering instead "
                     "of the app (see docs/deploy-to-azure.md).")
    if reply.status < 300 and loopback:
        return Check(name, SKIP, f"HTTP {reply.status}: a local host (`make run`) serves loopback callers "
                                 "without a key")
    if reply.status < 300:
        return Check(name, FAIL, f"HTTP {reply.status}: the API served a caller without a key",
                     "Anyone with the URL can use your model quota: deploy the current version of the app, "
                     "which requires a key, and do not leave it running open.")
    if reply.status == 404:
        return Check(name, FAIL, "HTTP 404: nothing is served at this address",
                     "Point --endpoint at the app's root or its /v1 URL (API_BASE_URL in `azd env get-values`).")
    return Check(name, FAIL, f"HTTP {reply.status}: {error_message(reply.body)[:200]}",
                 "Look at the app's failures in Application Insights (portal → the appi-… resource → Failures).")


def accepts_key(reply: Reply | None, key_given: bool = True) -> Check:
    name = "the API key is accepted"
    if reply is None:
        return Check(name, SKIP, "no key given, so runs and code_interpreter were not checked",
                     "Pass --key (or set SMOKE_API_KEY for the azd hook) to check them.")
    if reply.status is None:
        return unreachable(name, reply)
    if reply.status == 200:
        return Check(name, PASS, "listing assistants with the key works" if key_given
                     else "no key needed: a local host serves loopback callers")
    if reply.status == 401:
        return Check(name, FAIL, f"401: {error_message(reply.body)[:200]}",
                     "The key is wrong or revoked: read the deployment's key again from Key Vault "
                     "(see docs/deploy-to-azure.md, \"Call the deployed API\") and pass it with --key.")
    return Check(name, FAIL, f"HTTP {reply.status}: {error_message(reply.body)[:200]}",
                 "Look at the app's failures in Application Insights (portal → the appi-… resource → Failures).")


def _failed_run(name: str, run: dict) -> Check:
    error = run.get("last_error") or {}
    code, message = error.get("code", ""), error.get("message", "")
    detail = f"run {run.get('status')}: {code} {message}".strip()
    lowered = message.lower()
    if code == "rate_limit_exceeded" or "quota" in lowered:
        step = ("The model deployment is out of quota: raise AZURE_OPENAI_CHAT_CAPACITY (`azd env set`, then "
                "`azd provision`) or request more quota for this region in the Azure AI Foundry portal.")
    elif any(word in lowered for word in ("401", "403", "permission", "unauthorized", "forbidden")):
        step = ROLE_PROPAGATION
    elif "deployment" in lowered and ("not found" in lowered or "does not exist" in lowered):
        step = ("The assistant's model must name a deployment: pass --model with AZURE_OPENAI_CHAT_DEPLOYMENT "
                "from `azd env get-values`.")
    else:
        step = "Look at the app's traces in Application Insights (portal → the appi-… resource → Transaction search)."
    return Check(name, FAIL, detail, step)


def run_completes(outcome: RunOutcome, waited_seconds: float) -> Check:
    name = "a run completes against the model"
    if outcome.failed_request is not None:
        reply = outcome.failed_request
        if reply.status is None:
            return unreachable(name, reply)
        return Check(name, FAIL, f"HTTP {reply.status}: {error_message(reply.body)[:200]}",
                     "Look at the app's failures in Application Insights (portal → the appi-… resource → Failures).")
    run = outcome.run or {}
    status = run.get("status")
    if status == "completed" and outcome.reply_text.strip():
        return Check(name, PASS, f"completed in {waited_seconds:.0f} s; the model said: {outcome.reply_text.strip()[:80]!r}")
    if status == "completed":
        return Check(name, FAIL, "the run completed without an assistant message",
                     "Look at the run's steps and the app's traces in Application Insights.")
    if status in ("failed", "expired", "incomplete", "cancelled"):
        return _failed_run(name, run)
    return Check(name, FAIL, f"still {status} after {waited_seconds:.0f} s",
                 "The first run after a deployment waits for a cold start: run the smoke test again in a minute. "
                 "If it stays queued, check the Functions host's errors in Application Insights.")


def _logs(call: dict) -> str:
    outputs = (call.get("code_interpreter") or {}).get("outputs") or []
    return "".join(output.get("logs", "") for output in outputs if output.get("type") == "logs")


def code_interpreter_runs(outcome: RunOutcome, expected_output: str, waited_seconds: float) -> Check:
    name = "code_interpreter runs Python in the sandbox"
    calls = [call for call in outcome.tool_calls if call.get("type") == "code_interpreter"]
    logs = "\n".join(_logs(call) for call in calls)
    if expected_output in logs:
        return Check(name, PASS, f"the sandbox printed {expected_output}")
    sandbox_refused = any(word in logs.lower() for word in ("401", "403", "unauthorized", "forbidden"))
    if sandbox_refused:
        return Check(name, FAIL, f"the sandbox refused the app: {logs.strip()[:200]}",
                     "The app's identity needs Azure ContainerApps Session Executor and Contributor on the "
                     "session pool (infra/app/rbac.bicep). " + ROLE_PROPAGATION)
    if calls:
        return Check(name, FAIL, f"the call ran but printed {logs.strip()[:200]!r}",
                     "Look at the session pool (ACA_SESSION_POOL_ENDPOINT) and the app's traces in Application Insights.")
    run_check = run_completes(outcome, waited_seconds)
    if run_check.status != PASS:
        return Check(name, FAIL, run_check.detail, run_check.next_step)
    return Check(name, FAIL, "the model answered without calling code_interpreter",
                 "Models occasionally skip the tool: run the smoke test again. If it keeps happening, check that "
                 "the chat deployment is a model that calls tools (gpt-4.1-mini does).")


def office365_connected(status: str | None, consent_url: str) -> Check:
    name = "the Office 365 connection is authorized (email and calendar tools)"
    if status is None:
        return Check(name, SKIP, "status not known (pass --office365-status, as the azd hook does)")
    if status.lower() == "connected":
        return Check(name, PASS, "Connected")
    where = f" Open {consent_url}," if consent_url else " Open the office365-… API connection in the portal,"
    return Check(name, FAIL, f"status {status}: the email and calendar tools will fail",
                 where + " choose \"Authorize\", sign in with the mailbox that should send, then \"Save\".")


MARKS = {PASS: "PASS", FAIL: "FAIL", SKIP: "skip"}


def render(checks: list[Check]) -> str:
    lines = []
    for check in checks:
        lines.append(f"[{MARKS[check.status]}] {check.name}: {check.detail}")
        if check.status == FAIL and check.next_step:
            lines.append(f"       next step: {check.next_step}")
    failed = sum(check.status == FAIL for check in checks)
    lines.append(f"{len(checks) - failed} of {len(checks)} checks did not fail." if failed
                 else "Smoke test passed.")
    return "\n".join(lines)


def exit_code(checks: list[Check]) -> int:
    return 1 if any(check.status == FAIL for check in checks) else 0
