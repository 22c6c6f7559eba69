"""matplotlib's font list, built once per process (it takes seconds) and copied into each session."""

from __future__ import annotations

import shutil
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
    """Copy the built font list into a session's matplotlib config directory."""
    source = _built.get("dir")
    if source is None:
        return
    mpl_dir.mkdir(parents=True, exist_ok=True)
    for item in source.glob("fontlist-*.json"):
        shutil.copyfile(item, mpl_dir / item.name)
