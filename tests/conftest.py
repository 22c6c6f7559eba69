"""Shared fixtures: a private Azurite, the scripted model, and devhost serving the product app.

Everything listens on ports the OS picks, so the suite never collides with a
running `make run` or with another suite.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

import openai
import pytest

import scripted_model
from tests.support import keys
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess

DEFAULT_PRINCIPAL = "00000000-0000-0000-0000-00000000a11c"
OTHER_PRINCIPAL = "00000000-0000-0000-0000-00000000beef"


def pytest_configure(config):
    """code_interpreter runs under bubblewrap wherever it can; only where it cannot (no user
    namespaces) does the suite allow unisolated code, and the session header says so."""
    from tools.code_interpreter.isolation import bwrap_mode

    if bwrap_mode() is None and "CODE_INTERPRETER_ALLOW_UNISOLATED" not in os.environ:
        os.environ["CODE_INTERPRETER_ALLOW_UNISOLATED"] = "true"  # devhost processes inherit it
        config.stash[_UNISOLATED] = True


def pytest_report_header(config):
    if config.stash.get(_UNISOLATED, False):
        return ("WARNING: bubblewrap cannot run here: code_interpreter tests run code UNISOLATED "
                "(CODE_INTERPRETER_ALLOW_UNISOLATED=true); its isolation tests are skipped")
    return "code_interpreter: bubblewrap isolation available; tests run code isolated"


_UNISOLATED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def azurite():
    instance = start_azurite()
    keys.bind(instance.connection_string)
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def scripted():
    """The scripted model server; tests enqueue replies through `scripted.client`."""
    handle = scripted_model.start_in_thread()
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def _fresh_script(request):
    """Each test starts with an empty reply queue when it uses the scripted model."""
    if "scripted" in request.fixturenames:
        request.getfixturevalue("scripted").client.reset()


def devhost_env(azurite, scripted, **overrides: str) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": azurite.connection_string,
        "DURABLE_TASK_HUB": f"test{uuid.uuid4().hex[:10]}",
        "OPENAI_BASE_URL": scripted.base_url,
        "OPENAI_API_KEY": "scripted-model-needs-no-key",
        "OPENAI_EMBEDDINGS_MODEL": "scripted-embeddings",
        "AZURE_OPENAI_ENDPOINT": "",
        **overrides,
    }


@contextmanager
def devhost_with(azurite, scripted, tmp_path_factory, name: str, **settings: str) -> Iterator[DevhostProcess]:
    """A devhost of a module's own, with `settings` over the test defaults (a limit set small, an engine
    configured), stopped when the block ends; its log under a temporary directory named `name`."""
    process = DevhostProcess(ROOT, devhost_env(azurite, scripted, **settings),
                             tmp_path_factory.mktemp(name) / "devhost.log").start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def devhost(azurite, scripted, tmp_path_factory):
    """devhost serving the product's function_app.py (base_url ends in /v1), secured as deployed: keys only."""
    log = tmp_path_factory.mktemp("devhost") / "devhost.log"
    process = DevhostProcess(ROOT, devhost_env(azurite, scripted), log).start()
    yield process
    process.stop()


def sdk_client(base_url: str, principal: str | None = None) -> openai.OpenAI:
    """An SDK client acting as `principal` (a default one when None) with a real key issued to it;
    every response is validated strictly against the SDK's types."""
    return openai.OpenAI(base_url=base_url, api_key=keys.key_for(principal or DEFAULT_PRINCIPAL), max_retries=0,
                         timeout=60, _strict_response_validation=True)


@pytest.fixture(scope="session")
def client(devhost) -> openai.OpenAI:
    return sdk_client(devhost.base_url)


@pytest.fixture(scope="session")
def other_client(devhost) -> openai.OpenAI:
    return sdk_client(devhost.base_url, OTHER_PRINCIPAL)
