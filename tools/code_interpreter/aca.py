"""The Azure sandbox: Azure Container Apps dynamic sessions (a PythonLTS code interpreter pool).

Each of our sessions is the pool's session `identifier=<session id>`; the pool keeps its Python
state and /mnt/data until it has been idle for the pool's cooldown period (infra/app/sessions.bicep).
Calls go to the pool management endpoint's data-plane REST API (api-version 2024-02-02-preview)
with an Entra token for https://dynamicsessions.io:

    POST {endpoint}/files/upload?identifier=..   multipart/form-data, part "file"
    GET  {endpoint}/files?identifier=..          {"value": [{"properties": {"filename", "size", "lastModifiedTime"}}]}
    GET  {endpoint}/files/content/{name}?identifier=..
    POST {endpoint}/code/execute?identifier=..   {"properties": {"codeInputType": "inline",
                                                   "executionType": "synchronous", "code": ...}}
         → {"properties": {"status", "stdout", "stderr", "result", "executionTimeInMilliseconds"}}

The newer response shape ({"status", "result": {"stdout", "stderr", "executionResult"}}) is read
as well. The service returns stdout and stderr separately, so `logs` is stdout then stderr.
Figures left open are fetched with a second, tiny execute when the code used matplotlib.

Requests go through azure-core's pipeline: its bearer-token policy (cached, refreshed before
expiry) and its retry policy (backoff, Retry-After, connection errors), except that a code
execution is retried only when the service says it did not start it (429), so code never runs twice.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from functools import partial
from typing import Any, Iterable, Iterator
from urllib.parse import quote

from azure.core import PipelineClient
from azure.core.exceptions import ServiceRequestError, ServiceResponseError, ServiceResponseTimeoutError
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy, UserAgentPolicy
from azure.core.rest import HttpRequest, HttpResponse

from core import settings
from tools.code_interpreter import workspace
from tools.code_interpreter.sandbox import Execution, InputFile, InputUnavailable, Limits, SandboxFile
from tools.code_interpreter.workspace import Workspace

API_VERSION = "2024-02-02-preview"
DELETE_API_VERSION = "2025-10-02-preview"  # the version that documents DELETE /session
SCOPE = "https://dynamicsessions.io/.default"
MAX_LOG_CHARS = 20_000
DOWNLOAD_CHUNK_BYTES = 4 * 1024 * 1024
_FIGURES_MARK = "<<code-interpreter-figures>>"
# Renders figures left open (as the local kernel does at the end of a call) and closes them.
_FIGURES_CODE = f"""
def _ci_collect_figures():
    import sys, io, base64, json
    pyplot = sys.modules.get("matplotlib.pyplot")
    found = []
    if pyplot is not None:
        for number in list(pyplot.get_fignums()):
            figure = pyplot.figure(number)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
            pyplot.close(figure)
            found.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
    print("{_FIGURES_MARK}" + json.dumps(found))
