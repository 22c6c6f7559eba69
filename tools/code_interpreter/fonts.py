"""matplotlib's font list, built once per process (it takes seconds) and copied into each session."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tools.code_interpreter.isolation import base_env

_built: dict[str, Path | None] = {}
_lock = threading.Lock()


def start_building() -> None:
    """Build the font list in the background, once; sessions started before it is ready build their own."""
    with _lock:
        if "dir" in _built:
            return
        _built["dir"] = None

    def build() -> None:
        target = Path(tempfile.mkdtemp(prefix="ci-mplcache-"))
        env = {**base_env(), "MPLCONFIGDIR": str(target), "HOME": str(target)}
        try:
            subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                           capture_output=True, timeout=120, cwd=target)
        except (OSError, subprocess.SubprocessError):
            return
        if any(target.glob("fontlist-*.json")):
            _built["dir"] = target

    threading.Thread(target=build, name="mpl-font-cache", daemon=True).start()


def seed(mpl_dir: Path) -> None:
    """Copy the built font list into a session's matplotlib config directory (on this machine's disk)."""
    mpl_dir.parent.mkdir(parents=True, exist_ok=True)
    parent = os.open(mpl_dir.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        seed_into(parent, mpl_dir.name)
    finally:
        os.close(parent)


def seed_into(parent_fd: int, name: str) -> None:
    """The same, into the folder `name` of an open directory (in a sandbox, where the code may
    have put anything under that name: no symlink is followed, and a failure only costs time)."""
    source = _built.get("dir")
    if source is None:
        return
    try:
        os.mkdir(name, 0o755, dir_fd=parent_fd)
    except FileExistsError:
        pass
    except OSError:
        return
    try:
        folder = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent_fd)
    except OSError:
        return
    try:
        for item in source.glob("fontlist-*.json"):
            target = os.open(item.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644, dir_fd=folder)
            with os.fdopen(target, "wb") as handle:
                handle.write(item.read_bytes())
    except OSError:
        pass
    finally:
        os.close(folder)
