"""azd prepackage hook: compile the app's Python to bytecode that travels in the deploy package.

A Flex Consumption app runs from its package, mounted read-only, so the interpreter cannot write
`__pycache__` there: without bytecode in the package every cold start compiles each of the app's
modules again (about 0.1 s on a small instance). The bytecode is "checked-hash": the interpreter
uses a .pyc only when the hash of the source beside it matches, so a stale one is never run, and
the timestamps a zip does not keep do not matter. Only what the package holds is compiled (the
top-level entries .funcignore leaves in), for the Python the app runs on (.python-version); with
another local Python nothing is written, since its bytecode would not be read.

Standard library only: `python infra/hooks/compile_bytecode.py [ROOT]`.
"""

from __future__ import annotations

import compileall
import py_compile
import sys
from pathlib import Path


def packaged(root: Path) -> list[Path]:
    """The top-level files and folders of `root` the deploy package holds (what .funcignore leaves in)."""
    ignored = {line.strip().rstrip("/") for line in (root / ".funcignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.lstrip().startswith("#")}
    return sorted(entry for entry in root.iterdir()
                  if entry.name not in ignored and not entry.name.startswith(".") and entry.name != "__pycache__")


def compile_package(root: Path) -> bool:
    """Write checked-hash bytecode for every module the package holds; False if any fails to compile."""
    ok = True
    for entry in packaged(root):
        if entry.is_dir():
            ok &= bool(compileall.compile_dir(entry, quiet=1, workers=0,
                                              invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH))
        elif entry.suffix == ".py":
            ok &= bool(compileall.compile_file(entry, quiet=1,
                                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH))
    return ok


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[2])
    runtime = (root / ".python-version").read_text(encoding="utf-8").strip()
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    if local != runtime:
        print(f"prepackage: Python {local} is not the app's {runtime}; no bytecode shipped "
              "(cold starts compile the app's modules)")
        return 0
    if not compile_package(root):
        print("prepackage: a module of the app does not compile", file=sys.stderr)
        return 1
    print(f"prepackage: checked-hash bytecode for Python {runtime} written beside the app's modules")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
