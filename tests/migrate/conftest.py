"""Two deployments of this service, each devhost on its own Azurite (tables and containers are per
storage account, so separate emulators keep source and target data apart)."""

from __future__ import annotations

import uuid
import warnings

import pytest

from tests.conftest import sdk_client
from tests.support.assistants_data import populate
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess


class Deployment:
    def __init__(self, log_dir):
        self.azurite = start_azurite()
        self.host = DevhostProcess(ROOT, {"AzureWebJobsStorage": self.azurite.connection_string,
                                          "DURABLE_TASK_HUB": f"mig{uuid.uuid4().hex[:10]}",
                                          "AZURE_OPENAI_ENDPOINT": ""}, log_dir / "devhost.log").start()
        self.base_url = self.host.base_url
        self.client = sdk_client(self.base_url)

    def stop(self) -> None:
        self.host.stop()
        self.azurite.stop()


@pytest.fixture(autouse=True)
def _quiet_deprecation():
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the SDK marks Assistants deprecated


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A deployment holding a data set; tests only read it."""
    deployment = Deployment(tmp_path_factory.mktemp("source"))
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    deployment.data = populate(deployment.client)
    yield deployment
    deployment.stop()


@pytest.fixture
def target(tmp_path_factory):
    """An empty deployment per test."""
    deployment = Deployment(tmp_path_factory.mktemp("target"))
    yield deployment
    deployment.stop()


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("MIGRATE_SOURCE_KEY", "local")
    monkeypatch.setenv("MIGRATE_TARGET_KEY", "local")


@pytest.fixture
def thread_file(source, tmp_path):
    path = tmp_path / "threads.txt"
    path.write_text("# threads our app keeps\n" + "\n".join(source.data.thread_ids) + "\n")
    return path
