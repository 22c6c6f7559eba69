"""Two deployments of this service, each devhost on its own Azurite (tables and containers are per
storage account, so separate emulators keep source and target data apart).

Each deployment issues its own API key in its own storage, to its own owner, as two real
deployments would: the migration holds one key for the source and another for the target."""

from __future__ import annotations

import uuid
import warnings

import openai
import pytest

from core.api_keys import KeyStore
from core.storage_connection import StorageConnection
from core.store import Store
from tests.support.assistants_data import populate
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess


class Deployment:
    def __init__(self, log_dir, owner: str):
        self.azurite = start_azurite()
        storage = Store(StorageConnection(self.azurite.connection_string, None, None))
        self.key, _ = KeyStore(storage).create(owner, f"migration test ({owner})")
        self.host = DevhostProcess(ROOT, {"AzureWebJobsStorage": self.azurite.connection_string,
                                          "DURABLE_TASK_HUB": f"mig{uuid.uuid4().hex[:10]}",
                                          "AZURE_OPENAI_ENDPOINT": ""}, log_dir / "devhost.log").start()
        self.root_url = self.host.root_url
        self.base_url = self.host.base_url
        self.client = openai.OpenAI(base_url=self.base_url, api_key=self.key, max_retries=0, timeout=60)

    def stop(self) -> None:
        self.host.stop()
        self.azurite.stop()


@pytest.fixture(autouse=True)
def _quiet_deprecation():
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the SDK marks Assistants deprecated


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A deployment holding a data set; tests only read it."""
    deployment = Deployment(tmp_path_factory.mktemp("source"), "source-owner")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    deployment.data = populate(deployment.client)
    yield deployment
    deployment.stop()


@pytest.fixture
def target(tmp_path_factory):
    """An empty deployment per test."""
    deployment = Deployment(tmp_path_factory.mktemp("target"), "target-owner")
    yield deployment
    deployment.stop()


@pytest.fixture
def keys(monkeypatch, source, target):
    """The migration's keys where it reads them: the environment, never the command line."""
    monkeypatch.setenv("MIGRATE_SOURCE_KEY", source.key)
    monkeypatch.setenv("MIGRATE_TARGET_KEY", target.key)


@pytest.fixture
def thread_file(source, tmp_path):
    path = tmp_path / "threads.txt"
    path.write_text("# threads our app keeps\n" + "\n".join(source.data.thread_ids) + "\n")
    return path
