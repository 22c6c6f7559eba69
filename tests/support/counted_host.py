"""devhost behind a storage proxy that notes every request it makes (service, method, path): for tests that
count what a request costs in storage, and plan a fault or a delay on one of those requests."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.conftest import devhost_env
from tests.support.devhost_proc import ROOT, DevhostProcess
from tests.support.storage_faults import FaultRates, StorageFaultProxy

Seen = list[tuple[str, str, str]]


@contextmanager
def counted_devhost(azurite, scripted, log_dir: Path,
                    rates: FaultRates | None = None) -> Iterator[tuple[DevhostProcess, StorageFaultProxy, Seen]]:
    """The host, its proxy (injecting nothing unless planned; `rates` sets e.g. a planned delay's length) and
    the requests seen so far, in order."""
    proxy = StorageFaultProxy(azurite.ports, rates or FaultRates(), seed=1)
    seen: Seen = []
    proxy.plan("delay", lambda service, method, path: seen.append((service, method, path)) and False, times=10 ** 9)
    env = devhost_env(azurite, scripted, AzureWebJobsStorage=proxy.connection_string,
                      DURABLE_TASK_HUB=f"counted{uuid.uuid4().hex[:8]}")
    host = DevhostProcess(ROOT, env, log_dir / "devhost.log").start(timeout=120)
    try:
        yield host, proxy, seen
    finally:
        host.stop()
        proxy.stop()
