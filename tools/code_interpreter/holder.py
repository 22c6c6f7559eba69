"""The host's side of a session's sandbox under bubblewrap (`launcher.py` runs inside it).

The sandbox lives as long as its session: its size-limited tmpfs is the session's disk, a hard
quota (a write past it fails at once, and nothing the code writes lands anywhere else), and
kernels are started in it and killed in it by its launcher, so a timeout or a crash costs the
Python state, never the files. The host reaches those files through a descriptor of the
sandbox's root, taken when it started and never re-resolved by pid.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import threading
import time
from pathlib import Path

from tools.code_interpreter.sandbox import SandboxUnavailable

LAUNCHER_SOURCE = Path(__file__).with_name("launcher.py")
LAUNCHER_IN_SANDBOX = "/opt/sandbox/launcher.py"
START_TIMEOUT_SECONDS = 30.0
ANSWER_TIMEOUT_SECONDS = 20.0
EXITED_WAIT_SECONDS = 0.02


class SandboxHolder:
    """A started sandbox whose launcher takes requests (SandboxUnavailable when it does not start)."""

    def __init__(self, bwrap_argv: list[str], python: str, env: dict[str, str], log_path: Path):
        """`bwrap_argv`: bubblewrap's command line up to the program it runs (`isolation.bwrap_argv`)."""
        host_end, sandbox_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        info_read, info_write = os.pipe()
        argv = [bwrap_argv[0], "--info-fd", str(info_write), *bwrap_argv[1:]]
        argv += [python, "-I", "-S", LAUNCHER_IN_SANDBOX, str(sandbox_end.fileno())]
        self._lock = threading.Lock()
        self._control = host_end
        self._control.settimeout(ANSWER_TIMEOUT_SECONDS)
        self._root_fd: int | None = None
        try:
            with open(log_path, "ab") as log:
                self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                                pass_fds=(sandbox_end.fileno(), info_write), start_new_session=True)
        finally:
            sandbox_end.close()
            os.close(info_write)
        try:
            self.launcher_pid = _child_pid(info_read, time.monotonic() + START_TIMEOUT_SECONDS)
            self._control.settimeout(START_TIMEOUT_SECONDS)
            if not json.loads(self._control.recv(1 << 16) or b"{}").get("ready"):
                raise ValueError(f"its launcher did not start; {log_path.read_text(errors='replace')[-2000:]}")
            self._control.settimeout(ANSWER_TIMEOUT_SECONDS)
            # only now is the sandbox's root in place (bubblewrap names its child before that)
            self._root_fd = os.open(f"/proc/{self.launcher_pid}/root", os.O_PATH | os.O_DIRECTORY)
        except (OSError, ValueError, TimeoutError) as error:
            self.close()
            raise SandboxUnavailable(f"the sandbox did not start: {error}") from None
        finally:
            os.close(info_read)

    def alive(self) -> bool:
        return self._root_fd is not None and self.process.poll() is None

    def open_dir(self, path: str) -> int:
        """A descriptor of a directory inside the sandbox (path relative to its root), never
        following a symlink the code may have put in its place."""
        if self._root_fd is None:
            raise FileNotFoundError(path)
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=self._root_fd)

    def start(self, argv: list[str], env: dict[str, str], log_path: Path) -> "HeldProcess":
        """A process started in the sandbox with fresh pipes for its stdin and stdout."""
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            pid = self._ask({"start": argv, "env": env}, [stdin_read, stdout_write, log_fd])["pid"]
        except BaseException:
            for fd in (stdin_write, stdout_read):
                os.close(fd)
            raise
        finally:
            for fd in (stdin_read, stdout_write, log_fd):
                os.close(fd)
        return HeldProcess(self, pid, os.fdopen(stdin_write, "wb"), os.fdopen(stdout_read, "rb"))

    def stop_processes(self) -> None:
        """Kill every process in the sandbox but its launcher; the files stay."""
        self._ask({"stop": True})

    def exit_code(self, sandbox_pid: int) -> int | None:
        return self._ask({"status": sandbox_pid})["exit"]

    def _ask(self, request: dict, fds: list[int] | None = None) -> dict:
        with self._lock:
            try:
                socket.send_fds(self._control, [json.dumps(request).encode("utf-8")], fds or [])
                answer = self._control.recv(1 << 16)
            except OSError as error:
                raise SandboxUnavailable(f"the sandbox stopped answering: {error}") from None
        if not answer:
            raise SandboxUnavailable("the sandbox ended")
        return json.loads(answer)

    def close(self) -> None:
        """End the sandbox: its processes and its files go with it."""
        self._control.close()
        try:
            os.killpg(self.process.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self._root_fd is not None:
            os.close(self._root_fd)
            self._root_fd = None


class HeldProcess:
    """A kernel started by a sandbox's launcher, shaped like the `subprocess.Popen` it replaces."""

    def __init__(self, holder: SandboxHolder, sandbox_pid: int, stdin, stdout):
        self.holder = holder
        self.sandbox_pid = sandbox_pid
        self.stdin, self.stdout = stdin, stdout
        self.pid = holder.launcher_pid  # the root of the tree a host-side count walks
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self.returncode = self.holder.exit_code(self.sandbox_pid)
            except SandboxUnavailable:
                self.returncode = -9
        return self.returncode

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout)
            time.sleep(EXITED_WAIT_SECONDS)
        return self.returncode if self.returncode is not None else -9

    def kill_tree(self) -> None:
        try:
            self.holder.stop_processes()
        except SandboxUnavailable:
            pass


def _child_pid(fd: int, deadline: float) -> int:
    """bubblewrap's --info-fd JSON names the sandbox's first process as seen from here."""
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"}" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise TimeoutError("bubblewrap gave no information in time")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise ValueError("bubblewrap ended before it started the sandbox")
            data += chunk
    return int(json.loads(data[: data.index(b"}") + 1])["child-pid"])
