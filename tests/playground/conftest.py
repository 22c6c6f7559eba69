"""The playground's URL on the test devhost."""

from __future__ import annotations

import pytest

from devhost.launcher import playground_url
from tests.support.devhost_proc import ROOT


@pytest.fixture(scope="session")
def page_url(devhost) -> str:
    return playground_url(devhost.root_url, ROOT / "host.json")
