"""A bounded schemathesis pass in the suite (fuzzing + stateful, ~20 s); `make fuzz` (CI) runs every phase
with >= 2,000 requests."""

from __future__ import annotations

from tests.conftest import DEFAULT_PRINCIPAL
from tests.fuzz.hostile import fuzz
from tests.support import keys


def test_generated_requests_never_get_a_server_error(devhost):
    result = fuzz(devhost.root_url, keys.key_for(DEFAULT_PRINCIPAL), max_examples=3, seed=7,
                  phases="fuzzing,stateful")
    assert result.requests >= 150, result.output[-3000:]
    assert result.server_errors == [], result.server_errors
