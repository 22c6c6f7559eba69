"""The host's side of one kernel (`kernel.py`): start it, send it a cell, read its reply, stop it.

The protocol is length-prefixed JSON on the kernel's stdin/stdout (a 4-byte big-endian length,
then that many bytes of UTF-8 JSON); `kernel.py` describes the messages. Every read has a
deadline, so a kernel that hangs or dies costs a bounded wait, never a stuck activity.

A kernel runs as a plain subprocess (`start_plain`) or inside its session's sandbox, started by
the sandbox's launcher (`holder.SandboxHolder.start`); both look alike from here.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import struct
import subprocess
import time
from pathlib import Path

from tools.code_interpreter.holder import HeldProcess, SandboxHolder
from tools.code_interpreter.sandbox import SandboxUnavailable

STARTUP_TIMEOUT_SECONDS = 30.0
MAX_REPLY_BYTES = 256 * 1024 * 1024  # a kernel claiming a bigger reply is treated as broken


class KernelTimeout(Exception):
    """The kernel did not answer before the deadline."""


class KernelDied(Exception):
    """The kernel's process ended, or it broke the protocol."""


def _read_exact(fd: int, count: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise KernelTimeout()
            chunk = os.read(fd, min(count, 1 << 20))
            if not chunk:
                raise KernelDied()
            chunks.append(chunk)
            count -= len(chunk)
    return b"".join(chunks)


def frame(message: dict) -> bytes:
    data = json.dumps(message).encode("utf-8")
    return struct.pack(">I", len(data)) + data


class PlainProcess(subprocess.Popen):
    """A kernel started directly by us, in a process group of its own."""

    def kill_tree(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.kill()
        except ProcessLookupError:
            pass


class KernelProcess:
    """A started kernel, ready for cells (SandboxUnavailable when it does not come up)."""

    @classmethod
    def start_plain(cls, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path) -> "KernelProcess":
        with open(log_path, "ab") as kernel_log:
            process = PlainProcess(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=kernel_log,
                                   env=env, cwd=cwd, start_new_session=True, close_fds=True)
        return cls(process, log_path)

    @classmethod
    def start_held(cls, holder: SandboxHolder, argv: list[str], env: dict[str, str],
                   log_path: Path) -> "KernelProcess":
        return cls(holder.start(argv, env, log_path), log_path)

    def __init__(self, process: PlainProcess | HeldProcess, log_path: Path):
        self._log_path = log_path
        self.process = process
        if process.stdin is None or process.stdout is None:
            raise SandboxUnavailable("the Python kernel was started without its pipes")
        self._stdin, self._stdout = process.stdin, process.stdout
        try:
            ready = self._receive(time.monotonic() + STARTUP_TIMEOUT_SECONDS)
        except (KernelTimeout, KernelDied):
            self.kill()
            raise SandboxUnavailable(f"the Python kernel did not start: {self.startup_log()}") from None
        if not ready.get("ready"):
            self.kill()
            raise SandboxUnavailable(f"the Python kernel did not start: {ready}")

    def startup_log(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")[-2000:].strip() or "(no output)"
        except OSError:
            return "(no output)"

    def _receive(self, deadline: float) -> dict:
        fd = self._stdout.fileno()
        size = struct.unpack(">I", _read_exact(fd, 4, deadline))[0]
        if size > MAX_REPLY_BYTES:
            raise KernelDied()
        try:
            return json.loads(_read_exact(fd, size, deadline))
        except ValueError:
            raise KernelDied() from None

    def run(self, code: str, timeout: float) -> dict:
        """Run one cell; its reply, or KernelTimeout / KernelDied."""
        try:
            self._stdin.write(frame({"code": code}))
            self._stdin.flush()
        except (BrokenPipeError, OSError):
            raise KernelDied() from None
        return self._receive(time.monotonic() + timeout)

    def exit_signal(self) -> signal.Signals | None:
        """The signal that ended the kernel, if one did."""
        code = self.exit_code()
        if code is None or code >= 0:
            return None
        try:
            return signal.Signals(-code)
        except ValueError:
            return None

    def exit_code(self) -> int | None:
        try:
            return self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def exit_description(self) -> str:
        code = self.exit_code()
        if code is None:
            return "it stopped answering"
        ended_by = self.exit_signal()
        if ended_by is not None:
            return f"signal {ended_by.name}"
        return f"signal {-code}" if code < 0 else f"exit code {code}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop_now(self) -> None:
        """SIGKILL the kernel and every process it started; safe from another thread while a cell runs."""
        self.process.kill_tree()

    def kill(self) -> None:
        """Stop the kernel and everything it started, and release its pipes."""
        self.stop_now()
        for stream in (self._stdin, self._stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def tasks_exceed(self, limit: int) -> bool:
        """Whether the kernel's tree (a sandbox's launcher included) runs more than `limit` processes
        and threads; stops counting there, so a tree that grows faster than it is read still ends."""
        total, pending = 0, [self.process.pid]
        while pending and total <= limit:
            pid = pending.pop()
            try:
                threads = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            total += len(threads)
            for thread in threads:
                try:
                    with open(f"/proc/{pid}/task/{thread}/children") as children:
                        pending += [int(c) for c in children.read().split()]
                except (OSError, ValueError):
                    continue
        return total > limit

    def rss_bytes(self) -> int:
        """Resident memory of the kernel and every process under it (a sandbox's launcher included)."""
        total, pending = 0, [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
                with open(f"/proc/{pid}/task/{pid}/children") as children:
                    pending += [int(c) for c in children.read().split()]
            except (OSError, ValueError):
                continue
        return total
