"""Cold start: what a Flex Consumption instance pays before its first request.

Importing `function_app` (every trigger, blueprint and module the host loads) against importing
only the SDKs the app cannot do without: azure-functions, the Durable SDK, openai, the Tables and
Blob SDKs, and the Functions HTTP streaming extension (FastAPI types, which the worker reads from
the HTTP triggers' signatures when it indexes them: streamed runs need it from the first request).
Each figure is one fresh interpreter (nothing cached in-process), interleaved, median of REPEATS;
target ratio <= 1.15. On a shared 2-core machine single imports swing by a third either way, so the
spread of the paired ratios is printed beside the medians' ratio.

The app is imported as deployed: from a copy of what the package holds, with the bytecode azd's
prepackage hook ships (infra/hooks/compile_bytecode.py), since a Flex Consumption instance runs from
a read-only package and cannot cache bytecode itself. The same copy without that bytecode (every
module compiled at each start) is measured beside it, for the record.
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 15
SDKS = ("import azure.functions, azure.durable_functions, openai, azure.data.tables, azure.storage.blob, "
        "azurefunctions.extensions.http.fastapi")
APP = "import function_app"
# heavy libraries the app needs only on first use of a feature, never to start
LAZY = ("numpy", "pandas", "lxml", "pypdf", "docx", "pptx", "bs4", "tiktoken", "yfinance", "IPython")


def _compile_hook():
    spec = importlib.util.spec_from_file_location("compile_bytecode", ROOT / "infra" / "hooks" / "compile_bytecode.py")
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook


def package_copy(into: Path, *, with_bytecode: bool) -> Path:
    """What the deploy package holds (the tracked files .funcignore leaves in), with or without the
    bytecode the prepackage hook writes."""
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    hook = _compile_hook()
    packaged = {entry.name for entry in hook.packaged(into)}
    if with_bytecode and not hook.compile_package(into):
        raise RuntimeError("a module of the app does not compile")
    for entry in into.iterdir():
        if entry.name not in packaged:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return into


def seconds_to(statement: str, where: Path) -> float:
    """One fresh interpreter's time for `statement` in `where`, writing no bytecode (-B: as a read-only package)."""
    probe = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-B", "-c", probe], cwd=where, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def loaded_at_start(where: Path) -> list[str]:
    probe = f"import sys, function_app; print(' '.join(m for m in {LAZY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-B", "-c", probe], cwd=where, capture_output=True, text=True, check=True)
    return done.stdout.split()


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="cold-start-"))
    deployed = package_copy(workdir / "deployed", with_bytecode=True)
    uncompiled = package_copy(workdir / "uncompiled", with_bytecode=False)
    sdks, app, app_uncompiled = [], [], []
    try:
        for _ in range(REPEATS):
            sdks.append(seconds_to(SDKS, workdir))
            app.append(seconds_to(APP, deployed))
            app_uncompiled.append(seconds_to(APP, uncompiled))
        heavy = loaded_at_start(deployed)
    finally:
        shutil.rmtree(workdir)
    sdk_s, app_s, uncompiled_s = map(statistics.median, (sdks, app, app_uncompiled))
    paired = sorted(deployed / sdk for deployed, sdk in zip(app, sdks))
    print(f"import the SDKs: {sdk_s * 1000:.0f} ms; import function_app as deployed: {app_s * 1000:.0f} ms; "
          f"ratio {app_s / sdk_s:.2f} (target <= 1.15); paired ratios from {paired[0]:.2f} to {paired[-1]:.2f}, "
          f"middle half {paired[len(paired) // 4]:.2f}-{paired[3 * len(paired) // 4]:.2f}")
    print(f"without the shipped bytecode (every module compiled at start): {uncompiled_s * 1000:.0f} ms; "
          f"ratio {uncompiled_s / sdk_s:.2f}")
    print(f"heavy libraries loaded at start: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
