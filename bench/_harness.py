"""What the engine benchmarks share: the model called directly (their baseline), the service started as
deployed (keys required), and how a benchmark reports its figures."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import openai

from tests.conftest import devhost_env
from tests.support import keys
from tests.support.devhost_proc import ROOT, DevhostProcess


def direct_model(scripted) -> openai.OpenAI:
    """The scripted model without the service in between: what the service's time is a ratio of."""
    return openai.OpenAI(base_url=scripted.base_url, api_key="scripted-model-needs-no-key", max_retries=0,
                         _strict_response_validation=True)


def keyed_host(azurite, scripted, log: Path, model_latency_ms: int) -> DevhostProcess:
    """devhost over `azurite` and `scripted` (answering after `model_latency_ms`), requiring keys."""
    host = DevhostProcess(ROOT, devhost_env(azurite, scripted), log).start()
    scripted.client.set_default(latency_ms=model_latency_ms)  # no replies queued: it echoes
    keys.bind(azurite.connection_string)
    return host


def report(measure: Callable[[], dict]) -> dict:
    """Run `measure` and print its figures as JSON (the SDK's deprecation warnings on beta.* are the point
    of an Assistants baseline, not news)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = measure()
    print(json.dumps(result, indent=2))
    return result
