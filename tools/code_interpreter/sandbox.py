"""The code interpreter's sandbox interface: what the run engine calls, whatever runs the code.

One `Sandbox` serves every thread. `execute(session_id, code, inputs)` runs `code` in the
session named `session_id` (the thread id): variables, imports and the files under /mnt/data
persist from call to call of one session, and no session sees another's. Two implementations:
`LocalSandbox` (a kernel process per session, isolated with bubblewrap where it can run) and
`AcaSandbox` (Azure Container Apps dynamic sessions). `sandbox_from_settings()` picks one from
CODE_INTERPRETER_SANDBOX and returns the process-wide instance, so sessions outlive activities.
"""

from __future__ import annotations

import atexit
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol

from core import settings

DATA_DIR = "/mnt/data"
MAX_NAME_BYTES = 255


@dataclass(frozen=True)
class SandboxFile:
    """A file going into or coming out of /mnt/data; `name` is a plain file name, no directories."""

    name: str
    data: bytes


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
    def execute(self, session_id: str, code: str, inputs: list[SandboxFile]) -> Execution:
        """Run `code` in the session; `inputs` are written to /mnt/data/<name> first.

        Thread-safe: calls on different sessions run concurrently, calls on one session in turn.
        Never raises for what the code does (that is `Execution.error`); raises only when the
        sandbox itself cannot work (e.g. the sessions service is unreachable).
        """

    def close(self) -> None:
        """End every session and release its processes and files."""


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_name(name: str) -> str:
    """A hostile or odd file name made into a plain name that stays inside /mnt/data.

    Keeps the last path component ("../../etc/passwd" → "passwd", "C:\\x\\a.csv" → "a.csv"),
    drops control characters, turns characters that are troublesome on some file system into
    "_", never returns "", "." or ".." and keeps the result within 255 UTF-8 bytes (extension
    preserved).
    """
    name = unicodedata.normalize("NFC", str(name))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    name = _UNSAFE.sub("_", name).strip()
    if name.strip(".") == "":  # "", ".", "..", "..."
        name = "file"
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        stem, dot, extension = name.rpartition(".")
        if not dot or len(extension.encode("utf-8")) > 16:
            stem, extension = name, ""
        room = MAX_NAME_BYTES - len(extension.encode("utf-8")) - (1 if extension else 0)
        stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
        name = f"{stem}.{extension}" if extension else stem
    return name


_shared: dict[str, Sandbox] = {}
_shared_lock = threading.Lock()


def sandbox_from_settings() -> Sandbox:
    """The process-wide sandbox that CODE_INTERPRETER_SANDBOX names ("local" | "aca").

    Created on first use and kept: a session's kernel and files live in it between tool calls.
    Limits come from CODE_INTERPRETER_TIMEOUT_SECONDS, CODE_INTERPRETER_MEMORY_MB and
    CODE_INTERPRETER_IDLE_SECONDS.
    """
    kind = (settings.get("CODE_INTERPRETER_SANDBOX") or "local").strip().lower()
    with _shared_lock:
        sandbox = _shared.get(kind)
        if sandbox is None:
            if kind == "local":
                from tools.code_interpreter.local import LocalSandbox

                sandbox = LocalSandbox()
            elif kind == "aca":
                from tools.code_interpreter.aca import AcaSandbox

                endpoint = settings.get("ACA_SESSION_POOL_ENDPOINT")
                if not endpoint:
                    raise ValueError("CODE_INTERPRETER_SANDBOX is 'aca' but ACA_SESSION_POOL_ENDPOINT is not set")
                sandbox = AcaSandbox(endpoint)
            else:
                raise ValueError(f"CODE_INTERPRETER_SANDBOX must be 'local' or 'aca', not {kind!r}")
            _shared[kind] = sandbox
            atexit.register(sandbox.close)
        return sandbox


def limits_from_settings() -> tuple[float, int, float]:
    """(timeout seconds per call, memory MB, idle seconds before a session is discarded)."""
    return (
        float(settings.get_int("CODE_INTERPRETER_TIMEOUT_SECONDS")),
        settings.get_int("CODE_INTERPRETER_MEMORY_MB"),
        float(settings.get_int("CODE_INTERPRETER_IDLE_SECONDS")),
    )
