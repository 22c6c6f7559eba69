"""The local sandbox: one persistent Python kernel process per session, on this machine.

Each session owns a directory on the host: `data/` is the session's /mnt/data and `tmp/` its
private /tmp. Its kernel (`kernel.py`) runs under bubblewrap where bwrap can run here: no network,
new user/pid/ipc/uts namespaces, the system and the Python installation read-only, only the
session's two directories writable, dying with us. Where bwrap cannot run (no user namespaces,
not installed) the kernel is a plain subprocess with the same limits, environment scrubbing and
working directory — contained by limits only, which a warning says once.

Limits: a wall-clock timeout per call (the kernel is killed and restarted; variables are lost,
files stay), an address-space limit (RLIMIT_AS, set by the kernel before any user code), capped
logs, at most MAX_OUTPUT_FILE_BYTES per returned file, and idle sessions are discarded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import selectors
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import base64
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core import settings
from tools.code_interpreter.sandbox import DATA_DIR, Execution, SandboxFile, limits_from_settings, safe_name

log = logging.getLogger(__name__)

KERNEL_SOURCE = Path(__file__).with_name("kernel.py")
KERNEL_IN_SANDBOX = "/opt/sandbox/kernel.py"
MAX_LOG_CHARS = 20_000
STARTUP_TIMEOUT_SECONDS = 30.0
MAX_SCANNED_ENTRIES = 10_000
MAX_REPLY_BYTES = 256 * 1024 * 1024  # a kernel claiming a bigger reply is treated as broken
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Only what programs need to run: the dynamic linker's cache, time zone, user names, fonts.
ETC_FILES = (
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
    "/etc/alternatives", "/etc/fonts", "/etc/mime.types", "/etc/passwd", "/etc/group",
    "/etc/nsswitch.conf",
)
SANDBOX_UID = 65534  # nobody, inside the sandbox's user namespace

_warned_unisolated = False


class SandboxUnavailable(RuntimeError):
    """The sandbox itself cannot work (the kernel does not start)."""


# ---------------------------------------------------------------- isolation: bubblewrap or not


def _python_dirs() -> list[str]:
    """Directories the kernel's interpreter needs: its installation, venv and site-packages."""
    dirs = {sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    dirs |= {p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p) and os.path.isdir(p)}
    dirs = {os.path.realpath(d) for d in dirs} | {os.path.abspath(d) for d in dirs}
    dirs = sorted(d for d in dirs if os.path.isdir(d) and d != "/")
    # drop what a shorter entry (or /usr, bound anyway) already covers
    kept: list[str] = []
    for d in dirs:
        if any(d == k or d.startswith(k.rstrip("/") + "/") for k in (*kept, "/usr")):
            continue
        kept.append(d)
    return kept


def _site_dirs() -> list[str]:
    return [p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p) and os.path.isdir(p)]


def _bwrap_prefix(data_dir: Path, tmp_dir: Path, switch_user: bool) -> list[str]:
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--hostname", "sandbox"]
    if switch_user:
        args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    # The private /tmp first: an app installed under /tmp (a CI checkout) must stay visible above it.
    args += ["--proc", "/proc", "--dev", "/dev", "--bind", str(tmp_dir), "/tmp"]
    for path in _python_dirs():
        args += ["--ro-bind", path, path]
    args += [
        "--bind", str(data_dir), DATA_DIR,
        "--ro-bind", str(KERNEL_SOURCE), KERNEL_IN_SANDBOX,
        "--chdir", DATA_DIR,
    ]
    return args


@lru_cache(maxsize=1)
def bwrap_mode() -> str | None:
    """How bubblewrap can run here: "user" (as nobody in a user namespace), "plain", or None."""
    if not shutil.which("bwrap"):
        return None
    with tempfile.TemporaryDirectory(prefix="bwrap-probe-") as probe:
        data, tmp = Path(probe, "data"), Path(probe, "tmp")
        data.mkdir()
        tmp.mkdir()
        for mode, switch_user in (("user", True), ("plain", False)):
            argv = _bwrap_prefix(data, tmp, switch_user) + [sys.executable, "-S", "-c", "pass"]
            try:
                done = subprocess.run(argv, env=_base_env(), capture_output=True, timeout=20)
            except (OSError, subprocess.SubprocessError):
                continue
            if done.returncode == 0:
                return mode
            log.info("bwrap probe (%s) failed: %s", mode, done.stderr.decode(errors="replace").strip())
    return None


