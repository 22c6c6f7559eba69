"""The host's side of one kernel (`kernel.py`): start it, send it a cell, read its reply, stop it.

The protocol is length-prefixed JSON on the kernel's stdin/stdout (a 4-byte big-endian length,
then that many bytes of UTF-8 JSON); `kernel.py` describes the messages. Every read has a
deadline, so a kernel that hangs or dies costs a bounded wait, never a stuck activity.
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


class KernelProcess:
    """A started kernel, ready for cells (SandboxUnavailable when it does not come up)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path):
        self._log_path = log_path
        with open(log_path, "ab") as kernel_log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=kernel_log,
                env=env, cwd=cwd, start_new_session=True, close_fds=True,
            )
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
        fd = self.process.stdout.fileno()
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
            self.process.stdin.write(frame({"code": code}))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise KernelDied() from None
        return self._receive(time.monotonic() + timeout)

    def exit_signal(self) -> signal.Signals | None:
        """The signal that ended the kernel, if one did (bwrap reports a killed child as 128 + n)."""
        code = self.exit_code()
        if code is None:
            return None
        number = -code if code < 0 else code - 128 if code > 128 else 0
        try:
            return signal.Signals(number) if number else None
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
        """SIGKILL the kernel's process group; safe from another thread while a cell runs."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        """Stop the kernel and release its pipes (bwrap's pid namespace takes every child along)."""
        self.stop_now()
        try:
            self.process.kill()
        except ProcessLookupError:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def tasks_exceed(self, limit: int) -> bool:
        """Whether the kernel's tree (bwrap's processes included) runs more than `limit` processes
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
        """Resident memory of the kernel and every process under it (bwrap included)."""
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
