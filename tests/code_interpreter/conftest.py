"""Local sandboxes for the tests: one with bubblewrap (skipped where bwrap cannot run) and one without."""

from __future__ import annotations

import uuid

import pytest

from tools.code_interpreter.local import LocalSandbox, bwrap_mode

ISOLATIONS = ["bwrap", "none"]


def new_session() -> str:
    return f"thread_{uuid.uuid4().hex}"


def _make(isolation: str, **limits) -> LocalSandbox:
    if isolation == "bwrap" and bwrap_mode() is None:
        pytest.skip("bubblewrap cannot run here (not installed, or no user namespaces): "
                    "the isolated variant of this test needs it")
    return LocalSandbox(isolation=isolation, timeout_seconds=limits.pop("timeout_seconds", 20), **limits)


@pytest.fixture(scope="module", params=ISOLATIONS)
def sandbox(request):
    instance = _make(request.param)
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def make_sandbox():
    made = []

    def make(isolation: str, **limits) -> LocalSandbox:
        instance = _make(isolation, **limits)
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.close()
