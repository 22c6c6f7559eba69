"""The run engine against an earlier commit of itself, on this machine, in the same sitting.

Absolute figures (CPU milliseconds per run, the wall time of 50 runs at once) move with the machine: the
same tree measured days apart on this kind of 2-core machine differed by half. "Unchanged or better" is
therefore measured as a ratio: bench/_engine_probe.py runs in this tree and in a worktree of BASELINE,
alternately, ROUNDS times each, and each figure's median here is divided by the baseline's.

`python -m bench.engine_versus [COMMIT]`. BASELINE is the commit at which the engine's performance targets
(the "one domain, two wires" issue: devhost CPU per run, 50 concurrent runs, time to answer) were set.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "3f3f5d8"
ROUNDS = 3
PROBE = Path(__file__).resolve().parent / "_engine_probe.py"


def _worktree(commit: str) -> Path:
    """A detached worktree of `commit` sharing this tree's installs (.venv, node_modules)."""
    tree = Path(tempfile.mkdtemp(prefix="engine-versus-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), commit], check=True)
    for installed in (".venv", "node_modules"):
        (tree / installed).symlink_to(ROOT / installed)
    return tree


def _probe(tree: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, str(PROBE)], cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(commit: str = BASELINE, rounds: int = ROUNDS) -> dict:
    known = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
                           capture_output=True, text=True)
    if known.returncode != 0:
        return {"skipped": f"commit {commit} is not in this clone (a shallow one?)"}
    baseline_tree = _worktree(commit)
    try:
        baseline_runs, current_runs = [], []
        for _ in range(rounds):  # alternating, so drift in machine speed hits both alike
            baseline_runs.append(_probe(baseline_tree))
            current_runs.append(_probe(ROOT))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline_tree)], check=False)
    result: dict = {"baseline": commit, "rounds": rounds}
    for figure in current_runs[0]:
        then = statistics.median(run[figure] for run in baseline_runs)
        now = statistics.median(run[figure] for run in current_runs)
        result[figure] = {"baseline": round(then, 3), "now": round(now, 3), "now_vs_baseline": round(now / then, 3),
                          "now_range": [round(min(run[figure] for run in current_runs), 3),
                                        round(max(run[figure] for run in current_runs), 3)]}
    return result


def main() -> dict:
    result = compare(*sys.argv[1:2]) if __name__ == "__main__" else compare()
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
