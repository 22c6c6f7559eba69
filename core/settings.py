"""Reading the app's settings: the one place that touches the environment.

Every environment variable the code reads is declared in `settings_catalog.py` or
`settings_tools.py` (together SETTINGS) and read through `get()`, so that README's settings table,
`local.settings.sample.json` and the infra check (every setting the app reads is set by `infra/`)
all derive from a single source of truth.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import MutableMapping
from pathlib import Path

from core.settings_catalog import APP_SETTINGS, Setting
from core.settings_tools import TOOL_SETTINGS

__all__ = ["SETTINGS", "Setting", "default_for_library", "get", "get_bool", "get_int", "get_str", "load_local_file"]


SETTINGS: tuple[Setting, ...] = APP_SETTINGS + TOOL_SETTINGS
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def get(name: str) -> str | None:
    """Read a declared setting from the environment, falling back to its default."""
    setting = _BY_NAME[name]  # KeyError for an undeclared setting is deliberate
    value = os.environ.get(name)
    return value if value not in (None, "") else setting.default


def load_local_file(app_dir: Path, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """`local.settings.json`'s `Values` into `environ` (default os.environ), as Core Tools does: the
    process environment wins, and a missing file is created from the sample so that a fresh clone
    runs without a manual copy step. Returns what was applied."""
    target: MutableMapping[str, str] = os.environ if environ is None else environ
    settings_file = app_dir / "local.settings.json"
    sample = app_dir / "local.settings.sample.json"
    if not settings_file.exists() and sample.exists():
        shutil.copyfile(sample, settings_file)
    if not settings_file.exists():
        return {}
    values = json.loads(settings_file.read_text(encoding="utf-8")).get("Values", {}) or {}
    applied = {}
    for name, value in values.items():
        if name not in target:
            target[name] = str(value)
            applied[name] = str(value)
    return applied


def default_for_library(name: str, value: str) -> None:
    """A setting a library reads from the environment itself: `value` unless the operator set it."""
    if get(name) is None:
        os.environ[name] = value


def get_bool(name: str) -> bool:
    """A yes/no setting: "true", "1", "yes" or "on" (any case) mean yes."""
    return (get(name) or "").strip().lower() in ("true", "1", "yes", "on")


def get_str(name: str) -> str:
    """A setting that has a value (its own or its default), as read by `get`."""
    value = get(name)
    if value is None:
        raise KeyError(f"setting {name} has no value and no default")
    return value


def get_int(name: str) -> int:
    value = get(name)
    if value is None:
        raise KeyError(f"setting {name} has no value and no default")
    return int(value)
