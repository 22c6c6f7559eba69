"""The app reads its environment only through core/settings.py.

That keeps core.settings.SETTINGS the complete list of what the app reads, which the
infra check (tests/test_infra.py), the settings docs and the sample settings file rely on.
Everything outside the dev tooling counts as the app, so a new package is covered
without editing this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = ROOT / "core" / "settings.py"
# Dev tooling and client-side code, never deployed as part of the app.
EXEMPT = {"devhost", "tests", "bench", "scripted_model", "samples", "infra", "docs", "node_modules", "migrate"}
ENV_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def app_modules() -> list[Path]:
    found = []
    for top in ROOT.iterdir():
        if top.name.startswith(".") or top.name in EXEMPT:
            continue
        paths = [top] if top.suffix == ".py" else top.rglob("*.py") if top.is_dir() else []
        found.extend(p for p in paths if p != ALLOWED)
    return sorted(found)


def environment_reads(source: str) -> list[str]:
    """Lines (as 'line: text') where the source touches os.environ / os.getenv."""
    tree = ast.parse(source)
    os_aliases = {"os"}
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_aliases |= {a.asname or a.name for a in node.names if a.name == "os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if ENV_NAMES & {a.name for a in node.names}:
                hits.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr in ENV_NAMES:
            if isinstance(node.value, ast.Name) and node.value.id in os_aliases:
                hits.append(node.lineno)
    lines = source.splitlines()
    return [f"{n}: {lines[n - 1].strip()}" for n in sorted(set(hits))]


def test_the_app_is_scanned():
    names = {p.relative_to(ROOT).as_posix() for p in app_modules()}
    assert "function_app.py" in names
    assert any(n.startswith("core/") for n in names)


@pytest.mark.parametrize("path", app_modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_module_reads_settings_only_through_core_settings(path):
    reads = environment_reads(path.read_text(encoding="utf-8"))
    assert reads == [], "read it with core.settings.get() and declare it in core.settings.SETTINGS"


@pytest.mark.parametrize(
    "source",
    [
        "import os\nx = os.environ['A']",
        "import os\nx = os.environ.get('A')",
        "import os\nx = os.getenv('A')",
        "import os as o\nx = o.getenv('A')",
        "from os import environ\nx = environ['A']",
        "from os import getenv",
        "import os\nos.environ.setdefault('A', 'b')",
    ],
)
def test_detector_catches(source):
    assert environment_reads(source)


@pytest.mark.parametrize(
    "source",
    [
        "from core import settings\nx = settings.get('A')",
        "import os\np = os.path.join('a', 'b')",
        "environ = {}\nx = environ.get('A')",
    ],
)
def test_detector_ignores(source):
    assert environment_reads(source) == []