_ci_collect_figures()
del _ci_collect_figures
"""
_USES_PLOTS = re.compile(r"matplotlib|pyplot|plt\.|seaborn|\.plot\(|\.hist\(|\.imshow\(")
_TRACEBACK = "Traceback (most recent call last):"


class AcaError(RuntimeError):
    """The sessions service refused or failed a request (not the user's code failing)."""


class ExecutionTimeout(Exception):
    """The pool did not answer a code execution in time."""


class NoRepeatedExecution(RetryPolicy):
    """azure-core's retries, but a POST (a code execution, an upload) answered with an error only on
    429: the service did not take it. Its default retries a POST on 500/503/504 and on any answer with
    Retry-After, which could run the code a second time. (A POST that could not connect is retried:
    nothing was sent; one whose answer was lost is not: azure-core retries reads of GETs only.)"""

    def is_retry(self, settings, response):
        if response.http_request.method.upper() == "POST":  # whatever Retry-After says
            return bool(settings["total"]) and response.http_response.status_code == 429
        return super().is_retry(settings, response)


class AcaSandbox:
    """Sandbox on an ACA dynamic sessions pool; `credential` is any azure-core TokenCredential."""

    def __init__(
        self,
        endpoint: str,
        *,
        credential: Any = None,
        timeout_seconds: float | None = None,
        max_file_bytes: int | None = None,
    ):
        self.endpoint = endpoint.rstrip("/")
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(managed_identity_client_id=settings.get("AZURE_CLIENT_ID"))
        self.timeout_seconds = float(timeout_seconds or Limits.from_settings().timeout_seconds)
        self.max_file_bytes = int(max_file_bytes or settings.get_int("MAX_UPLOAD_BYTES"))
        self._client: PipelineClient = PipelineClient(self.endpoint, policies=[
            UserAgentPolicy(sdk_moniker="assistants-in-a-box-code-interpreter"),
            NoRepeatedExecution(retry_total=3, retry_backoff_factor=0.5, retry_backoff_max=8),
            BearerTokenCredentialPolicy(credential, SCOPE),
        ])
        # bearer tokens go over plain HTTP only to loopback (a stand-in of the pool), never elsewhere
        self._enforce_https = not self.endpoint.startswith(("http://127.0.0.1:", "http://localhost:"))
        # the service's own queueing and start-up on top of the code's time, before we give up
        self.http_margin_seconds = 15.0
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        # per session: the inputs we uploaded, and whether it has used matplotlib
        self._workspaces: dict[str, Workspace] = {}
        self._plots: set[str] = set()

    # -- the interface

    def execute(self, session_id: str, code: str, inputs: list[InputFile]) -> Execution:
        with self._lock_for(session_id):
            return self._execute(session_id, code, inputs)

    def close(self) -> None:
        self._client.close()

    # -- REST calls

    def _request(self, method: str, path: str, session_id: str, *, api_version: str = API_VERSION,
                 timeout: float = 30.0, stream: bool = False, raise_timeout: bool = False,
                 retry: bool = True, **body: Any) -> HttpResponse:
        request = HttpRequest(method, f"{self.endpoint}/{path}",
                              params={"api-version": api_version, "identifier": session_id}, **body)
        try:
            response = self._client.send_request(request, stream=stream, read_timeout=timeout,
                                                 connection_timeout=min(timeout, 30.0),
                                                 enforce_https=self._enforce_https,
                                                 **({} if retry else {"retry_total": 0}))
        except ServiceResponseTimeoutError as error:
            if raise_timeout:
                raise ExecutionTimeout() from error
            raise AcaError(f"dynamic sessions {method} {path} timed out after {timeout:g} s") from error
        except (ServiceRequestError, ServiceResponseError) as error:
            raise AcaError(f"dynamic sessions {method} {path} failed: {error}") from error
        if response.status_code >= 400:
            text = response.read()[:500].decode("utf-8", "replace")
            response.close()
            raise AcaError(f"dynamic sessions {method} {path}: HTTP {response.status_code} {text}")
        return response

    def _list(self, session_id: str) -> dict[str, tuple[Any, Any]]:
        body = self._request("GET", "files", session_id).json()
        found = {}
        for entry in body.get("value", []):
            props = entry.get("properties", entry)
            name = props.get("filename") or props.get("name")
            if not name or "/" in name.strip("/") or props.get("type") == "directory":
                continue
            found[name.strip("/")] = (props.get("size"), props.get("lastModifiedTime"))
        return found

    def _upload(self, session_id: str, item: InputFile, name: str) -> None:
        """POST the input as multipart/form-data, streamed from its chunks with a known length."""
        size, chunks = item.open()
        boundary = os.urandom(16).hex()
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode()  # sanitized: no quotes, no controls
        tail = f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
                   "Content-Length": str(len(head) + size + len(tail))}
        # not retried: its body is streamed from the input once
        self._request("POST", "files/upload", session_id, content=_framed(head, chunks, tail), headers=headers,
                      timeout=120.0, retry=False)

    def _download(self, session_id: str, name: str) -> Iterator[bytes]:
        """The file's content as the pool sends it, in pieces (never whole in memory)."""
        response = self._request("GET", f"files/content/{quote(name)}", session_id, timeout=120.0, stream=True)
        left = self.max_file_bytes
        try:
            for piece in response.iter_bytes(chunk_size=DOWNLOAD_CHUNK_BYTES):
                yield piece[:left]
                left -= len(piece)
                if left <= 0:
                    return
        finally:
            response.close()

    def _run(self, session_id: str, code: str) -> dict:
        body = {"properties": {"codeInputType": "inline", "executionType": "synchronous", "code": code}}
        response = self._request("POST", "code/execute", session_id, json=body, raise_timeout=True,
                                 timeout=self.timeout_seconds + self.http_margin_seconds)
        return response.json()

    def _delete_session(self, session_id: str) -> None:
        try:
            self._request("DELETE", "session", session_id, api_version=DELETE_API_VERSION)
        except AcaError:
            pass

    # -- one call

    def _lock_for(self, session_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(session_id, threading.Lock())

    def _execute(self, session_id: str, code: str, inputs: list[InputFile]) -> Execution:
        before = self._list(session_id)
        held = self._workspaces.setdefault(session_id, Workspace())
        notes, wrote = [], []
        for name, item in held.missing(inputs, before):
            try:
                self._upload(session_id, item, name)
            except InputUnavailable as unavailable:
                held.forget(name)
                notes.append(f"[input {name!r} not written: {unavailable}]")
                continue
            wrote.append((name, item.key))
        if wrote:
            before = self._list(session_id)
            for name, key in wrote:
                if name in before:
                    held.wrote(name, key, before[name])

        try:
            reply = self._run(session_id, code)
        except ExecutionTimeout:
            self._delete_session(session_id)
            self._workspaces.pop(session_id, None)
            return Execution(
                logs="",
                error=(f"timed out after {self.timeout_seconds:g} s: the code was stopped and the session "
                       "restarted, so its variables and files are lost"),
            )
        logs, error, pngs = _read_reply(reply)

        if _USES_PLOTS.search(code) or session_id in self._plots:
            self._plots.add(session_id)
            pngs += self._open_figures(session_id)

        files = []
        after = self._list(session_id)
        for name in workspace.changed(before, after):
            size = after[name][0]
            if isinstance(size, int) and size > self.max_file_bytes:
                notes.append(workspace.too_large(name, self.max_file_bytes))
                continue
            files.append(SandboxFile(name, partial(self._download, session_id, name)))
        logs = workspace.with_notes(logs, notes)
        images = [SandboxFile.of_bytes(f"image-{i + 1}.png", png) for i, png in enumerate(pngs)]
        return Execution(logs=logs, error=error, images=images, files=files)

    def _open_figures(self, session_id: str) -> list[bytes]:
        try:
            reply = self._run(session_id, _FIGURES_CODE)
        except ExecutionTimeout:
            return []
        stdout = _streams(reply)[0]
        for line in stdout.splitlines():
            if line.startswith(_FIGURES_MARK):
                try:
                    return [base64.b64decode(png) for png in json.loads(line[len(_FIGURES_MARK):])]
                except ValueError:
                    return []
        return []


def _framed(head: bytes, chunks: Iterable[bytes], tail: bytes) -> Iterator[bytes]:
    yield head
    yield from chunks
    yield tail


def _streams(reply: dict) -> tuple[str, str, Any, dict]:
    """(stdout, stderr, value of the last expression, properties) from either response shape."""
    props: dict = reply["properties"] if isinstance(reply.get("properties"), dict) else reply
    inner = props.get("result")
    if isinstance(inner, dict) and ("stdout" in inner or "executionResult" in inner):
        return inner.get("stdout") or "", inner.get("stderr") or "", inner.get("executionResult"), props
    return props.get("stdout") or "", props.get("stderr") or "", inner, props


def _read_reply(reply: dict) -> tuple[str, str | None, list[bytes]]:
    stdout, stderr, value, props = _streams(reply)
    images: list[bytes] = []
    if isinstance(value, dict) and value.get("type") == "image" and value.get("base64_data"):
        images.append(base64.b64decode(value["base64_data"]))
        value = None
    error = None
    status = str(props.get("status") or "").lower()
    if _TRACEBACK in stderr:
        at = stderr.index(_TRACEBACK)
        stderr, error = stderr[:at], stderr[at:].rstrip()
    if status in ("failure", "failed", "error") and error is None:
        failure = props.get("error") or {}
        if isinstance(failure, dict):
            failure = (failure.get("error") or failure).get("message") or failure
        error = (str(value) if value not in (None, "") else "") or stderr.strip() or str(failure) or "the code failed"
        if error == stderr.strip():
            stderr = ""
        value = None
    logs = stdout + stderr
    if value not in (None, ""):
        text = value if isinstance(value, str) else json.dumps(value)
        logs += ("" if not logs or logs.endswith("\n") else "\n") + text + "\n"
    if len(logs) > MAX_LOG_CHARS:
        head, tail = logs[: MAX_LOG_CHARS * 3 // 4], logs[-(MAX_LOG_CHARS // 4):]
        logs = f"{head}\n[... output truncated: {len(logs):,} characters in all ...]\n{tail}"
    return logs, error, images
