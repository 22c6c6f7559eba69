"""Files through the official SDK: upload, list, retrieve, content, delete, limits, hostile names."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
import uuid

import openai
import pytest

from core.storage_connection import StorageConnection
from core.store import Store
from tests.api.conftest import error_of
from tests.conftest import devhost_env, sdk_client
from tests.support.devhost_proc import ROOT, DevhostProcess

SMALL_LIMIT = 64 * 1024
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants deprecated


def _peak_rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def _multipart(fields: list[tuple[str, bytes, str | None]], boundary: str = "testboundary") -> tuple[bytes, str]:
    """A hand-made form, so tests control every byte (the SDK would escape names)."""
    body = b""
    for name, value, filename in fields:
        disposition = f'form-data; name="{name}"'.encode()
        if filename is not None:
            disposition += b'; filename="' + filename.encode("utf-8") + b'"'
        body += b"--" + boundary.encode() + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value + b"\r\n"
    return body + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def test_upload_retrieve_download_delete(client):
    uploaded = client.files.create(file=("report.csv", b"a,b\n1,2\n", "text/csv"), purpose="assistants")
    raw = uploaded.model_dump()
    assert uploaded.id.startswith("file-") and uploaded.object == "file"
    assert (uploaded.bytes, uploaded.filename, uploaded.purpose, uploaded.status) == (8, "report.csv", "assistants", "processed")
    assert raw["expires_at"] is None and raw["status_details"] is None
    assert client.files.retrieve(uploaded.id) == uploaded
    assert client.files.content(uploaded.id).content == b"a,b\n1,2\n"
    deleted = client.files.delete(uploaded.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (uploaded.id, "file", True)
    for call in (client.files.retrieve, client.files.content, client.files.delete):
        with pytest.raises(openai.NotFoundError):
            call(uploaded.id)


def test_purposes_list_filter_and_pagination(fresh_client):
    # Every purpose the SDK's FileObject type holds; `evals` is outside it (test_evals_purpose_over_raw_http).
    made = {purpose: fresh_client.files.create(file=(f"{purpose}.txt", b"x"), purpose=purpose).id
            for purpose in ("assistants", "vision", "user_data", "batch", "fine-tune", "assistants_output")}
    listed = fresh_client.files.list()
    assert [f.id for f in listed.data] == list(made.values())[::-1] and listed.has_more is False
    assert [f.id for f in fresh_client.files.list(purpose="vision").data] == [made["vision"]]
    assert [f.id for f in fresh_client.files.list(limit=2, order="asc")] == list(made.values())  # auto-pagination
    with pytest.raises(openai.BadRequestError) as caught:
        fresh_client.files.create(file=("x.txt", b"x"), purpose="fine-tune-results")
    assert caught.value.body["param"] == "purpose"
    with pytest.raises(openai.BadRequestError):
        fresh_client.files.list(limit=10_001)



def test_evals_purpose_over_raw_http(http):
    """OpenAI accepts `evals` uploads and echoes the purpose, which the SDK's FileObject type cannot hold."""
    principal = {"X-MS-CLIENT-PRINCIPAL-ID": f"principal-{uuid.uuid4().hex}"}
    body, content_type = _multipart([("purpose", b"evals", None), ("file", b"{}", "cases.jsonl")])
    created = http.post("/files", content=body, headers={"Content-Type": content_type, **principal})
    assert created.status_code == 200, created.text
    assert created.json()["purpose"] == "evals"
    listed = http.get("/files", params={"purpose": "evals"}, headers=principal).json()
    assert [f["id"] for f in listed["data"]] == [created.json()["id"]]

def test_expires_after(client):
    uploaded = client.files.create(file=("t.txt", b"x"), purpose="assistants",
                                   expires_after={"anchor": "created_at", "seconds": 3600})
    assert uploaded.expires_at == uploaded.created_at + 3600
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("t.txt", b"x"), purpose="assistants", expires_after={"anchor": "created_at", "seconds": 5})
    assert caught.value.body["param"] == "expires_after.seconds"


@pytest.fixture(scope="module")
def fresh_devhost(azurite, scripted, tmp_path_factory):
    """A devhost of its own, so its memory high-water mark reflects only this module's work."""
    process = DevhostProcess(ROOT, devhost_env(azurite, scripted), tmp_path_factory.mktemp("mem") / "devhost.log")
    yield process.start()
    process.stop()


