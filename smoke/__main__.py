"""`python -m smoke --endpoint URL --key KEY`: check a deployment and print what was checked."""

from __future__ import annotations

import argparse
import sys

from smoke import checks, probes


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m smoke", description=(
        "Smoke-test a deployment: an unauthenticated call gets 401, the key is accepted, a run completes "
        "against the model, and code_interpreter runs Python in the sandbox."))
    parser.add_argument("--endpoint", required=True, help="the app's root or /v1 URL (API_BASE_URL)")
    parser.add_argument("--key", default="", help="an API key of the deployment, or - to read it from the first "
                        "line of stdin (keeps it off the command line); without a key only the 401 is checked")
    parser.add_argument("--model", default="gpt-4.1-mini",
                        help="the chat deployment's name (AZURE_OPENAI_CHAT_DEPLOYMENT)")
    parser.add_argument("--run-timeout", type=float, default=180.0, help="seconds to wait for each run")
    parser.add_argument("--office365-status", default=None,
                        help="the Office 365 API connection's status, as the azd hook reads it")
    parser.add_argument("--office365-consent-url", default="", help="where to authorize that connection")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    key = sys.stdin.readline().strip() if args.key == "-" else args.key
    api = probes.Api(args.endpoint, key or None)
    print(f"Smoke test of {api.base}", flush=True)
    loopback = probes.is_loopback(args.endpoint)
    results = [checks.refuses_strangers(probes.unauthenticated_call(api), loopback)]
    key_check = checks.accepts_key(probes.key_call(api) if key or loopback else None, key_given=bool(key))
    results.append(key_check)
    if key_check.status == checks.PASS:
        outcome, waited = probes.run_once(api, args.model, probes.RUN_PROMPT, [], args.run_timeout)
        results.append(checks.run_completes(outcome, waited))
        outcome, waited = probes.run_once(api, args.model, probes.CODE_PROMPT, [{"type": "code_interpreter"}],
                                          args.run_timeout)
        results.append(checks.code_interpreter_runs(outcome, probes.EXPECTED_OUTPUT, waited))
    if args.office365_status is not None:
        results.append(checks.office365_connected(args.office365_status, args.office365_consent_url))
    print(checks.render(results), flush=True)
    return checks.exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
