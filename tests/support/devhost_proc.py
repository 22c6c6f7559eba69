"""Run devhost as a child process for tests: start, wait until it serves, kill, restart."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PortTaken(Exception):
    """The free port chosen for a devhost was bound by another process before devhost could bind it."""


class DevhostProcess:
    """One devhost serving `app_dir` on a free port, with its output in a log file."""

    def __init__(self, app_dir: Path, env: dict[str, str], log_path: Path, route_prefix: str = "v1"):
        self.app_dir = app_dir
        self.route_prefix = route_prefix
        self.started = False  # once it has served, a restart keeps its port: clients hold its URL
        self._use_port(free_port())
        # The harness chooses devhost's system key, so tests and benchmarks can read the Durable API.
        self.system_key = secrets.token_urlsafe(32)
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
                    "DEVHOST_SYSTEM_KEY": self.system_key}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def _use_port(self, port: int) -> None:
        self.port = port
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/{self.route_prefix}" if self.route_prefix else self.root_url

    def start(self, timeout: float = 60.0) -> "DevhostProcess":
        for _ in range(3):
            try:
                return self._start(timeout)
            except PortTaken:  # another process bound the free port between its choice and devhost's bind
                self._use_port(free_port())
        return self._start(timeout)

    def _start(self, timeout: float) -> "DevhostProcess":
        log = open(self.log_path, "a", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devhost.run", "--app-dir", str(self.app_dir), "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if not self.started and f"{self.port}): address already in use" in self.log():
                    raise PortTaken(self.port)
                raise RuntimeError(f"devhost exited with {self.process.returncode}:\n{self.log()}")
            try:
                urllib.request.urlopen(self.durable_api("instances/"), timeout=2)
                self.started = True
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"devhost did not start within {timeout}s:\n{self.log()}")

    def durable_api(self, path: str) -> str:
        """The URL of a Durable HTTP API route (`instances/...`), with the system key."""
        joiner = "&" if "?" in path else "?"
        return f"{self.root_url}/runtime/webhooks/durabletask/{path}{joiner}code={self.system_key}"

    def purge(self, instance_id: str) -> None:
        """Terminate and purge an orchestration, as an operator (or a task hub reset) would."""
        for method, path in (("POST", f"instances/{instance_id}/terminate?reason=test"),
                             ("DELETE", f"instances/{instance_id}")):
            request = urllib.request.Request(self.durable_api(path), method=method)
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status in (200, 202), (method, path, response.status)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as when a machine dies."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> "DevhostProcess":
        self.kill()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""
