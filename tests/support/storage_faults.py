"""A storage fault proxy for tests: it sits between the app (and devhost's durable engine) and Azurite.

One listening port per service (blob, queue, table) forwards HTTP/1.1 to Azurite's port for it and, by a
seeded random schedule, misbehaves as a busy storage account does:

- `busy`     answers 503 ServerBusy itself (nothing forwarded);
- `timeout`  answers 500 OperationTimedOut itself (nothing forwarded);
- `delay`    waits a moment, then forwards;
- `reset`    resets the connection before forwarding (nothing reaches Azurite);
- `drop`     forwards a write, reads Azurite's answer, then resets the connection instead of answering:
             the write committed and the writer cannot know it. The case idempotent writes are for.

Error bodies are the services' own shapes (XML for blob and queue, OData JSON for table), so the SDKs
classify them as they would in Azure. Every injected fault is counted and logged (`faults`, `log_path`).
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Callable

from core.storage_connection import azurite_connection_string

SERVICES = ("Blob", "Queue", "Table")
KINDS = ("busy", "timeout", "delay", "reset", "drop")
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class FaultRates:
    """The chance of each fault per request (drop: per write)."""

    busy: float = 0.0
    timeout: float = 0.0
    delay: float = 0.0
    reset: float = 0.0
    drop: float = 0.0
    delay_seconds: tuple[float, float] = (0.05, 0.6)

    @classmethod
    def each(cls, rate: float) -> "FaultRates":
        return cls(busy=rate, timeout=rate, delay=rate, reset=rate, drop=rate)


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    head: bytes
    body: bytes  # exactly as received (chunked framing kept)


class _Closed(Exception):
    pass


def _take(sock: socket.socket, buffer: bytearray, size_of: Callable[[bytearray], int | None]) -> bytes:
    """Read until `size_of(buffer)` names how many leading bytes make the piece, then take them off."""
    while (size := size_of(buffer)) is None:
        data = sock.recv(65536)
        if not data:
            raise _Closed
        buffer += data
    piece = bytes(buffer[:size])
    del buffer[:size]
    return piece


def _through(marker: bytes) -> Callable[[bytearray], int | None]:
    return lambda buffer: buffer.index(marker) + len(marker) if marker in buffer else None


def _read_head(sock: socket.socket, buffer: bytearray) -> bytes:
    return _take(sock, buffer, _through(b"\r\n\r\n"))


def _read_exact(sock: socket.socket, buffer: bytearray, size: int) -> bytes:
    return _take(sock, buffer, lambda pending: size if len(pending) >= size else None)


def _read_line(sock: socket.socket, buffer: bytearray) -> bytes:
    return _take(sock, buffer, _through(b"\r\n"))


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines if line)}


def _read_body(sock: socket.socket, buffer: bytearray, headers: dict[str, str], until_close: bool) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            line = _read_line(sock, buffer)
            parts.append(line)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    trailer = _read_line(sock, buffer)
                    parts.append(trailer)
                    if trailer == b"\r\n":
                        return b"".join(parts)
            parts.append(_read_exact(sock, buffer, size + 2))
    if "content-length" in headers:
        return _read_exact(sock, buffer, int(headers["content-length"]))
    if until_close:
        data = bytearray(buffer)
        buffer.clear()
        while chunk := sock.recv(65536):
            data += chunk
        return bytes(data)
    return b""


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a load balancer dropping a connection does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class StorageFaultProxy:
    """Proxies Azurite's three services on ports of its own; `connection_string` points a process at it."""

    def __init__(self, upstream_ports: dict[str, int], rates: FaultRates, seed: int = 0,
                 log_path: Path | None = None):
        self.rates = rates
        self.upstream = dict(upstream_ports)
        self.faults: Counter[str] = Counter()
        self.requests = 0
        self.enabled = True
        self._random = random.Random(seed)
        self._planned: list[list] = []  # [kind, match, times left]: faults for chosen requests (`plan`)
        self._lock = threading.Lock()
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None
        self._listeners: dict[str, socket.socket] = {}
        self.ports: dict[str, int] = {}
        self._stopped = threading.Event()
        for service in SERVICES:
            listener = socket.create_server(("127.0.0.1", 0), backlog=256)
            self._listeners[service] = listener
            self.ports[service] = listener.getsockname()[1]
            threading.Thread(target=self._accept, args=(service, listener), daemon=True,
                             name=f"storage-faults-{service}").start()

    @property
    def connection_string(self) -> str:
        return azurite_connection_string(self.ports["Blob"], self.ports["Queue"], self.ports["Table"])

    def stop(self) -> None:
        self._stopped.set()
        for listener in self._listeners.values():
            listener.close()
        if self._log:
            self._log.close()
            self._log = None

    def summary(self) -> dict[str, int]:
        return {kind: self.faults.get(kind, 0) for kind in KINDS}

    def plan(self, kind: str, match, times: int = 1) -> None:
        """Inject `kind` into the next `times` requests for which `match(service, method, path)` holds,
        whatever the rates and even while `enabled` is off: a test's deterministic fault on one write."""
        if kind not in KINDS:
            raise ValueError(kind)
        with self._lock:
            self._planned.append([kind, match, times])

    def planned_left(self) -> int:
        with self._lock:
            return sum(times for _, _, times in self._planned)

    # -- the schedule ----------------------------------------------------------

    def _note(self, service: str, kind: str, request: _Request) -> None:
        self.faults[kind] += 1
        if self._log:
            self._log.write(f"{time.time():.3f} {service} {kind} {request.method} {request.path[:160]}\n")
            self._log.flush()

    def _decide(self, service: str, request: _Request) -> tuple[str | None, float]:
        with self._lock:
            self.requests += 1
            for planned in self._planned:
                kind, match, times = planned
                if times > 0 and not (kind == "drop" and request.method in _READS) \
                        and match(service, request.method, request.path):
                    planned[2] -= 1
                    self._note(service, kind, request)
                    return kind, sum(self.rates.delay_seconds) / 2
            if not self.enabled:
                return None, 0.0
            roll = self._random.random()
            pause = self._random.uniform(*self.rates.delay_seconds)
            edge = 0.0
            for kind in KINDS:
                rate = getattr(self.rates, kind)
                if kind == "drop" and request.method in _READS:
                    continue
                edge += rate
                if roll < edge:
                    self._note(service, kind, request)
                    return kind, pause
        return None, 0.0

    # -- the wire --------------------------------------------------------------

    def _accept(self, service: str, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(service, client), daemon=True).start()

    def _serve(self, service: str, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        upstream_buffer = bytearray()
        buffer = bytearray()
        try:
            while True:
                head = _read_head(client, buffer)
                request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
                headers = _headers(head)
                request = _Request(request_line[0].upper(), request_line[1] if len(request_line) > 1 else "/",
                                   head, _read_body(client, buffer, headers, until_close=False))
                kind, pause = self._decide(service, request)
                if kind == "reset":
                    _reset(client)
                    return
                if kind in ("busy", "timeout"):
                    client.sendall(self._error(service, request, kind))
                    continue
                if kind == "delay":
                    time.sleep(pause)
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream[service]), timeout=120)
                    upstream_buffer.clear()
                try:
                    response, keep = self._forward(upstream, upstream_buffer, request)
                except (_Closed, OSError):
                    upstream.close()
                    upstream = None
                    _reset(client)
                    return
                if not keep:
                    upstream.close()
                    upstream = None
                if kind == "drop":
                    _reset(client)
                    return
                client.sendall(response)
                if headers.get("connection", "").lower() == "close":
                    client.close()
                    return
        except (_Closed, OSError):
            try:
                client.close()
            except OSError:
                pass
        finally:
            if upstream is not None:
                upstream.close()

    @staticmethod
    def _forward(upstream: socket.socket, buffer: bytearray, request: _Request) -> tuple[bytes, bool]:
        upstream.sendall(request.head + request.body)
        head = _read_head(upstream, buffer)
        status = int(head.split(b" ", 2)[1])
        headers = _headers(head)
        no_body = request.method == "HEAD" or status in (204, 304) or 100 <= status < 200
        framed = "content-length" in headers or "chunked" in headers.get("transfer-encoding", "").lower()
        body = b"" if no_body else _read_body(upstream, buffer, headers, until_close=not framed)
        keep = framed or no_body
        keep = keep and headers.get("connection", "").lower() != "close"
        return head + body, keep

    @staticmethod
    def _error(service: str, request: _Request, kind: str) -> bytes:
        status, code, message = (503, "ServerBusy", "The server is currently unable to receive requests. "
                                 "Please retry your request.") if kind == "busy" else \
            (500, "OperationTimedOut", "Operation could not be completed within the specified time.")
        request_id = str(uuid.uuid4())
        detail = f"{message}\nRequestId:{request_id}\nTime:{time.strftime('%Y-%m-%dT%H:%M:%S.0000000Z', time.gmtime())}"
        if service == "Table":
            import json
            body = json.dumps({"odata.error": {"code": code, "message": {"lang": "en-US", "value": detail}}}).encode()
            content_type = "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"
        else:
            body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
                    f"<Message>{detail}</Message></Error>").encode()
            content_type = "application/xml"
        if request.method == "HEAD":
            body_out = b""
        else:
            body_out = body
        reason = "Server Busy" if status == 503 else "Operation Timed Out"
        head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                f"x-ms-error-code: {code}\r\nx-ms-request-id: {request_id}\r\nx-ms-version: 2021-12-02\r\n"
                f"Date: {formatdate(usegmt=True)}\r\n\r\n")
        return head.encode("latin-1") + body_out
