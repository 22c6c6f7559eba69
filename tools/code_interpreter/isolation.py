"""How a local session's kernel is contained: bubblewrap's command line, whether it can run, and the choice.

Under bubblewrap a kernel has no network; new user, pid, ipc and uts namespaces; the system and
the Python installation read-only; writable only /mnt (/mnt/data, and /tmp as a folder of it) and
/dev/shm, size-limited tmpfs that together are the session's disk quota; and it dies with us. Without it the kernel would be a plain process
that can read the app's files and settings, so that runs only when the operator allowed it
(`choose` decides; CODE_INTERPRETER_ALLOW_UNISOLATED) — otherwise code_interpreter refuses.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tools.code_interpreter.holder import LAUNCHER_IN_SANDBOX, LAUNCHER_SOURCE
from tools.code_interpreter.sandbox import DATA_DIR

log = logging.getLogger(__name__)

KERNEL_SOURCE = Path(__file__).with_name("kernel.py")
KERNEL_IN_SANDBOX = "/opt/sandbox/kernel.py"
KERNEL_DISPLAY = Path(__file__).with_name("kernel_display.py")  # imported by the kernel, from beside it
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Only what programs need to run: the dynamic linker's cache, time zone, user names, fonts.
ETC_FILES = (
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
    "/etc/alternatives", "/etc/fonts", "/etc/mime.types", "/etc/passwd", "/etc/group",
    "/etc/nsswitch.conf",
)
SANDBOX_UID = 65534  # nobody, inside the sandbox's user namespace
TMP_IN_SANDBOX = "/mnt/.tmp"  # what the code sees as /tmp


@dataclass(frozen=True)
class Isolation:
    """How kernels run: "bwrap-user" (as nobody), "bwrap" (as us, in a user namespace), "none"
    (a plain process; only when allowed), or "refused" (no code runs); `reason` says why."""

    mode: str
    reason: str = ""

    @property
    def bwrap(self) -> bool:
        return self.mode in ("bwrap-user", "bwrap")

    @property
    def refused(self) -> bool:
        return self.mode == "refused"


def choose(requested: str, probed: str | None, allow_unisolated: bool) -> Isolation:
    """The isolation to use. `requested`: "auto" | "bwrap" (required) | "none" (explicitly none);
    `probed`: what `bwrap_mode()` found ("user" | "plain" | None)."""
    if requested not in ("auto", "bwrap", "none"):
        raise ValueError("isolation must be 'auto', 'bwrap' or 'none'")
    if requested == "none":
        return Isolation("none", "isolation='none' was asked for")
    if probed is not None:
        return Isolation("bwrap-user" if probed == "user" else "bwrap")
    reason = "bubblewrap (bwrap) is not installed or cannot create namespaces here"
    if requested == "auto" and allow_unisolated:
        return Isolation("none", reason + ", and CODE_INTERPRETER_ALLOW_UNISOLATED allows running without it")
    return Isolation("refused", reason)


def refusal_text(isolation: Isolation) -> str:
    """What the model and the run step read when code_interpreter will not run code here."""
    return (
        "code_interpreter is unavailable on this server: its sandbox cannot isolate code here ("
        f"{isolation.reason}), and it does not run code unisolated. The code was not run. "
        "An operator can install bubblewrap, use CODE_INTERPRETER_SANDBOX=aca, or accept the risk "
        "with CODE_INTERPRETER_ALLOW_UNISOLATED=true."
    )


def warn_unisolated(isolation: Isolation) -> None:
    log.warning(
        "code_interpreter: %s, so the local sandbox runs code in a plain subprocess: limits and a "
        "scrubbed environment, but no file system or network isolation (the code can read this app's "
        "files). Install bubblewrap (apt-get install bubblewrap) or use CODE_INTERPRETER_SANDBOX=aca.",
        isolation.reason,
    )


def site_dirs() -> list[str]:
    return [p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p) and os.path.isdir(p)]


def python_dirs() -> list[str]:
    """Directories the kernel's interpreter needs: its installation, venv and site-packages."""
    found = {sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    found |= set(site_dirs())
    found = {os.path.realpath(d) for d in found} | {os.path.abspath(d) for d in found}
    dirs = sorted(d for d in found if os.path.isdir(d) and d != "/")
    # drop what a shorter entry (or /usr, bound anyway) already covers
    kept: list[str] = []
    for d in dirs:
        if any(d == k or d.startswith(k.rstrip("/") + "/") for k in (*kept, "/usr")):
            continue
        kept.append(d)
    return kept


def base_env() -> dict[str, str]:
    """The whole environment a kernel gets: an allowlist, never the app's (secret) settings."""
    python_bin = os.path.dirname(sys.executable)
    return {
        "PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(site_dirs()),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        # one BLAS/OpenMP thread per session keeps memory per session small and predictable
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


SHM_MAX_BYTES = 64 * 1024 * 1024  # Docker's default /dev/shm


def disk_shares(disk_bytes: int) -> tuple[int, int]:
    """The session's disk split between its two tmpfs: (/mnt: data and tmp, /dev/shm). /dev/shm
    must be a mount of its own (bubblewrap's /dev makes it a directory); together they are the quota."""
    shm = min(SHM_MAX_BYTES, disk_bytes // 4)
    return disk_bytes - shm, shm


def bwrap_argv(bwrap: str, disk_bytes: int, switch_user: bool) -> list[str]:
    """bubblewrap's command line up to (not including) the program it runs: the launcher, as pid 1."""
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--hostname", "sandbox", "--as-pid-1"]
    if switch_user:
        args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    # Everything the code can write is in two size-limited tmpfs: a write past them fails at once.
    # /tmp is a folder of /mnt's (a relative link, so that an app installed under /tmp, a CI
    # checkout, is bound below it correctly), and comes before the Python directories for that.
    mnt_bytes, shm_bytes = disk_shares(disk_bytes)
    args += [
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(mnt_bytes), "--tmpfs", "/mnt", "--dir", DATA_DIR, "--dir", TMP_IN_SANDBOX,
        "--symlink", TMP_IN_SANDBOX.lstrip("/"), "/tmp",
        "--size", str(shm_bytes), "--tmpfs", "/dev/shm",
    ]
    for path in python_dirs():
        args += ["--ro-bind", path, path]
    args += [
        "--ro-bind", str(KERNEL_SOURCE), KERNEL_IN_SANDBOX,
        "--ro-bind", str(KERNEL_DISPLAY), str(Path(KERNEL_IN_SANDBOX).with_name(KERNEL_DISPLAY.name)),
        "--ro-bind", str(LAUNCHER_SOURCE), LAUNCHER_IN_SANDBOX,
        "--chdir", DATA_DIR,
        # bubblewrap's root and /dev are tmpfs in the host's RAM, outside the quota: read-only.
        "--remount-ro", "/dev", "--remount-ro", "/",
    ]
    return args


def bwrap_mode() -> str | None:
    """How the bubblewrap on PATH can run here: "user" (as nobody), "plain", or None."""
    found = shutil.which("bwrap")
    return _probe(found) if found else None


PROBE_DISK_BYTES = 4 * 1024 * 1024


@lru_cache(maxsize=4)
def _probe(bwrap: str) -> str | None:
    for mode, switch_user in (("user", True), ("plain", False)):
        argv = bwrap_argv(bwrap, PROBE_DISK_BYTES, switch_user) + [sys.executable, "-S", "-c", "pass"]
        try:
            done = subprocess.run(argv, env=base_env(), capture_output=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return mode
        log.info("bwrap probe (%s) failed: %s", mode, done.stderr.decode(errors="replace").strip())
    return None
