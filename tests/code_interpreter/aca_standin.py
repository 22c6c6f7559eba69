"""A stand-in for an ACA dynamic sessions pool's data plane (Python code interpreter), on loopback.

It implements the documented requests of api-version 2024-02-02-preview — code/execute, files,
files/upload (multipart part "file"), files/content/{name} — and DELETE /session (2025-10-02-preview),
checks the bearer token, api-version and identifier, and answers in the documented shapes:
  execute → {"$id": "1", "properties": {"$id": "2", "status": "Success" | "Failure", "stdout",
             "stderr", "result", "executionTimeInMilliseconds"}}
  files   → {"$id": "1", "value": [{"$id": "2", "properties": {"$id": "3", "filename", "size",
             "lastModifiedTime"}}]}
Code runs in this process in IPython (the pool's sessions are Jupyter kernels), one shell and one
directory (standing for /mnt/data) per identifier.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import threading
import time
import traceback
from datetime import datetime, timezone
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

TOKEN = "stand-in-token"
API_VERSION = "2024-02-02-preview"
DELETE_API_VERSION = "2025-10-02-preview"
_exec_lock = threading.Lock()  # redirect_stdout is process-wide: one execution at a time


def _pool_shell():
    """One session's IPython shell, shaped as the pool's kernel answers: no prompts, no tracebacks
    printed (the caller reports them), `!` output read and printed."""
    import subprocess

    from IPython.core.compilerop import CachingCompiler
    from IPython.core.displayhook import DisplayHook
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class CellNames(CachingCompiler):
        def get_code_name(self, raw_code, transformed_code, number):
            return f"<cell {number}>"

    class ResultHook(DisplayHook):  # the value goes to `result` (a kernel's execute_result), not stdout
        value = None

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            self.value = format_dict.get("text/plain")

    class PoolShell(InteractiveShell):
        compiler_class = CellNames
        displayhook_class = ResultHook

        def system(self, cmd):
            done = subprocess.run(cmd, shell=True, capture_output=True, text=True)
            print(done.stdout + done.stderr, end="")

        def showtraceback(self, *args, **kwargs):
            pass

        def showsyntaxerror(self, *args, **kwargs):
            pass

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    return PoolShell(config=config)


class StandInPool:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="aca-standin-"))
        self.namespaces: dict = {}  # identifier → its IPython shell
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, query)
        self.deleted: list[str] = []
        self.faults: dict[tuple[str, str], list[int]] = {}  # (method, path) → statuses to answer first
        pool = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                pool._handle(self, "GET")

            def do_POST(self):
                pool._handle(self, "POST")

            def do_DELETE(self):
                pool._handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/subscriptions/s/resourceGroups/r/sessionPools/p"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.root, ignore_errors=True)

    def data_dir(self, identifier: str) -> Path:
        path = self.root / identifier.replace("/", "_")
        path.mkdir(exist_ok=True)
        return path

    # -- HTTP

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        prefix = urlparse(self.endpoint).path
        path = url.path[len(prefix):].lstrip("/") if url.path.startswith(prefix) else None
        self.requests.append((method, path, query))
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(handler, 401, {"error": {"code": "Unauthorized", "message": "bad token"}})
        identifier = query.get("identifier")
        expected_version = DELETE_API_VERSION if path == "session" else API_VERSION
        if path is None or not identifier or query.get("api-version") != expected_version:
            return self._reply(handler, 400, {"error": {"code": "BadRequest", "message": f"bad request {url}"}})
        directory = self.data_dir(identifier)
        fault = self.faults.get((method, path))
        if fault:  # the service's own trouble, answered before the request is acted on
            status = fault.pop(0)
            return self._reply(handler, status, {"error": {"code": "Busy", "message": f"stand-in {status}"}},
                               headers={"Retry-After": "0"})
        if method == "POST" and path == "code/execute":
            request = json.loads(body)
            props = request.get("properties", {})
            if props.get("codeInputType") != "inline" or props.get("executionType") != "synchronous":
                return self._reply(handler, 400, {"error": {"code": "BadRequest", "message": "shape"}})
            return self._reply(handler, 200, {"$id": "1", "properties": {"$id": "2", **self._run(identifier, props["code"])}})
        if method == "GET" and path == "files":
            value = []
            for i, item in enumerate(sorted(directory.iterdir())):
                if item.is_file():
                    info = item.stat()
                    modified = datetime.fromtimestamp(info.st_mtime_ns / 1e9, timezone.utc).isoformat()
                    value.append({"$id": str(i + 2), "properties": {
                        "filename": item.name, "size": info.st_size, "lastModifiedTime": modified}})
            return self._reply(handler, 200, {"$id": "1", "value": value})
        if method == "GET" and path.startswith("files/content/"):
            item = directory / unquote(path[len("files/content/"):])
            if item.parent != directory or not item.is_file():
                return self._reply(handler, 404, {"error": {"code": "NotFound", "message": "no such file"}})
            return self._reply(handler, 200, item.read_bytes(), "application/octet-stream")
        if method == "POST" and path == "files/upload":
            content_type = handler.headers.get("Content-Type", "")
            if not content_type.startswith("multipart/form-data"):
                return self._reply(handler, 400, {"error": {"code": "BadRequest", "message": "multipart expected"}})
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + body)
            value = []
            for part in message.iter_parts():
                if part.get_param("name", header="content-disposition") != "file":
                    continue
                name = Path(part.get_filename()).name
                data = part.get_payload(decode=True)
                (directory / name).write_bytes(data)
                value.append({"properties": {"filename": name, "size": len(data)}})
            return self._reply(handler, 200, {"$id": "1", "value": value})
        if method == "DELETE" and path == "session":
            self.deleted.append(identifier)
            self.namespaces.pop(identifier, None)
            shutil.rmtree(directory, ignore_errors=True)
            return self._reply(handler, 204, None)
        return self._reply(handler, 404, {"error": {"code": "NotFound", "message": path}})

    @staticmethod
    def _reply(handler, status: int, body, content_type: str = "application/json", headers: dict | None = None) -> None:
        data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # -- the interpreter

    def _run(self, identifier: str, code: str) -> dict:
        """As a session's Jupyter kernel runs it: IPython, the last expression's value as `result`,
        `!` lines' output in stdout, a failure's traceback in stderr."""
        shell = self.namespaces.get(identifier) or self.namespaces.setdefault(identifier, _pool_shell())
        code = code.replace("/mnt/data", str(self.data_dir(identifier)))
        stdout, stderr = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        status, result = "Success", ""
        with _exec_lock, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            shell.displayhook.value = None
            outcome = shell.run_cell(code, store_history=True)
            failure = outcome.error_before_exec or outcome.error_in_exec
            if failure is not None:
                status = "Failure"
                frames = failure.__traceback__
                while frames is not None and not frames.tb_frame.f_code.co_filename.startswith("<cell"):
                    frames = frames.tb_next
                stderr.write("".join(traceback.format_exception(type(failure), failure, frames)))
            elif shell.displayhook.value is not None:
                result = shell.displayhook.value
        here = str(self.data_dir(identifier))
        unmap = lambda text: text.replace(here, "/mnt/data")  # noqa: E731 - the session sees /mnt/data
        result = unmap(result) if isinstance(result, str) else result
        return {"status": status, "stdout": unmap(stdout.getvalue()), "stderr": unmap(stderr.getvalue()),
                "result": result,
                "executionTimeInMilliseconds": int((time.perf_counter() - started) * 1000)}
