"""The deploy package carries the app's bytecode (infra/hooks/compile_bytecode.py, azd's prepackage hook):
every packaged module, checked-hash, nothing for what the package leaves out, never a stale one run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / "infra" / "hooks"
sys.path.insert(0, str(HOOKS))
import compile_bytecode  # noqa: E402

CHECKED_HASH = 0b11  # the .pyc header's flags: hash-based, source checked (PEP 552)


def _copy_of_the_project(into: Path) -> Path:
    """The tracked files of the project (what a clone holds), without any bytecode."""
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    return into


def _pyc_of(module: Path) -> Path:
    tag = sys.implementation.cache_tag
    return module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc"


def test_azure_yaml_compiles_before_packaging_on_both_platforms():
    hook = yaml.safe_load((ROOT / "azure.yaml").read_text())["hooks"]["prepackage"]
    for platform, shell, script in (("posix", "sh", "prepackage.sh"), ("windows", "pwsh", "prepackage.ps1")):
        assert hook[platform]["shell"] == shell
        assert hook[platform]["run"] == f"./infra/hooks/{script}"
        assert "compile_bytecode.py" in (HOOKS / script).read_text()


def test_the_package_is_what_funcignore_leaves_in():
    names = {entry.name for entry in compile_bytecode.packaged(ROOT)}
    assert {"function_app.py", "api", "core", "usecases", "activities", "orchestrators", "tools", "timers",
            "host.json", "requirements.txt"} <= names
    assert not names & {"tests", "bench", "devhost", "infra", "node_modules", ".venv", ".git", "Makefile"}


def test_every_packaged_module_gets_checked_hash_bytecode_and_dev_files_none(tmp_path):
    project = _copy_of_the_project(tmp_path)
    done = subprocess.run([sys.executable, str(HOOKS / "compile_bytecode.py"), str(project)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    packaged = [module for entry in compile_bytecode.packaged(project)
                for module in ([entry] if entry.is_file() else entry.rglob("*.py")) if module.suffix == ".py"]
    assert len(packaged) > 100
    for module in packaged:
        header = _pyc_of(module).read_bytes()[:16]
        assert int.from_bytes(header[4:8], "little") == CHECKED_HASH, module
    assert not list((project / "tests").rglob("*.pyc")) and not list((project / "devhost").rglob("*.pyc"))


def test_a_module_edited_after_compiling_runs_as_edited(tmp_path):
    project = _copy_of_the_project(tmp_path)
    assert compile_bytecode.compile_package(project)
    module = project / "core" / "ids.py"
    module.write_text(module.read_text() + "\nEDITED_AFTER_COMPILING = True\n")
    seen = subprocess.run([sys.executable, "-c", "import core.ids; print(core.ids.EDITED_AFTER_COMPILING)"],
                          cwd=project, capture_output=True, text=True)
    assert seen.stdout.strip() == "True", seen.stderr


def test_another_local_python_writes_nothing(tmp_path):
    project = _copy_of_the_project(tmp_path)
    (project / ".python-version").write_text("3.99\n")
    assert compile_bytecode.main(["compile_bytecode.py", str(project)]) == 0
    assert not list(project.rglob("*.pyc"))
