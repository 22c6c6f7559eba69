"""Load `local.settings.json` into the environment, as Core Tools does.

Values from the file fill in the environment; a variable already set in the
process environment wins. A missing file is created from the sample so that a
fresh clone runs without a manual copy step.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


def load_local_settings(app_dir: Path, environ: dict | None = None) -> dict[str, str]:
    """Apply the file's `Values` to `environ` (default os.environ); return what was applied."""
    environ = os.environ if environ is None else environ
    settings_file = app_dir / "local.settings.json"
    sample = app_dir / "local.settings.sample.json"
    if not settings_file.exists() and sample.exists():
        shutil.copyfile(sample, settings_file)
    if not settings_file.exists():
        return {}
    values = json.loads(settings_file.read_text(encoding="utf-8")).get("Values", {}) or {}
    applied = {}
    for name, value in values.items():
        if name not in environ:
            environ[name] = str(value)
            applied[name] = str(value)
    return applied
