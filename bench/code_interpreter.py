"""code_interpreter's local sandbox: call latency on a warm vs a cold session, and memory per session.

For each isolation that can run here (bubblewrap, plain subprocess):
  - cold: `1+1` in a new session (starts its kernel process), median of COLD_SESSIONS sessions;
  - warm: `1+1` again in a session whose kernel runs, median / p95 of WARM_CALLS calls (target ≤ 100 ms);
  - first pandas import and first matplotlib figure in a session (what a typical first call costs);
  - RSS of an idle session (kernel + bwrap processes) after `1+1`, and after importing pandas and
    matplotlib, averaged over the sessions.
"""

from __future__ import annotations

import statistics
import time
import uuid

from tools.code_interpreter.local import LocalSandbox, bwrap_mode

COLD_SESSIONS = 8
WARM_CALLS = 100


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _measure(isolation: str) -> dict:
    sandbox = LocalSandbox(isolation=isolation, timeout_seconds=60)
    try:
        time.sleep(4)  # let the one-off matplotlib font cache build finish, as in a long-running app
        sessions = [f"thread_{uuid.uuid4().hex}" for _ in range(COLD_SESSIONS)]
        cold = []
        for session in sessions:
            started = time.perf_counter()
            assert sandbox.execute(session, "1+1", []).logs == "2\n"
            cold.append(_ms(started))
        warm = []
        for _ in range(WARM_CALLS):
            started = time.perf_counter()
            sandbox.execute(sessions[0], "1+1", [])
            warm.append(_ms(started))
        warm.sort()
        idle_rss = statistics.mean(sandbox.session_rss_bytes(s) for s in sessions) / 2**20
        started = time.perf_counter()
        sandbox.execute(sessions[0], "import pandas as pd, numpy as np", [])
        pandas_ms = _ms(started)
        started = time.perf_counter()
        result = sandbox.execute(sessions[0], "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])", [])
        figure_ms = _ms(started)
        assert len(result.images) == 1
        loaded_rss = sandbox.session_rss_bytes(sessions[0]) / 2**20
        return {
            "cold_median_ms": round(statistics.median(cold), 1),
            "warm_median_ms": round(statistics.median(warm), 2),
            "warm_p95_ms": round(warm[int(len(warm) * 0.95) - 1], 2),
            "first_pandas_import_ms": round(pandas_ms, 1),
            "first_matplotlib_figure_ms": round(figure_ms, 1),
            "idle_session_rss_mb": round(idle_rss, 1),
            "session_rss_after_pandas_matplotlib_mb": round(loaded_rss, 1),
        }
    finally:
        sandbox.close()


def main() -> dict:
    figures = {}
    for isolation in ("bwrap", "none"):
        if isolation == "bwrap" and bwrap_mode() is None:
            print("  bwrap: cannot run here, skipped")
            continue
        figures[isolation] = _measure(isolation)
    for isolation, values in figures.items():
        print(f"  isolation={isolation}")
        for name, value in values.items():
            print(f"    {name:<40} {value}")
    return figures


if __name__ == "__main__":
    main()
