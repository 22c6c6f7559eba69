"""A stand-in for an ACA dynamic sessions pool's data plane (Python code interpreter), on loopback.

It implements the documented requests of api-version 2024-02-02-preview — code/execute, files,
files/upload (multipart part "file"), files/content/{name} — and DELETE /session (2025-10-02-preview),
checks the bearer token, api-version and identifier, and answers in the documented shapes:
  execute → {"$id": "1", "properties": {"$id": "2", "status": "Success" | "Failure", "stdout",
             "stderr", "result", "executionTimeInMilliseconds"}}
  files   → {"$id": "1", "value": [{"$id": "2", "properties": {"$id": "3", "filename", "size",
             "lastModifiedTime"}}]}
Code runs in this process, one namespace and one directory (standing for /mnt/data) per identifier.
"""

from __future__ import annotations

import ast
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


class StandInPool:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="aca-standin-"))
        self.namespaces: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, query)
        self.deleted: list[str] = []
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
    def _reply(handler, status: int, body, content_type: str = "application/json") -> None:
        data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # -- the interpreter

    def _run(self, identifier: str, code: str) -> dict:
        namespace = self.namespaces.setdefault(identifier, {"__name__": "__main__"})
        code = code.replace("/mnt/data", str(self.data_dir(identifier)))
        stdout, stderr = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        status, result = "Success", ""
        with _exec_lock, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                tree = ast.parse(code)
                last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
                exec(compile(tree, "<code>", "exec"), namespace)
                if last is not None:
                    value = eval(compile(ast.Expression(last.value), "<code>", "eval"), namespace)
                    if value is not None:
                        try:
                            json.dumps(value)
                            result = value
                        except TypeError:
                            result = repr(value)
            except Exception:
                status = "Failure"
                traceback.print_exc(file=stderr)
        return {"status": status, "stdout": stdout.getvalue(), "stderr": stderr.getvalue(), "result": result,
                "executionTimeInMilliseconds": int((time.perf_counter() - started) * 1000)}
