"""Memory of ingesting a decompression bomb: devhost's resident set while a .docx that unpacks to
40 MB of XML (under 100 KB on the wire) is added to a vector store, with the package bounds on (the
defaults) and, as the baseline in the same run, lifted. Target: growth under 100 MB with them on."""

from __future__ import annotations

import json
import tempfile
import threading
import time
import uuid
from pathlib import Path

import openai
import psutil

from scripted_model import start_in_thread
from tests.file_search.documents import docx_bomb
from tests.support import keys
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess

LIFTED = {"INGESTION_MAX_XML_MB": "100000", "INGESTION_MAX_EXPANDED_MB": "100000",
          "INGESTION_MAX_XML_ELEMENTS": "1000000000", "INGESTION_MAX_TEXT_MB": "100000"}


class PeakRss:
    """Samples a process's resident set every 10 ms until stopped; keeps the highest."""

    def __init__(self, pid: int):
        self._process = psutil.Process(pid)
        self.start_mb = self._process.memory_info().rss / 2**20
        self.peak_mb = self.start_mb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak_mb = max(self.peak_mb, self._process.memory_info().rss / 2**20)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb - self.start_mb


def ingest_growth(azurite, model, overrides: dict[str, str]) -> dict:
    env = {"AzureWebJobsStorage": azurite.connection_string, "DURABLE_TASK_HUB": f"bm{uuid.uuid4().hex[:8]}",
           "AZURE_OPENAI_ENDPOINT": "", "OPENAI_BASE_URL": model.base_url, "OPENAI_API_KEY": "x",
           "OPENAI_EMBEDDINGS_MODEL": "scripted", **overrides}
    host = DevhostProcess(ROOT, env, Path(tempfile.mkdtemp()) / "devhost.log").start()
    try:
        client = openai.OpenAI(base_url=host.base_url, api_key=keys.key_for(f"bench-{uuid.uuid4().hex}"),
                               max_retries=0, timeout=600)
        store = client.vector_stores.create()
        warm = client.files.create(file=("warm.txt", b"warm up the host"), purpose="assistants")
        client.vector_stores.files.create_and_poll(vector_store_id=store.id, file_id=warm.id, poll_interval_ms=100)
        bomb = docx_bomb(40)
        file = client.files.create(file=("bomb.docx", bomb), purpose="assistants")
        time.sleep(0.5)
        sampler = PeakRss(host.process.pid)
        started = time.perf_counter()
        record = client.vector_stores.files.create_and_poll(vector_store_id=store.id, file_id=file.id,
                                                            poll_interval_ms=100)
        return {"bomb_kb": round(len(bomb) / 1024), "status": record.status,
                "seconds": round(time.perf_counter() - started, 2), "rss_growth_mb": round(sampler.stop(), 1)}
    finally:
        host.stop()


def main() -> None:
    azurite, model = start_azurite(), start_in_thread()
    keys.bind(azurite.connection_string)
    try:
        bounded = ingest_growth(azurite, model, {})
        lifted = ingest_growth(azurite, model, LIFTED)
        print(json.dumps({"bounded": bounded, "bounds_lifted": lifted,
                          "growth_ratio_bounded_to_lifted": round(bounded["rss_growth_mb"] /
                                                                  max(lifted["rss_growth_mb"], 0.1), 3)}, indent=2))
    finally:
        model.stop()
        azurite.stop()


if __name__ == "__main__":
    main()
