"""A reverse proxy on loopback that forwards to a devhost and can answer in its place.

Stands in for what a real cloud endpoint does to a client and devhost does not:
throttling (429 + Retry-After), a wrong key (401), refusing a file's content.
`fault(method, path)` returns (status, headers, body) to answer instead, or None
to forward. Bodies are streamed both ways.
"""

from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit

Fault = Callable[[str, str], "tuple[int, dict, dict] | None"]
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def error_body(status: int, message: str, code: str | None = None) -> dict:
    kind = {401: "invalid_request_error", 429: "rate_limit_error"}.get(status, "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class FaultProxy:
    def __init__(self, upstream_root: str):
        upstream = urlsplit(upstream_root)
        self.fault: Fault = lambda method, path: None
        self.requests: list[tuple[str, str, int]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                answer = proxy.fault(self.command, self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if answer is not None:
                    self.rfile.read(length)
                    status, headers, body = answer
                    data = json.dumps(body).encode()
                    self.send_response(status)
                    for name, value in {**headers, "Content-Type": "application/json",
                                        "Content-Length": str(len(data))}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                    proxy.requests.append((self.command, self.path, status))
                    return
                connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
                connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in _HOP:
                        connection.putheader(name, value)
                connection.endheaders()
                remaining = length
                while remaining:
                    chunk = self.rfile.read(min(remaining, 1 << 16))
                    if not chunk:
                        break
                    connection.send(chunk)
                    remaining -= len(chunk)
                response = connection.getresponse()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in _HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.end_headers()
                while chunk := response.read(1 << 16):
                    self.wfile.write(chunk)
                connection.close()
                proxy.requests.append((self.command, self.path, response.status))

            do_GET = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.root_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
