"""The deploy's lock (requirements.txt, compiled by `make lock` from requirements.in) and the ranges agree.

Azure's remote build installs requirements.txt, so it must name every package at one version with
its hashes (pip then refuses anything else), admit every top-level range of requirements.in, and
be admitted by every range the development files put on the same packages (they install under
the lock as constraints, so a range that excluded a pinned version would break `make`).
Offline: only the files are read, and the versions installed in the environment running the tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.txt"
TOP_LEVEL = ROOT / "requirements.in"
# Files installed under the lock as constraints (requirements-dev.txt and what it includes).
DEV_FILES = ["requirements-dev.txt", "requirements-sandbox.txt", "migrate/requirements.txt",
             "samples/requirements.txt"]
SHA256 = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def logical_lines(path: Path) -> list[str]:
    """Lines with backslash continuations joined and comments dropped, as pip reads them."""
    joined, pending = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            joined.append(line)
    assert not pending, f"{path.name} ends inside a continued line"
    return joined


def lock_entries() -> dict[str, tuple[Requirement, list[str]]]:
    """name -> (its requirement, its hash options) for every entry of the lock."""
    entries = {}
    for line in logical_lines(LOCK):
        assert not line.startswith("-"), f"an option in the lock: {line!r}"
        spec, *options = line.split(" --")
        requirement = Requirement(spec.strip())
        name = canonicalize_name(requirement.name)
        assert name not in entries, f"{name} is locked twice"
        entries[name] = (requirement, ["--" + option.strip() for option in options])
    return entries


def lock_reasons() -> dict[str, set[str]]:
    """name -> what brought it, from uv's `# via` notes: other packages, `-r requirements.in`, `-c ...`."""
    reasons: dict[str, set[str]] = {}
    current = None
    for raw in LOCK.read_text(encoding="utf-8").splitlines():
        if raw and not raw[0].isspace() and not raw.startswith("#"):
            current = canonicalize_name(Requirement(raw.rstrip(" \\")).name)
            reasons[current] = set()
        elif current and (note := re.fullmatch(r"\s+#\s+(?:via\s+)?(\S.*?)\s*", raw)) and note.group(1) != "via":
            reasons[current].add(note.group(1) if note.group(1).startswith("-") else canonicalize_name(note.group(1)))
    return reasons


def ranges(path: Path) -> list[Requirement]:
    return [Requirement(line) for line in logical_lines(path) if not line.startswith("-")]


def pinned_version(requirement: Requirement) -> Version:
    (spec,) = requirement.specifier
    assert spec.operator == "==" and "*" not in spec.version, f"{requirement} is not pinned to one version"
    return Version(spec.version)


LOCKED = lock_entries()


def test_the_lock_was_compiled_by_make_lock():
    assert LOCK.read_text(encoding="utf-8").splitlines()[1].strip() == "#    make lock"
    stamp = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("lock:"))
    assert stamp == "lock:"


@pytest.mark.parametrize("name", sorted(LOCKED))
def test_every_lock_entry_is_pinned_with_hashes(name):
    requirement, hashes = LOCKED[name]
    pinned_version(requirement)
    assert not requirement.extras and requirement.url is None
    assert hashes and all(SHA256.fullmatch(option) for option in hashes), \
        f"{name}: every entry needs sha256 hashes, and only those"


def test_every_top_level_requirement_is_locked_at_a_version_its_range_admits():
    for wanted in ranges(TOP_LEVEL):
        name = canonicalize_name(wanted.name)
        assert name in LOCKED, f"{wanted} is not in the lock: run make lock"
        version = pinned_version(LOCKED[name][0])
        assert wanted.specifier.contains(version, prereleases=True), \
            f"the lock has {name}=={version}, outside {wanted}: run make lock"


def test_the_lock_holds_nothing_the_top_level_requirements_do_not_bring():
    """Every entry is asked for by requirements.in or by another entry (constraints alone bring nothing)."""
    reasons = lock_reasons()
    assert sorted(reasons) == sorted(LOCKED)
    for name, why in reasons.items():
        assert why & (set(LOCKED) | {"-r requirements.in"}), f"{name} is in the lock only because of {why}"


@pytest.mark.parametrize("path", DEV_FILES)
def test_the_development_ranges_admit_the_locked_versions(path):
    for wanted in ranges(ROOT / path):
        name = canonicalize_name(wanted.name)
        if name in LOCKED:
            version = pinned_version(LOCKED[name][0])
            assert wanted.specifier.contains(version, prereleases=True), \
                f"{path} asks for {wanted}, the lock has {name}=={version}"


def test_development_installs_take_the_top_level_ranges_under_the_lock():
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.in" in dev and "-r requirements.txt" not in dev
    makefile = (ROOT / "Makefile").read_text()
    assert "-r requirements.txt\n" in makefile and "-r requirements-dev.txt -c $(VENV)/lock-constraints.txt" in makefile


def test_the_stock_tools_libraries_are_not_imported_at_start_up():
    """yfinance (with pandas and curl_cffi, ~134 MB of the install) is deployed, but only
    get_stock_price imports it: loading the app, as the worker does at a cold start, loads none of them."""
    import subprocess
    import sys

    probe = "import sys, function_app; print(sorted({'yfinance', 'pandas', 'curl_cffi'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip().splitlines()[-1] == "[]"


DEFERRED = ("tools.plugins.code_interpreter", "tools.plugins.functions", "tools.plugins.web_search",
            "tools.code_interpreter.sandbox", "tools.business", "openai.lib.streaming.chat", "sqlite3", "argparse")


def test_what_only_a_run_or_a_command_needs_is_not_imported_at_start_up():
    """The tool plug-ins (with the sandbox client and the business functions), openai's chat-stream
    helpers, sqlite3 (file_search's index) and argparse (the key CLI) load on first use, not at a
    cold start; the plug-ins all load once TOOLS is first used."""
    import subprocess
    import sys

    probe = ("import sys, json, function_app; at_start = sorted(set(%r) & set(sys.modules)); "
             "from tools.plugins import TOOLS; kinds = sorted(tool.kind for tool in TOOLS.all); "
             "print(json.dumps([at_start, kinds, 'tools.plugins.code_interpreter' in sys.modules]))") % (DEFERRED,)
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    at_start, kinds, plugins_loaded = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert at_start == []
    assert kinds == ["browser", "code_interpreter", "file_search", "function"] and plugins_loaded


def test_the_tests_run_on_the_locked_versions():
    """`make` installs the lock, then the development files under it: every locked package this platform
    needs is installed at the lock's version, so the suite tests what Azure installs (a package updated
    by hand, or a venv made some other way, fails here: rerun `make`)."""
    from importlib import metadata

    wrong = {}
    for name, (requirement, _) in LOCKED.items():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            wrong[name] = "not installed"
            continue
        if installed != pinned_version(requirement):
            wrong[name] = f"{installed} installed, {pinned_version(requirement)} locked"
    assert wrong == {}
