"""The local sandbox: one persistent Python kernel process per session, on this machine.

The parts: `sessions.py` (which sessions exist, their directories and lifetimes),
`isolation.py` (bubblewrap, or a refusal), `kernel_process.py` + `kernel.py` (the kernel and
its protocol), `workspace.py` (which inputs to write, which files to return — shared with ACA).
This module runs one call through them and enforces the limits:

- a wall-clock timeout per call (the kernel is killed and restarted: variables lost, files kept);
- under bubblewrap, the disk limit is a hard quota: everything the code can write is in the
  session's sandbox's size-limited tmpfs, so a write past it fails at once ("No space left on
  device") and the code goes on; the sandbox outlives kernel restarts, so the files do too;
- set by the kernel on itself before any user code, inherited by what it starts: address space
  (RLIMIT_AS), CPU time (RLIMIT_CPU), file size (RLIMIT_FSIZE: half the disk limit, so one big
  write fails with "File too large" and the code goes on) and, under bubblewrap, processes
  (RLIMIT_NPROC, counted in the session's own user namespace; not binding when the service runs
  as root);
- watched while a call runs: a session whose processes and threads exceed the limit is stopped,
  and so is an unisolated one whose files (/mnt/data + /tmp) exceed the disk limit — so one
  session's fork bomb or disk fill never starves another or the app;
- under bubblewrap no process the code started outlives its call;
- capped logs, at most `max_file_bytes` per returned file; idle sessions are discarded.

Inputs are streamed to /mnt/data in chunks (never whole in memory) and only when the session
lacks them.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import signal
import stat
import sys
import threading
from functools import partial
from pathlib import Path
from typing import Iterator

from core import settings
from tools.code_interpreter import fonts, workspace
from tools.code_interpreter.holder import SandboxHolder
from tools.code_interpreter.isolation import (
    KERNEL_IN_SANDBOX,
    KERNEL_SOURCE,
    TMP_IN_SANDBOX,
    Isolation,
    base_env,
    bwrap_argv,
    bwrap_mode,
    choose,
    refusal_text,
    warn_unisolated,
)
from tools.code_interpreter.kernel_process import KernelDied, KernelProcess, KernelTimeout
from tools.code_interpreter.sandbox import (
    DATA_DIR,
    Execution,
    InputFile,
    InputUnavailable,
    Limits,
    SandboxFile,
    SandboxUnavailable,
)
from tools.code_interpreter.sessions import Session, Sessions, disk_usage

__all__ = ["LocalSandbox", "SandboxUnavailable", "bwrap_mode"]

MAX_LOG_CHARS = 20_000
WATCH_SECONDS = 0.05
LAUNCHER_TASKS = 1  # the sandbox's launcher, in a kernel's tree
MAX_SCANNED_ENTRIES = 10_000
_LOST = "the session restarted, so its variables and imports are lost (files in /mnt/data are kept)"


class LocalSandbox:
    """A kernel process per session on this machine; see the module docstring.

    `isolation`: "auto" (bubblewrap; where it cannot run, code is refused unless
    `allow_unisolated`), "bwrap" (required: SandboxUnavailable otherwise) or "none" (a plain
    subprocess, explicitly). Limits default to the CODE_INTERPRETER_* settings; keyword
    arguments named like `Limits` fields override them.
    """

    def __init__(
        self,
        *,
        root: str | Path | None = None,
        isolation: str = "auto",
        allow_unisolated: bool = False,
        max_log_chars: int = MAX_LOG_CHARS,
        max_file_bytes: int | None = None,
        **limits,
    ):
        self.limits = dataclasses.replace(Limits.from_settings(), **{k: v for k, v in limits.items() if v})
        self.max_log_chars = max_log_chars
        self.max_file_bytes = int(max_file_bytes or settings.get_int("MAX_UPLOAD_BYTES"))
        self.isolation: Isolation = choose(isolation, bwrap_mode() if isolation != "none" else None,
                                           allow_unisolated)
        if self.isolation.refused and isolation == "bwrap":
            raise SandboxUnavailable(self.isolation.reason)
        if self.isolation.mode == "none":
            warn_unisolated(self.isolation)
        self._sessions = Sessions(root, self.limits.idle_seconds)
        self.root = self._sessions.root
        if not self.isolation.refused:
            fonts.start_building()

    timeout_seconds = property(lambda self: self.limits.timeout_seconds)
    memory_mb = property(lambda self: self.limits.memory_mb)
    idle_seconds = property(lambda self: self.limits.idle_seconds)

    @property
    def isolated(self) -> bool:
        return self.isolation.bwrap

    # -- the interface

    def execute(self, session_id: str, code: str, inputs: list[InputFile]) -> Execution:
        if self._sessions.closed:
            raise SandboxUnavailable("the sandbox is closed")
        if self.isolation.refused:
            return Execution(logs="", error=refusal_text(self.isolation))
        return self._sessions.call(session_id, lambda session: self._execute(session, code, inputs))

    def close(self) -> None:
        self._sessions.close()

    # -- extras for tests, benchmarks and operators

    def session_rss_bytes(self, session_id: str) -> int:
        session = self._sessions.get(session_id)
        return session.kernel.rss_bytes() if session and session.kernel else 0

    def end_session(self, session_id: str) -> None:
        """Discard one session now (its kernel and its files)."""
        self._sessions.end(session_id)

    def reap_idle(self) -> int:
        """Discard sessions idle longer than idle_seconds; returns how many went."""
        return self._sessions.reap_idle()

    # -- one call

    def _execute(self, session: Session, code: str, inputs: list[InputFile]) -> Execution:
        notes = self._ready_sandbox(session)
        notes += _write_inputs(session, inputs)
        before = _listing(session)
        if session.kernel is None or not session.kernel.alive():
            session.stop_kernel()
            session.kernel = self._start_kernel(session)
        reply, error = self._run(session, session.kernel, code)
        images = [SandboxFile.of_bytes(f"image-{i + 1}.png", base64.b64decode(png))
                  for i, png in enumerate(reply.get("images", []))]
        files = []
        for name in workspace.changed(before, _listing(session)):
            if not _is_regular_within(session, name, self.max_file_bytes):
                notes.append(workspace.too_large(name, self.max_file_bytes))
                continue
            files.append(SandboxFile(name, partial(_read_chunks, session, name, self.max_file_bytes)))
        logs = workspace.with_notes(reply.get("logs", ""), notes)
        return Execution(logs=logs, error=error or reply.get("error"), images=images, files=files)

    def _run(self, session: Session, kernel: KernelProcess, code: str) -> tuple[dict, str | None]:
        """The kernel's reply to the cell, or an empty one and why the kernel was stopped."""
        over: list[str] = []  # what the watcher stopped the kernel for
        done = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(session, kernel, done, over), name="ci-watch",
                                   daemon=True)
        watcher.start()
        try:
            return kernel.run(code, self.limits.timeout_seconds), None
        except KernelTimeout:
            reason = (f"timed out after {self.limits.timeout_seconds:g} s: the code was stopped and the Python "
                      "session restarted, so its variables and imports are lost (files in /mnt/data are kept)")
        except KernelDied:
            if over == ["disk"]:  # unisolated only: under bubblewrap the quota is hard
                reason = (f"stopped: the session's files (/mnt/data and /tmp) went over the disk limit of "
                          f"{self.limits.disk_mb} MB; {_LOST}; delete files to make room")
            elif over == ["processes"]:
                reason = (f"stopped: the code ran more than {self.limits.max_processes} processes and threads at "
                          f"once, the session's limit; {_LOST}")
            elif kernel.exit_signal() == signal.SIGXCPU:
                reason = (f"killed: the Python process used up its CPU-time limit of {self.limits.cpu_seconds} s; "
                          f"{_LOST}")
            else:
                reason = (f"killed: the Python process ended ({kernel.exit_description()}), e.g. over the memory "
                          f"limit of {self.limits.memory_mb} MB; {_LOST}")
        finally:
            done.set()
            watcher.join()
        kernel.kill()
        session.kernel = None
        return {"logs": "", "images": []}, reason

    def _watch(self, session: Session, kernel: KernelProcess, done: threading.Event, over: list[str]) -> None:
        """While a call runs: stop the kernel when its session outgrows its disk or process limit.

        The backstop for what rlimits cannot hold: RLIMIT_NPROC does not bind a service running as
        root; unisolated, RLIMIT_FSIZE bounds one file, not how many, and no quota holds the rest.
        Disk that inputs alone take past the limit is allowed there, but no growth beyond it.
        """
        watch_disk = not self.isolation.bwrap
        disk_budget = max(self.limits.disk_mb * 1024 * 1024, disk_usage(session.home)) if watch_disk else 0
        task_budget = self.limits.max_processes + (LAUNCHER_TASKS if self.isolation.bwrap else 0)
        while not done.wait(WATCH_SECONDS):
            if kernel.tasks_exceed(task_budget):
                over.append("processes")
            elif watch_disk and disk_usage(session.home) > disk_budget:
                over.append("disk")
            else:
                continue
            kernel.stop_now()
            return

    def _ready_sandbox(self, session: Session) -> list[str]:
        """Under bubblewrap: the session's sandbox, started now if it is not running (a sandbox
        that ended took its files along, which the notes say)."""
        if not self.isolation.bwrap or (session.holder is not None and session.holder.alive()):
            return []
        lost = session.holder is not None
        session.end_sandbox()
        session.workspace = workspace.Workspace()
        argv = bwrap_argv(shutil.which("bwrap") or "bwrap", self.limits.disk_mb * 1024 * 1024,
                          self.isolation.mode == "bwrap-user")
        session.holder = SandboxHolder(argv, sys.executable, base_env(), session.home / "kernel.log")
        return [f"[the session's sandbox ended, so files written in {DATA_DIR} before were lost]"] if lost else []

    def _start_kernel(self, session: Session) -> KernelProcess:
        env = base_env()
        limits = self.limits
        options = ["--memory-mb", str(limits.memory_mb), "--cpu-seconds", str(limits.cpu_seconds),
                   "--max-file-mb", str(max(1, limits.disk_mb // 2)), "--disk-mb", str(limits.disk_mb),
                   "--max-log-chars", str(self.max_log_chars)]
        log_path = session.home / "kernel.log"
        if session.holder is not None:
            # IPython's and matplotlib's folders in the session's /tmp, not in the user's /mnt/data (HOME)
            env.update(HOME=DATA_DIR, TMPDIR="/tmp", MPLCONFIGDIR="/tmp/matplotlib", IPYTHONDIR="/tmp/.ipython")
            _seed_fonts(session.holder)
            argv = [sys.executable, "-B", "-s", KERNEL_IN_SANDBOX, "--data-dir", DATA_DIR,
                    # only a user namespace of its own makes the count per session
                    "--max-processes", str(limits.max_processes), "--end-children", *options]
            return KernelProcess.start_held(session.holder, argv, env, log_path)
        mpl_dir = session.tmp_dir / "matplotlib"
        fonts.seed(mpl_dir)
        env.update(HOME=str(session.data_dir), TMPDIR=str(session.tmp_dir), MPLCONFIGDIR=str(mpl_dir),
                   IPYTHONDIR=str(session.tmp_dir / ".ipython"))
        argv = [sys.executable, "-B", "-s", str(KERNEL_SOURCE), "--data-dir", str(session.data_dir), *options]
        return KernelProcess.start_plain(argv, env, session.data_dir, log_path)


def _seed_fonts(holder: SandboxHolder) -> None:
    try:
        tmp = holder.open_dir(TMP_IN_SANDBOX.lstrip("/"))
    except OSError:
        return
    try:
        fonts.seed_into(tmp, "matplotlib")
    finally:
        os.close(tmp)


# ---------------------------------------------------------------- the session's /mnt/data
# Every access goes through a descriptor of the directory and names within it, never following a
# symlink: under bubblewrap the code owns the whole tree and may have put anything anywhere.


def _listing(session: Session) -> dict[str, tuple[int, int, int]]:
    """Regular files directly in /mnt/data: name → (size, mtime_ns, inode). Symlinks are ignored."""
    found: dict[str, tuple[int, int, int]] = {}
    try:
        directory = session.open_data()
    except OSError:
        return found
    try:
        with os.scandir(directory) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_SCANNED_ENTRIES:
                    break
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    found[entry.name] = (info.st_size, info.st_mtime_ns, info.st_ino)
    except OSError:
        pass
    finally:
        os.close(directory)
    return found


READ_CHUNK_BYTES = 4 * 1024 * 1024


def _open_regular(session: Session, name: str) -> int | None:
    """A descriptor of the file, never following a symlink or blocking on a FIFO the code left there."""
    try:
        directory = session.open_data()
    except OSError:
        return None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    except OSError:
        return None
    finally:
        os.close(directory)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _is_regular_within(session: Session, name: str, max_bytes: int) -> bool:
    fd = _open_regular(session, name)
    if fd is None:
        return False
    try:
        return os.fstat(fd).st_size <= max_bytes
    finally:
        os.close(fd)


def _read_chunks(session: Session, name: str, max_bytes: int) -> Iterator[bytes]:
    """The file's bytes in pieces of READ_CHUNK_BYTES, at most `max_bytes` (it may grow meanwhile)."""
    fd = _open_regular(session, name)
    if fd is None:
        return
    try:
        left = max_bytes
        while left > 0:
            piece = os.read(fd, min(READ_CHUNK_BYTES, left))
            if not piece:
                return
            left -= len(piece)
            yield piece
    finally:
        os.close(fd)


def _write_inputs(session: Session, inputs: list[InputFile]) -> list[str]:
    """Stream the inputs the session lacks into /mnt/data; notes on those that could not be written."""
    missing = session.workspace.missing(inputs, _listing(session))
    if not missing:
        return []
    try:
        directory = session.open_data()
    except OSError as error:
        return [f"[input {name!r} not written: {DATA_DIR} cannot be opened ({error.strerror})]" for name, _ in missing]
    try:
        return [note for name, item in missing if (note := _write_input(session, directory, name, item))]
    finally:
        os.close(directory)


def _write_input(session: Session, directory: int, name: str, item: InputFile) -> str | None:
    """One input into the open /mnt/data; a note when it could not be written."""
    try:
        if stat.S_ISDIR(os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode):
            return f"[input {name!r} not written: {DATA_DIR}/{name} is a directory]"
    except FileNotFoundError:
        pass
    try:
        _stream_to(directory, name, item)
    except InputUnavailable as error:
        session.workspace.forget(name)
        return f"[input {name!r} not written: {error}]"
    except OSError as error:  # the session's disk is full
        session.workspace.forget(name)
        return f"[input {name!r} not written: {error.strerror}]"
    info = os.stat(name, dir_fd=directory, follow_symlinks=False)
    session.workspace.wrote(name, item.key, (info.st_size, info.st_mtime_ns, info.st_ino))
    return None


def _stream_to(directory: int, name: str, item: InputFile) -> None:
    """Write the input's chunks to a new file, then put it in place of whatever `name` was."""
    temporary = f"{workspace.SCRATCH_PREFIX}{os.urandom(6).hex()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            _, chunks = item.open()
            for chunk in chunks:
                handle.write(chunk)
        # replaces a symlink itself, never what it points to
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=directory)
        except OSError:
            pass
        raise
