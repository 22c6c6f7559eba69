"""Shared fixtures: a private Azurite, the scripted model, and devhost serving the product app."""

from __future__ import annotations

import pytest

from tests.support.azurite import start_azurite


@pytest.fixture(scope="session")
def azurite():
    instance = start_azurite()
    yield instance
    instance.stop()
