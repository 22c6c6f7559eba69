"""Cold start: what a Flex Consumption instance pays before its first request.

Importing `function_app` (every trigger, blueprint and module the host loads) against importing
only the SDKs the app cannot do without: azure-functions, the Durable SDK, openai, the Tables and
Blob SDKs, and the Functions HTTP streaming extension (FastAPI types, which the worker reads from
the HTTP triggers' signatures when it indexes them: streamed runs need it from the first request).
Each figure is one fresh interpreter (nothing cached in-process), interleaved, median of REPEATS;
target ratio <= 1.15.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 9
SDKS = ("import azure.functions, azure.durable_functions, openai, azure.data.tables, azure.storage.blob, "
        "azurefunctions.extensions.http.fastapi")
APP = "import function_app"
# heavy libraries the app needs only on first use of a feature, never to start
LAZY = ("numpy", "pandas", "lxml", "pypdf", "docx", "pptx", "bs4", "tiktoken", "yfinance", "IPython")


def seconds_to(statement: str) -> float:
    probe = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def loaded_at_start() -> list[str]:
    probe = f"import sys, function_app; print(' '.join(m for m in {LAZY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.split()


def main() -> None:
    sdks, app = [], []
    for _ in range(REPEATS):
        sdks.append(seconds_to(SDKS))
        app.append(seconds_to(APP))
    sdk_s, app_s = statistics.median(sdks), statistics.median(app)
    print(f"import the SDKs: {sdk_s * 1000:.0f} ms; import function_app: {app_s * 1000:.0f} ms; "
          f"ratio {app_s / sdk_s:.2f} (target <= 1.15)")
    print(f"heavy libraries loaded at start: {', '.join(loaded_at_start()) or 'none'}")


if __name__ == "__main__":
    main()
