"""`python -m migrate` between two real deployments (devhost + Azurite), through the official SDK.

Most tests reach the source through the OpenAI client path (`--source-base-url`); one
reaches it as Azure OpenAI would be reached (`--azure-endpoint`, the AzureOpenAI client,
`/openai/...?api-version=`, the key in `api-key` from $AZURE_OPENAI_API_KEY).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from api.api_versions import ASSISTANTS_VERSIONS
from migrate import endpoints
from migrate.cli import main
from tests.migrate.snapshot import mapping, snapshot
from tests.support.devhost_proc import ROOT

pytestmark = pytest.mark.usefixtures("keys")


def run(tmp_path, *args: str) -> tuple[int, dict]:
    report = tmp_path / f"report-{time.monotonic_ns()}.json"
    quiet = ["--no-progress"] if args[0] != "verify" else []
    code = main([*args, *quiet, "--report-json", str(report)])
    return code, json.loads(report.read_text()) if report.exists() else {}


def copy_args(source, target, thread_file, tmp_path, *extra: str) -> list[str]:
    return ["copy", "--source-base-url", source.base_url, "--target-base-url", target.base_url,
            "--threads", str(thread_file), "--mapping", str(tmp_path / "mapping.jsonl"), *extra]


def test_copy_moves_everything_and_a_rerun_moves_nothing(source, target, thread_file, tmp_path):
    args = copy_args(source, target, thread_file, tmp_path, "--model-map", "gpt-4o=gpt-4.1")
    code, report = run(tmp_path, *args)
    assert code == 0, report
    counts = report["counts"]
    assert counts["file"]["copied"] == 3 and counts["assistant"]["copied"] == 2
    assert counts["thread"]["copied"] == 3 and counts["message"]["copied"] == source.data.messages
    assert report["bytes_copied"] == source.data.file_bytes
    assert report["verification"]["problems"] == []
    ids = mapping(tmp_path / "mapping.jsonl")
    new_threads = [ids[("thread", old)] for old in source.data.thread_ids]
    assert snapshot(target.client, new_threads) == snapshot(source.client, source.data.thread_ids,
                                                            {"gpt-4o": "gpt-4.1"})
    first = source.client.beta.threads.messages.list(source.data.thread_ids[0], order="asc").data[0]
    copied = target.client.beta.threads.messages.retrieve(ids[("message", first.id)], thread_id=new_threads[0])
    assert copied.metadata["migrated_created_at"] == str(first.created_at)

    code, again = run(tmp_path, *args)
    assert code == 0
    assert all(again["counts"][kind]["copied"] == 0 for kind in again["counts"])
    assert again["counts"]["message"]["skipped"] == source.data.messages
    assert len(target.client.files.list().data) == 3
    assert len(target.client.beta.assistants.list().data) == 2


def test_copy_from_the_azure_openai_client_path_moves_everything(source, target, thread_file, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", source.key)
    monkeypatch.delenv("MIGRATE_SOURCE_KEY")  # the Azure path must not lean on the other path's key
    args = ["copy", "--azure-endpoint", source.root_url, "--target-base-url", target.base_url,
            "--threads", str(thread_file), "--mapping", str(tmp_path / "mapping.jsonl")]
    code, report = run(tmp_path, *args)
    assert code == 0, report
    assert report["counts"]["message"]["copied"] == source.data.messages
    assert report["bytes_copied"] == source.data.file_bytes
    assert report["verification"]["problems"] == []
    ids = mapping(tmp_path / "mapping.jsonl")
    new_threads = [ids[("thread", old)] for old in source.data.thread_ids]
    assert snapshot(target.client, new_threads) == snapshot(source.client, source.data.thread_ids)

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "aib-not-a-key-this-source-issued-000000000")
    code, _ = run(tmp_path, *args)
    assert code == 2  # the source's own key check refuses a wrong key on this path too


def test_the_default_api_version_is_azures_first_assistants_v2_version_and_served_here():
    # Azure added Assistants v2 in 2024-05-01-preview; earlier versions speak v1 objects.
    assert endpoints.DEFAULT_AZURE_API_VERSION == "2024-05-01-preview"
    assert endpoints.DEFAULT_AZURE_API_VERSION in ASSISTANTS_VERSIONS


def test_a_copy_killed_repeatedly_resumes_to_the_same_result(source, target, thread_file, tmp_path):
    journal = tmp_path / "mapping.jsonl"
    command = [sys.executable, "-m", "migrate", *copy_args(source, target, thread_file, tmp_path),
               "--workers", "1", "--no-progress", "--no-verify"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kills = 0
    for lines in (4, 12, 24):  # inside files, inside assistants/first thread, inside a later thread
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while process.poll() is None and (not journal.exists() or journal.read_bytes().count(b"\n") < lines):
            time.sleep(0.005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
    assert kills >= 2, "the copy finished before it could be interrupted"
    code, report = run(tmp_path, *copy_args(source, target, thread_file, tmp_path))
    assert code == 0, report
    assert report["verification"]["problems"] == []
    ids = mapping(journal)
    new_threads = [ids[("thread", old)] for old in source.data.thread_ids]
    assert snapshot(target.client, new_threads) == snapshot(source.client, source.data.thread_ids)
    assert len(target.client.files.list().data) == 3  # nothing twice
    assert len(target.client.beta.assistants.list().data) == 2


def test_objects_created_but_never_recorded_are_adopted_not_duplicated(source, target, thread_file, tmp_path):
    """As if killed between the target's answer and the mapping line: the rerun finds the objects."""
    args = copy_args(source, target, thread_file, tmp_path, "--workers", "1")
    assert run(tmp_path, *args)[0] == 0
    journal = tmp_path / "mapping.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    last_of = {kind: max(i for i, r in enumerate(records) if r.get("kind") == kind and "new" in r)
               for kind in ("file", "assistant", "message")}
    kept = [r for i, r in enumerate(records) if i not in last_of.values()]
    journal.write_text("".join(json.dumps(r) + "\n" for r in kept) + '{"kind":"mess')  # and a torn last line
    code, report = run(tmp_path, *args)
    assert code == 0, report
    assert {kind: report["counts"][kind]["adopted"] for kind in last_of} == {"file": 1, "assistant": 1, "message": 1}
    assert sum(report["counts"][kind]["copied"] for kind in report["counts"]) == 0
    assert len(target.client.files.list().data) == 3
    assert len(target.client.beta.assistants.list().data) == 2
    last_thread = mapping(journal)[("thread", source.data.thread_ids[-1])]
    assert len(target.client.beta.threads.messages.list(last_thread, limit=100).data) == 6


