"""Hostile input: schemathesis over the OpenAPI document, every phase, counting 5xx answers.

`python -m tests.fuzz.hostile --max-examples N` (what `make fuzz` runs) starts its
own Azurite, scripted model and devhost; the suite's bounded test calls `fuzz()`
on the session's devhost. The model pass-through is left out: it relays whatever
the model says about a body, which is the model's behaviour, not ours.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXCLUDED_PATHS = r"(chat/completions|embeddings)$"
PHASES = "examples,coverage,fuzzing,stateful"


@dataclass
class FuzzResult:
    requests: int
    server_errors: list[str]
    seconds: float
    output: str


def _count(ndjson: Path) -> tuple[int, list[str]]:
    """Requests sent and the distinct 5xx (method path status) seen, from schemathesis' NDJSON events."""
    requests, errors = 0, set()

    def walk(node):
        nonlocal requests
        if isinstance(node, dict):
            response, request = node.get("response"), node.get("request")
            if isinstance(request, dict) and isinstance(response, dict) and "status_code" in response:
                requests += 1
                if int(response["status_code"]) >= 500:
                    errors.add(f"{request.get('method')} {request.get('uri')} -> {response['status_code']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for line in ndjson.read_text(encoding="utf-8").splitlines():
        if line.strip():
            walk(json.loads(line))
    return requests, sorted(errors)


def fuzz(root_url: str, api_key: str, max_examples: int, seed: int = 1, workers: int = 2,
         phases: str = PHASES) -> FuzzResult:
    with tempfile.TemporaryDirectory() as scratch:
        events = Path(scratch) / "events.ndjson"
        command = [
            str(Path(sys.executable).with_name("st")), "run", f"{root_url}/v1/openapi.json", "--url", root_url,
            "--phases", phases, "--checks", "not_a_server_error", "--max-examples", str(max_examples),
            "--seed", str(seed), "--workers", str(workers), "--no-shrink", "--continue-on-failure",
            "--generation-database", "none", "--request-timeout", "30",
            "--header", f"api-key: {api_key}", "--exclude-path-regex", EXCLUDED_PATHS,
            "--report", "ndjson", "--report-ndjson-path", str(events), "--no-color", "--output-sanitize", "true",
        ]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, cwd=scratch, timeout=1800)
        seconds = time.monotonic() - started
        requests, errors = _count(events) if events.exists() else (0, [])
    return FuzzResult(requests, errors, seconds, done.stdout + done.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=40)
    parser.add_argument("--min-requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    import scripted_model
    from tests.conftest import DEFAULT_PRINCIPAL, devhost_env
    from tests.support import keys
    from tests.support.azurite import start_azurite
    from tests.support.devhost_proc import DevhostProcess

    azurite = start_azurite()
    scripted = scripted_model.start_in_thread()
    keys.bind(azurite.connection_string)
    with tempfile.TemporaryDirectory() as logs:
        host = DevhostProcess(ROOT, devhost_env(azurite, scripted), Path(logs) / "devhost.log").start()
        try:
            result = fuzz(host.root_url, keys.key_for(DEFAULT_PRINCIPAL), args.max_examples, args.seed)
        finally:
            host.stop()
            scripted.stop()
            azurite.stop()
    print(result.output[-4000:])
    print(f"\n{result.requests} requests in {result.seconds:.0f} s; responses >= 500: {len(result.server_errors)}")
    for error in result.server_errors:
        print("  ", error)
    if result.requests < args.min_requests:
        print(f"fewer than {args.min_requests} requests: raise --max-examples")
        return 1
    return 1 if result.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
