"""A held create answers from what the write that ended its run handed over (usecases.response_answers),
even when that write comes while the create is re-reading the run (its recheck for writers elsewhere)."""

from __future__ import annotations

import urllib.parse
import uuid

import pytest

from core import ids
from scripted_model import reply_text
from tests.conftest import sdk_client
from tests.runs.conftest import MODEL, token
from tests.support.counted_host import counted_devhost
from tests.support.storage_faults import FaultRates

READ_DELAY_SECONDS = 0.5


@pytest.fixture(scope="module")
def slow_read_host(azurite, scripted, tmp_path_factory):
    """devhost whose storage requests are noted, and whose planned delays last READ_DELAY_SECONDS."""
    rates = FaultRates(delay_seconds=(READ_DELAY_SECONDS, READ_DELAY_SECONDS))
    with counted_devhost(azurite, scripted, tmp_path_factory.mktemp("held"), rates) as counted:
        yield counted


def test_the_ending_write_that_comes_during_a_recheck_read_spares_the_rows_reads(slow_read_host, scripted):
    host, proxy, seen = slow_read_host
    client = sdk_client(host.base_url, f"principal-{uuid.uuid4().hex}")
    client.responses.create(model=MODEL, input="warm up")  # tables, connections
    tok = token()
    # The create rechecks its run after 0.25 s; that read is held 0.5 s, and the model answers in 0.4 s:
    # the write ending the run lands, and wakes the create, while the read is under way.
    scripted.client.enqueue(reply_text("Answered.", match=tok, latency_ms=400))
    proxy.plan("delay", lambda service, method, path: method == "GET" and "run-a-" in urllib.parse.unquote(path))
    start = len(seen)
    response = client.responses.create(model=MODEL, input=f"question {tok}")
    assert response.status == "completed" and response.output_text == "Answered."
    assert proxy.planned_left() == 10 ** 9  # the recheck read was held (only the counting plan is left)
    body = ids.body(response.id)
    reads = [urllib.parse.unquote(path) for service, method, path in seen[start:] if service == "Table" and method == "GET"]
    rows_read = [path for path in reads if f"step.{body}" in path or f"run_id eq 'run_{body}'" in path]  # steps, messages
    assert not rows_read, reads
    assert client.responses.retrieve(response.id).model_dump() == response.model_dump()
