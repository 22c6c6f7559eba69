"""A loopback HTTP server standing in for the external APIs the tools call (no internet in tests)."""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass, field

import pytest


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that gave up (a timeout test) is expected; say nothing."""


class StandIn:
    """Answers each path with the Reply set in `routes` (404 otherwise) and records the requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.received: list[dict] = []
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                stand_in.received.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers), "body": self.rfile.read(length)})
                reply = stand_in.routes.get(self.path) or stand_in.routes.get(self.path.split("?")[0]) \
                    or Reply(404, b'{"status":404,"message":"Not Found"}')
                time.sleep(reply.delay_seconds)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = _answer  # noqa: N815 (http.server's naming)

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in():
    server = StandIn()
    yield server
    server.close()