def _base_env() -> dict[str, str]:
    """The whole environment a kernel gets: an allowlist, never the app's (secret) settings."""
    python_bin = os.path.dirname(sys.executable)
    return {
        "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(_site_dirs()),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        # one BLAS/OpenMP thread per session keeps memory per session small and predictable
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


# ---------------------------------------------------------------- matplotlib's font cache

_font_cache: dict[str, Path | None] = {}
_font_cache_lock = threading.Lock()


def _start_font_cache() -> None:
    """Build matplotlib's font list once per process (it takes seconds); sessions get a copy."""
    with _font_cache_lock:
        if "dir" in _font_cache:
            return
        _font_cache["dir"] = None

    def build() -> None:
        target = Path(tempfile.mkdtemp(prefix="ci-mplcache-"))
        env = {**_base_env(), "MPLCONFIGDIR": str(target), "HOME": str(target)}
        try:
            subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                           capture_output=True, timeout=120, cwd=target)
        except (OSError, subprocess.SubprocessError):
            return
        if any(target.glob("fontlist-*.json")):
            _font_cache["dir"] = target

    threading.Thread(target=build, name="mpl-font-cache", daemon=True).start()


def _seed_font_cache(mpl_dir: Path) -> None:
    source = _font_cache.get("dir")
    if source is None:
        return
    mpl_dir.mkdir(parents=True, exist_ok=True)
    for item in source.glob("fontlist-*.json"):
        shutil.copyfile(item, mpl_dir / item.name)


# ---------------------------------------------------------------- one kernel process


class _Timeout(Exception):
    pass


class _Died(Exception):
    pass


