"""Migration throughput: `python -m migrate copy` between two devhost deployments (each on its own Azurite).

Source: 1,000 messages over 20 threads, 10 files of 5 MB (50 MB), 2 assistants.
Reports objects/s and MB/s for the copy, then the time of the verification pass
(which downloads every file again on both sides to compare bytes).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from pathlib import Path

from core.api_keys import KeyStore
from core.storage_connection import StorageConnection
from core.store import Store
from migrate.cli import main as migrate_main
from tests.support.assistants_data import populate
from tests.support.azurite import start_azurite
from tests.support.devhost_proc import ROOT, DevhostProcess

THREADS, MESSAGES_PER_THREAD, FILES, FILE_BYTES = 20, 50, 10, 5 * 1024 * 1024


def _deployment(name: str, workdir: Path):
    azurite = start_azurite()
    host = DevhostProcess(ROOT, {"AzureWebJobsStorage": azurite.connection_string, "DURABLE_TASK_HUB": name,
                                 "AZURE_OPENAI_ENDPOINT": ""}, workdir / f"{name}.log").start()
    return azurite, host


def main() -> dict:
    import openai

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    workdir = Path(tempfile.mkdtemp())
    (source_azurite, source), (target_azurite, target) = _deployment("benchsrc", workdir), _deployment("benchtgt", workdir)
    try:
        source_key, _ = KeyStore(Store(StorageConnection(source_azurite.connection_string, None, None))).create(
            "bench-owner", "migration bench (source)")
        target_key, _ = KeyStore(Store(StorageConnection(target_azurite.connection_string, None, None))).create(
            "bench-owner", "migration bench (target)")
        client = openai.OpenAI(base_url=source.base_url, api_key=source_key, max_retries=2, timeout=300)
        data = populate(client, threads=THREADS, messages_per_thread=MESSAGES_PER_THREAD, files=FILES,
                        file_bytes=FILE_BYTES)
        threads = workdir / "threads.txt"
        threads.write_text("\n".join(data.thread_ids))
        os.environ["MIGRATE_SOURCE_KEY"], os.environ["MIGRATE_TARGET_KEY"] = source_key, target_key
        args = ["copy", "--source-base-url", source.base_url, "--target-base-url", target.base_url,
                "--threads", str(threads), "--mapping", str(workdir / "mapping.jsonl"), "--no-progress"]
        started = time.perf_counter()
        assert migrate_main([*args, "--no-verify", "--report-json", str(workdir / "copy.json")]) == 0
        copy_seconds = time.perf_counter() - started
        report = json.loads((workdir / "copy.json").read_text())
        objects = sum(counts["copied"] for counts in report["counts"].values())
        started = time.perf_counter()
        assert migrate_main(["verify", *args[1:-1], "--report-json", str(workdir / "verify.json")]) == 0
        verify_seconds = time.perf_counter() - started
        figures = {
            "objects": objects, "megabytes": round(report["bytes_copied"] / 1e6, 1),
            "copy_seconds": round(copy_seconds, 1),
            "objects_per_second": round(objects / copy_seconds, 1),
            "megabytes_per_second": round(report["bytes_copied"] / 1e6 / copy_seconds, 1),
            "verify_seconds": round(verify_seconds, 1),
        }
        print(f"copied {objects} objects ({data.messages} messages in {THREADS} threads, {FILES} files) and "
              f"{figures['megabytes']} MB in {figures['copy_seconds']} s: {figures['objects_per_second']} objects/s, "
              f"{figures['megabytes_per_second']} MB/s (4 workers); verification pass {figures['verify_seconds']} s")
        return figures
    finally:
        for process in (source, target, source_azurite, target_azurite):
            process.stop()


if __name__ == "__main__":
    main()