def test_multi_megabyte_round_trip_in_constant_memory(fresh_devhost, tmp_path):
    client = sdk_client(fresh_devhost.base_url)
    size = 96 * 1024 * 1024
    path = tmp_path / "big.bin"
    with open(path, "wb") as out:
        for _ in range(size // (1 << 20)):
            out.write(os.urandom(1 << 20))
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    warm = client.files.create(file=("warm.bin", os.urandom(1 << 20)), purpose="assistants")
    client.files.content(warm.id).read()  # every code path loaded and its buffers sized
    server_peak_before = _peak_rss_bytes(fresh_devhost.process.pid)
    tracemalloc.start()
    try:
        with open(path, "rb") as handle:
            uploaded = client.files.create(file=handle, purpose="assistants")
        digest = hashlib.sha256()
        with client.files.with_streaming_response.content(uploaded.id) as response:
            for chunk in response.iter_bytes(1 << 20):
                digest.update(chunk)
        client_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert uploaded.bytes == size and uploaded.filename == "big.bin"
    assert digest.hexdigest() == expected
    assert client_peak < 16 * 1024 * 1024, client_peak  # streamed both ways, never the whole file
    # HTTP streams: the server spools the form to disk and sends Blob chunks as they come,
    # so it holds a few 4 MiB pieces at a time, never the file (a third of it at most, with slack).
    server_growth = _peak_rss_bytes(fresh_devhost.process.pid) - server_peak_before
    assert server_growth < size // 3, server_growth


@pytest.fixture(scope="module")
def small_limit_devhost(azurite, scripted, tmp_path_factory):
    env = devhost_env(azurite, scripted, MAX_UPLOAD_BYTES=str(SMALL_LIMIT))
    process = DevhostProcess(ROOT, env, tmp_path_factory.mktemp("small") / "devhost.log").start()
    yield process
    process.stop()


def test_oversize_upload_is_413_and_leaves_nothing(small_limit_devhost, azurite):
    client = sdk_client(small_limit_devhost.base_url, "oversize-tester")
    blobs = Store(StorageConnection(azurite.connection_string, None, None)).container("files")
    before = {blob.name for blob in blobs.list_blobs()}
    with pytest.raises(openai.APIStatusError) as caught:
        client.files.create(file=("big.bin", b"x" * (SMALL_LIMIT + 1)), purpose="assistants")
    assert caught.value.status_code == 413 and caught.value.body["param"] == "file"
    with pytest.raises(openai.APIStatusError) as caught:  # far over: refused from Content-Length alone
        client.files.create(file=("big.bin", b"x" * (4 * SMALL_LIMIT)), purpose="assistants")
    assert caught.value.status_code == 413
    assert client.files.list().data == []
    assert {blob.name for blob in blobs.list_blobs()} == before
    exactly = client.files.create(file=("fits.bin", b"x" * SMALL_LIMIT), purpose="assistants")
    assert exactly.bytes == SMALL_LIMIT


@pytest.mark.parametrize("sent, stored", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("/abs/path/report.pdf", "report.pdf"),
    ("evil\u202egnp.exe", "evilgnp.exe"),
    ("tab\there\x7f.txt", "tabhere.txt"),
    ("  spaced.txt  ", "spaced.txt"),
    ("ü-ñíçødé.md", "ü-ñíçødé.md"),
    ("a" * 1000 + ".txt", "a" * 251 + ".txt"),
])
def test_hostile_file_names_are_sanitized(http, client, sent, stored):
    body, content_type = _multipart([("purpose", b"assistants", None), ("file", b"data", sent)])
    response = http.post("/files", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["filename"] == stored
    assert client.files.content(record["id"]).content == b"data"


@pytest.mark.parametrize("fields, content_type, param", [
    ([("purpose", b"assistants", None), ("file", b"x", "..")], None, "file"),
    ([("purpose", b"assistants", None), ("file", b"x", "dir/")], None, "file"),
    ([("purpose", b"assistants", None), ("file", b"", "empty.txt")], None, "file"),
    ([("purpose", b"assistants", None)], None, "file"),
    ([("file", b"x", "a.txt")], None, "purpose"),
    ([("purpose", b"nonsense", None), ("file", b"x", "a.txt")], None, "purpose"),
    ([("purpose", b"assistants", None), ("file", b"x", "a.txt"), ("colour", b"red", None)], None, "colour"),
    ([("purpose", b"assistants", None), ("file", b"x", "a.txt")], "application/json", None),
])
def test_bad_uploads(http, fields, content_type, param):
    body, default_type = _multipart(fields)
    response = http.post("/files", content=body, headers={"Content-Type": content_type or default_type})
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["type"] == "invalid_request_error" and error["param"] == param


def test_truncated_multipart_is_400(http):
    body, content_type = _multipart([("purpose", b"assistants", None), ("file", b"x" * 100, "a.txt")])
    response = http.post("/files", content=body[:-40], headers={"Content-Type": content_type})
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_multipart"


def test_other_principal_cannot_touch_files(client, other_client):
    uploaded = client.files.create(file=("private.txt", b"secret"), purpose="assistants")
    for call in (other_client.files.retrieve, other_client.files.content, other_client.files.delete):
        with pytest.raises(openai.NotFoundError):
            call(uploaded.id)
    assert uploaded.id not in [f.id for f in other_client.files.list().data]
    with pytest.raises(openai.BadRequestError) as caught:  # nor reference them
        other_client.beta.threads.create(tool_resources={"code_interpreter": {"file_ids": [uploaded.id]}})
    assert caught.value.body["param"] == "tool_resources.code_interpreter.file_ids[0]"
    assert client.files.content(uploaded.id).content == b"secret"