def _read_exact(fd: int, count: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise _Timeout()
            chunk = os.read(fd, min(count, 1 << 20))
            if not chunk:
                raise _Died()
            chunks.append(chunk)
            count -= len(chunk)
    return b"".join(chunks)


class _Kernel:
    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path):
        self._log_path = log_path
        with open(log_path, "ab") as kernel_log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=kernel_log,
                env=env, cwd=cwd, start_new_session=True, close_fds=True,
            )
        try:
            ready = self._receive(time.monotonic() + STARTUP_TIMEOUT_SECONDS)
        except (_Timeout, _Died):
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
            raise _Died()
        try:
            return json.loads(_read_exact(fd, size, deadline))
        except ValueError:
            raise _Died() from None

    def run(self, code: str, timeout: float) -> dict:
        data = json.dumps({"code": code}).encode("utf-8")
        try:
            self.process.stdin.write(struct.pack(">I", len(data)) + data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _Died() from None
        return self._receive(time.monotonic() + timeout)

    def exit_description(self) -> str:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        if code < 0:
            try:
                return f"signal {signal.Signals(-code).name}"
            except ValueError:
                return f"signal {-code}"
        # bwrap reports a killed child as 128 + signal
        if code > 128:
            try:
                return f"signal {signal.Signals(code - 128).name}"
            except ValueError:
                pass
        return f"exit code {code}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
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


# ---------------------------------------------------------------- sessions


@dataclass
class _Session:
    session_id: str
    home: Path
    lock: threading.Lock
    last_used: float
    kernel: _Kernel | None = None
    closed: bool = False

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def tmp_dir(self) -> Path:
        return self.home / "tmp"


def _snapshot(directory: Path) -> dict[str, tuple[int, int, int]]:
    """Regular files directly in `directory`: name → (size, mtime_ns, inode). Symlinks are ignored."""
    found: dict[str, tuple[int, int, int]] = {}
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
    return found


def _read_regular(path: Path, max_bytes: int) -> bytes | None:
    """The file's bytes, never following a symlink or blocking on a FIFO the code left there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(max_bytes + 1)[:max_bytes]
    finally:
        os.close(fd)


def _write_input(data_dir: Path, item: SandboxFile) -> str | None:
    """Write one input as /mnt/data/<safe name>; returns a note when it could not be written."""
    name = safe_name(item.name)
    target = data_dir / name
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            return f"[input {name!r} not written: /mnt/data/{name} is a directory]"
        if stat.S_ISREG(info.st_mode) and info.st_size == len(item.data):
            if _read_regular(target, len(item.data)) == item.data:
                return None  # identical file already there
    temporary = data_dir / f".upload-{os.urandom(6).hex()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(item.data)
    os.replace(temporary, target)  # replaces a symlink itself, never what it points to
    return None


class LocalSandbox:
    """A kernel process per session on this machine; see the module docstring.

    `isolation`: "auto" (bubblewrap when it can run here, else a plain subprocess), "bwrap"
    (required; SandboxUnavailable otherwise) or "none" (plain subprocess). Limits default to the
    CODE_INTERPRETER_* settings.
    """

    def __init__(
        self,
        *,
        root: str | Path | None = None,
        timeout_seconds: float | None = None,
        memory_mb: int | None = None,
        idle_seconds: float | None = None,
        isolation: str = "auto",
        max_log_chars: int = MAX_LOG_CHARS,
        max_file_bytes: int | None = None,
    ):
        default_timeout, default_memory, default_idle = limits_from_settings()
        self.timeout_seconds = float(timeout_seconds or default_timeout)
        self.memory_mb = int(memory_mb or default_memory)
        self.idle_seconds = float(idle_seconds or default_idle)
        self.max_log_chars = max_log_chars
        self.max_file_bytes = int(max_file_bytes or settings.get_int("MAX_UPLOAD_BYTES"))
        if isolation not in ("auto", "bwrap", "none"):
            raise ValueError("isolation must be 'auto', 'bwrap' or 'none'")
        mode = bwrap_mode() if isolation != "none" else None
        if isolation == "bwrap" and mode is None:
            raise SandboxUnavailable("bubblewrap (bwrap) is not installed or cannot create namespaces here")
        self.bwrap = mode  # "user" | "plain" | None
        if mode is None:
            _warn_unisolated("isolation='none' was asked for" if isolation == "none"
                             else "bubblewrap (bwrap) cannot run here")
        self._own_root = root is None
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="ci-sessions-"))
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        _start_font_cache()
        self._reaper = threading.Thread(target=self._reap_loop, name="ci-reaper", daemon=True)
        self._reaper.start()

    @property
    def isolated(self) -> bool:
        return self.bwrap is not None

    # -- the interface

    def execute(self, session_id: str, code: str, inputs: list[SandboxFile]) -> Execution:
        if self._closed.is_set():
            raise SandboxUnavailable("the sandbox is closed")
        while True:
            session = self._session(session_id)
            with session.lock:
                if session.closed:  # discarded as idle between lookup and lock: take a fresh one
                    continue
                try:
                    return self._execute(session, code, inputs)
                finally:
                    session.last_used = time.monotonic()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            with session.lock:
                self._discard(session)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- extras for tests, benchmarks and operators

    def session_rss_bytes(self, session_id: str) -> int:
        session = self._sessions.get(session_id)
        return session.kernel.rss_bytes() if session and session.kernel else 0

    def end_session(self, session_id: str) -> None:
        """Discard one session now (its kernel and its files)."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session:
            with session.lock:
                self._discard(session)

    # -- internals

    def _session(self, session_id: str) -> _Session:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                key = hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:32]
                home = self.root / key
                shutil.rmtree(home, ignore_errors=True)  # leftovers of an expired namesake
                (home / "data").mkdir(parents=True)
                (home / "tmp").mkdir()
                session = _Session(session_id, home, threading.Lock(), time.monotonic())
                self._sessions[session_id] = session
            return session

    def _start_kernel(self, session: _Session) -> _Kernel:
        env = _base_env()
        mpl_dir = session.tmp_dir / "matplotlib"
        _seed_font_cache(mpl_dir)
        if self.bwrap:
            env.update(HOME=DATA_DIR, TMPDIR="/tmp", MPLCONFIGDIR="/tmp/matplotlib")
            argv = _bwrap_prefix(session.data_dir, session.tmp_dir, self.bwrap == "user")
            argv += [sys.executable, "-B", "-s", KERNEL_IN_SANDBOX, "--data-dir", DATA_DIR]
        else:
            env.update(HOME=str(session.data_dir), TMPDIR=str(session.tmp_dir), MPLCONFIGDIR=str(mpl_dir))
            argv = [sys.executable, "-B", "-s", str(KERNEL_SOURCE), "--data-dir", str(session.data_dir)]
        argv += ["--memory-mb", str(self.memory_mb), "--max-log-chars", str(self.max_log_chars)]
        return _Kernel(argv, env, session.data_dir, session.home / "kernel.log")

    def _execute(self, session: _Session, code: str, inputs: list[SandboxFile]) -> Execution:
        notes = [note for item in inputs if (note := _write_input(session.data_dir, item))]
        before = _snapshot(session.data_dir)
        if session.kernel is None or not session.kernel.alive():
            if session.kernel is not None:
                session.kernel.kill()
            session.kernel = None
            session.kernel = self._start_kernel(session)
        kernel = session.kernel
        error = None
        try:
            reply = kernel.run(code, self.timeout_seconds)
        except _Timeout:
            kernel.kill()
            session.kernel = None
            reply = {"logs": "", "images": []}
            error = (
                f"timed out after {self.timeout_seconds:g} s: the code was stopped and the Python "
                "session restarted, so its variables and imports are lost (files in /mnt/data are kept)"
            )
        except _Died:
            how = kernel.exit_description()
            kernel.kill()
            session.kernel = None
            reply = {"logs": "", "images": []}
            error = (
                f"killed: the Python process ended ({how}), e.g. over the memory limit of "
                f"{self.memory_mb} MB; the session restarted, so its variables and imports are lost "
                "(files in /mnt/data are kept)"
            )
        logs = reply.get("logs", "")
        error = error or reply.get("error")
        images = [SandboxFile(f"image-{i + 1}.png", base64.b64decode(png))
                  for i, png in enumerate(reply.get("images", []))]
        files = []
        after = _snapshot(session.data_dir)
        for name in sorted(name for name, sig in after.items() if before.get(name) != sig):
            if name.startswith(".upload-"):
                continue
            data = _read_regular(session.data_dir / name, self.max_file_bytes)
            if data is None:
                notes.append(f"[/mnt/data/{name} not returned: larger than {self.max_file_bytes:,} bytes]")
                continue
            files.append(SandboxFile(name, data))
        if notes:
            logs = (logs + ("\n" if logs and not logs.endswith("\n") else "") + "\n".join(notes)).lstrip("\n")
        return Execution(logs=logs, error=error, images=images, files=files)

    def _discard(self, session: _Session) -> None:
        session.closed = True
        if session.kernel is not None:
            session.kernel.kill()
            session.kernel = None
        shutil.rmtree(session.home, ignore_errors=True)

    def _reap_loop(self) -> None:
        interval = max(0.05, min(60.0, self.idle_seconds / 4))
        while not self._closed.wait(interval):
            self.reap_idle()

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
                self._discard(session)
                count += 1
            finally:
                session.lock.release()
        return count


def _warn_unisolated(reason: str) -> None:
    global _warned_unisolated
    if not _warned_unisolated:
        _warned_unisolated = True
        log.warning(
            "code_interpreter: %s, so the local sandbox runs code in a plain subprocess: limits and a "
            "scrubbed environment, but no file system or network isolation. Install bubblewrap "
            "(apt-get install bubblewrap) or use CODE_INTERPRETER_SANDBOX=aca.", reason
        )
