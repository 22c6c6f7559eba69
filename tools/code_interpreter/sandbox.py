"""The code interpreter's sandbox interface: what the run engine calls, whatever runs the code.

One `Sandbox` serves every thread. `execute(session_id, code, inputs)` runs `code` in the
session named `session_id` (the thread id): variables, imports and the files under /mnt/data
persist from call to call of one session, and no session sees another's. Two implementations:
`LocalSandbox` (a kernel process per session, isolated with bubblewrap; where bubblewrap cannot
run it refuses to run code unless the operator allowed unisolated execution) and `AcaSandbox`
(Azure Container Apps dynamic sessions). `sandbox_from_settings()` picks one from
CODE_INTERPRETER_SANDBOX and returns the process-wide instance, so sessions outlive activities.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Protocol

from core import settings

DATA_DIR = "/mnt/data"


@dataclass(frozen=True)
class SandboxFile:
    """A file coming out of /mnt/data (or a figure); `name` is a plain file name, no directories.

    `chunks()` yields its bytes piece by piece, from the session's disk or the sessions pool, so a
    file of hundreds of megabytes goes to Blob storage without ever being whole in memory."""

    name: str
    chunks: Callable[[], Iterator[bytes]]

    @classmethod
    def of_bytes(cls, name: str, data: bytes) -> "SandboxFile":
        return cls(name, lambda: iter((data,)))

    @property
    def data(self) -> bytes:
        """All of it at once: for figures and small files only."""
        return b"".join(self.chunks())


class SandboxUnavailable(RuntimeError):
    """The sandbox itself cannot work (e.g. a kernel does not start); not the code's fault."""


class InputUnavailable(Exception):
    """An input's bytes cannot be had (e.g. its file was deleted since the turn listed it)."""


@dataclass(frozen=True)
class InputFile:
    """A file going into /mnt/data/<name>, streamed, and only when the session lacks it.

    `key` names the content: two inputs with one key have the same bytes (a file id: files
    are immutable), so a session that already holds `key` unchanged under `name` is not sent
    it again. `open()` returns (size in bytes, the bytes as chunks); it is called at most once
    per call that writes the file, so a large file never sits whole in memory.
    """

    name: str
    key: str
    open: Callable[[], tuple[int, Iterable[bytes]]]

    @classmethod
    def of_bytes(cls, name: str, data: bytes) -> "InputFile":
        """An input from bytes already in memory (keyed by their digest)."""
        return cls(name, "sha256:" + hashlib.sha256(data).hexdigest(), lambda: (len(data), [data]))


@dataclass(frozen=True)
class Execution:
    """What one `execute` call produced.

    logs:   stdout and stderr interleaved as produced (the repr of a final expression included),
            capped at about 20,000 characters with a note where they were cut. A traceback is
            in `error`, not repeated here.
    error:  None when the code ran to the end; otherwise the traceback text, or
            "timed out after N s ..." / "killed: ..." when the sandbox stopped it.
    images: PNGs of matplotlib figures shown (`plt.show()`) or left open at the end, in order.
    files:  regular files directly under /mnt/data created or changed by this call, by name
            (inputs written for this call are not counted; nor are images unless the code saved
            them itself).
    """

    logs: str
    error: str | None
    images: list[SandboxFile] = field(default_factory=list)
    files: list[SandboxFile] = field(default_factory=list)


class Sandbox(Protocol):
    def execute(self, session_id: str, code: str, inputs: list[InputFile]) -> Execution:
        """Run `code` in the session; `inputs` are written to /mnt/data/<sanitized name> first.

        Thread-safe: calls on different sessions run concurrently, calls on one session in turn.
        Never raises for what the code does (that is `Execution.error`); raises only when the
        sandbox itself cannot work (e.g. the sessions service is unreachable).
        """

    def close(self) -> None:
        """End every session and release its processes and files."""


@dataclass(frozen=True)
class Limits:
    """What one session may use; the local sandbox enforces them all, ACA its pool's own."""

    timeout_seconds: float = 60.0  # wall clock per call
    memory_mb: int = 1024  # RLIMIT_AS of the session's Python process
    idle_seconds: float = 3600.0  # a session unused this long is discarded
    cpu_seconds: int = 900  # RLIMIT_CPU of every process in the session
    max_processes: int = 64  # RLIMIT_NPROC, counted in the session's own user namespace
    disk_mb: int = 2048  # the session's /mnt/data + /tmp; RLIMIT_FSIZE too

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            timeout_seconds=float(settings.get_int("CODE_INTERPRETER_TIMEOUT_SECONDS")),
            memory_mb=settings.get_int("CODE_INTERPRETER_MEMORY_MB"),
            idle_seconds=float(settings.get_int("CODE_INTERPRETER_IDLE_SECONDS")),
            cpu_seconds=settings.get_int("CODE_INTERPRETER_CPU_SECONDS"),
            max_processes=settings.get_int("CODE_INTERPRETER_MAX_PROCESSES"),
            disk_mb=settings.get_int("CODE_INTERPRETER_DISK_MB"),
        )
