"""The code_interpreter plug-in's execution (tools/plugins/code_interpreter.py) against Azurite: inputs
stream from Blob storage to the sandbox's /mnt/data in chunks, never whole in memory."""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest

from core import store as store_module
from core.repositories import files as files_module
from core.repositories import shared
from tools.code_interpreter import configured as sandbox_module
from tools.plugins import code_interpreter

CHUNK = files_module.BLOCK_BYTES  # also the download chunk size (core/storage_connection.py)


def _content(size: int):
    """`size` bytes, a chunk at a time, each chunk different."""
    for index in range(0, size, CHUNK):
        yield (hashlib.sha256(str(index).encode()).digest() * (CHUNK // 32))[: min(CHUNK, size - index)]


@pytest.fixture()
def app_storage(azurite, monkeypatch):
    """The activity's process-wide repositories and sandbox, built afresh on this session's Azurite."""
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    monkeypatch.setenv("CODE_INTERPRETER_SANDBOX", "local")
    monkeypatch.setattr(store_module, "_default", None)
    monkeypatch.setattr(sandbox_module, "_shared", {})
    shared.files.cache_clear()
    shared.assistants.cache_clear()
    yield
    for made in sandbox_module._shared.values():
        made.close()
    shared.files.cache_clear()
    shared.assistants.cache_clear()


def _peak_while_executing(principal: str, thread_id: str, code: str, files: list[dict]) -> tuple[str, int]:
    tracemalloc.start()
    try:
        result = code_interpreter.execute(principal, thread_id, code, files)
        return result["model_output"], tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_inputs_are_streamed_to_mnt_data_intact_with_memory_independent_of_their_size(app_storage):
    principal, thread_id = "user-streaming", "thread_streaming"
    code = ("import hashlib\n"
            "data = open('/mnt/data/{0}', 'rb').read()\n"
            "print('{0}', len(data), hashlib.sha256(data).hexdigest())")
    code_interpreter.execute(principal, thread_id, "1", [])  # the session's kernel runs: measure inputs only
    peaks = {}
    for name, size in (("small.bin", 2 * CHUNK + 7), ("large.bin", 12 * CHUNK + 12345)):
        record = shared.files().create(principal, filename=name, purpose="assistants", chunks=_content(size),
                                       created_at=1)
        expected = hashlib.sha256(b"".join(_content(size))).hexdigest()
        output, peaks[name] = _peak_while_executing(principal, thread_id, code.format(name),
                                                    [{"file_id": record["id"], "name": name}])
        assert output == f"{name} {size} {expected}"  # more than a chunk, arrived intact
    # Read whole, the large input would cost 10 chunks (40 MiB) more than the small one.
    assert peaks["large.bin"] - peaks["small.bin"] < CHUNK, peaks
    # Held by the session now: another call does not download it again.
    again, peak = _peak_while_executing(principal, thread_id, "print('held')",
                                        [{"file_id": record["id"], "name": "large.bin"}])
    assert again == "held" and peak < CHUNK


def test_a_file_deleted_since_the_turn_is_a_note_not_a_failure(app_storage):
    principal = "user-deleted"
    record = shared.files().create(principal, filename="gone.csv", purpose="assistants", chunks=[b"a,b\n"],
                                   created_at=1)
    shared.files().delete(principal, record["id"])
    result = code_interpreter.execute(principal, "thread_deleted", "print('ran')",
                                      [{"file_id": record["id"], "name": "gone.csv"}])
    assert result["model_output"] == f"ran\n[input 'gone.csv' not written: file {record['id']} was deleted]"