def test_dry_run_reports_and_writes_nothing(source, target, thread_file, tmp_path):
    code, report = run(tmp_path, *copy_args(source, target, thread_file, tmp_path, "--dry-run"))
    assert code == 0
    assert report["counts"]["file"]["planned"] == 3 and report["counts"]["message"]["planned"] == source.data.messages
    assert report["bytes_planned"] == source.data.file_bytes
    assert not (tmp_path / "mapping.jsonl").exists()
    assert target.client.files.list().data == [] and target.client.beta.assistants.list().data == []


@pytest.mark.parametrize("archive_name", ["backup.tar", "backup"])
def test_export_then_import_round_trips_every_object(source, target, thread_file, tmp_path, archive_name):
    archive = tmp_path / archive_name
    code, exported = run(tmp_path, "export", "--source-base-url", source.base_url, "--threads", str(thread_file),
                         "--archive", str(archive))
    assert code == 0, exported
    assert exported["verification"]["problems"] == []
    assert archive.is_file() == archive_name.endswith(".tar")
    code, imported = run(tmp_path, "import", "--archive", str(archive), "--target-base-url", target.base_url,
                         "--mapping", str(tmp_path / "import.jsonl"))
    assert code == 0, imported
    assert imported["counts"]["message"]["copied"] == source.data.messages
    ids = mapping(tmp_path / "import.jsonl")
    new_threads = [ids[("thread", old)] for old in source.data.thread_ids]
    assert snapshot(target.client, new_threads) == snapshot(source.client, source.data.thread_ids)
    code, verified = run(tmp_path, "verify", "--source-base-url", source.base_url, "--threads", str(thread_file),
                         "--archive", str(archive))
    assert code == 0 and verified["verification"]["problems"] == []
