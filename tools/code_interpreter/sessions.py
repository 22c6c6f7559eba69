"""The local sandbox's sessions: one per thread, each a directory and (while in use) a kernel.

A session owns `<root>/<sha256 of its id>/`: its kernel's log and, where it runs unisolated,
`data/` (its /mnt/data) and `tmp/` (its /tmp); under bubblewrap its files are in its sandbox
(`holder`), which lives as long as the session. Calls on one session run in turn (its lock), on different sessions at once.
A session unused for `idle_seconds` is discarded — kernel stopped, files removed — by a
reaper thread; a call that finds its session discarded under it starts a fresh one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

from tools.code_interpreter.holder import SandboxHolder
from tools.code_interpreter.kernel_process import KernelProcess
from tools.code_interpreter.sandbox import DATA_DIR
from tools.code_interpreter.workspace import Workspace

T = TypeVar("T")
MAX_SCANNED_ENTRIES = 100_000


@dataclass
class Session:
    session_id: str
    home: Path
    lock: threading.Lock
    last_used: float
    kernel: KernelProcess | None = None
    holder: SandboxHolder | None = None
    workspace: Workspace = field(default_factory=Workspace)
    closed: bool = False

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def tmp_dir(self) -> Path:
        return self.home / "tmp"

    def open_data(self) -> int:
        """A descriptor of the session's /mnt/data (in its sandbox, or on this machine's disk),
        never following a symlink the code put in its place; the caller closes it."""
        if self.holder is not None:
            return self.holder.open_dir(DATA_DIR.lstrip("/"))
        return os.open(self.data_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)

    def stop_kernel(self) -> None:
        if self.kernel is not None:
            self.kernel.kill()
            self.kernel = None

    def end_sandbox(self) -> None:
        """Stop the kernel and end the sandbox, its files with it."""
        self.stop_kernel()
        if self.holder is not None:
            self.holder.close()
            self.holder = None


class Sessions:
    """The registry: find-or-create by id, run a call under the session's lock, expire idle ones."""

    def __init__(self, root: str | Path | None, idle_seconds: float):
        self.idle_seconds = idle_seconds
        self._own_root = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="ci-sessions-"))
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="ci-reaper", daemon=True)
        self._reaper.start()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def call(self, session_id: str, work: Callable[[Session], T]) -> T:
        """`work(session)` under the session's lock, with a live (not discarded) session."""
        while True:
            session = self._find_or_create(session_id)
            with session.lock:
                if session.closed:  # discarded as idle between lookup and lock: take a fresh one
                    continue
                try:
                    return work(session)
                finally:
                    session.last_used = time.monotonic()

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def end(self, session_id: str) -> None:
        """Discard one session now (its kernel and its files)."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session:
            with session.lock:
                _discard(session)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            with session.lock:
                _discard(session)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def reap_idle(self) -> int:
        """Discard sessions idle longer than idle_seconds; returns how many went."""
        now = time.monotonic()
        with self._lock:
            idle = [s for s in self._sessions.values() if now - s.last_used > self.idle_seconds]
        count = 0
        for session in idle:
            if not session.lock.acquire(blocking=False):
                continue  # running right now: not idle
            try:
                if time.monotonic() - session.last_used <= self.idle_seconds or session.closed:
                    continue
                with self._lock:
                    if self._sessions.get(session.session_id) is session:
                        del self._sessions[session.session_id]
                _discard(session)
                count += 1
            finally:
                session.lock.release()
        return count

    def _find_or_create(self, session_id: str) -> Session:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                key = hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:32]
                home = self.root / key
                shutil.rmtree(home, ignore_errors=True)  # leftovers of an expired namesake
                (home / "data").mkdir(parents=True)
                (home / "tmp").mkdir()
                session = Session(session_id, home, threading.Lock(), time.monotonic())
                self._sessions[session_id] = session
            return session

    def _reap_loop(self) -> None:
        interval = max(0.05, min(60.0, self.idle_seconds / 4))
        while not self._closed.wait(interval):
            self.reap_idle()


def _discard(session: Session) -> None:
    session.closed = True
    session.end_sandbox()
    shutil.rmtree(session.home, ignore_errors=True)


def disk_usage(directory: Path) -> int:
    """Bytes of disk the files under `directory` take (allocated blocks, so sparse files count
    what they use); a tree of more than MAX_SCANNED_ENTRIES entries counts as unbounded."""
    total, entries, pending = 0, 0, [str(directory)]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                for entry in listing:
                    entries += 1
                    if entries > MAX_SCANNED_ENTRIES:
                        return 1 << 62
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        pending.append(entry.path)
        except OSError:
            continue
    return total
