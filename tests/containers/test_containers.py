"""The Containers API through the pinned SDK (`client.containers`, `client.containers.files`), both URL shapes."""

from __future__ import annotations

import re

import openai
import pytest

from core.repositories.containers import BLOB_CONTAINER
from core.wire.containers import MAX_CREATE_FILE_IDS
from tests.api.conftest import error_of
from tests.conftest import devhost_with, sdk_client

SMALL_LIMIT = 64 * 1024
AZURE_VERSION = "2025-04-01-preview"


def _multipart(fields: list[tuple[str, bytes, str | None]], boundary: str = "cntrboundary") -> tuple[bytes, str]:
    """A hand-made form, so a test controls every byte of a file name (the SDK would escape it)."""
    body = b""
    for name, value, filename in fields:
        disposition = f'form-data; name="{name}"'.encode()
        if filename is not None:
            disposition += b'; filename="' + filename.encode("utf-8") + b'"'
        body += b"--" + boundary.encode() + b"\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value + b"\r\n"
    return body + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def _status_error(call) -> tuple[int, dict]:
    with pytest.raises(openai.APIStatusError) as caught:
        call()
    error = error_of(caught.value.response)
    return caught.value.status_code, error


# ---- containers -------------------------------------------------------------------------------

def test_create_retrieve_delete(fresh):
    container = fresh.containers.create(name="analysis")
    raw = container.model_dump(exclude_unset=True)
    assert re.fullmatch(r"cntr_[0-9a-f]{48}", container.id)
    assert set(raw) == {"id", "object", "created_at", "status", "expires_after", "last_active_at", "name",
                        "memory_limit"}
    assert (container.object, container.status, container.name, container.memory_limit) == (
        "container", "running", "analysis", "1g")
    assert raw["expires_after"] == {"anchor": "last_active_at", "minutes": 20}
    assert container.last_active_at == container.created_at
    assert fresh.containers.retrieve(container.id).model_dump() == container.model_dump()
    deleted = fresh.containers.with_raw_response.delete(container.id)
    assert deleted.status_code == 200
    assert deleted.http_response.json() == {"id": container.id, "object": "container.deleted", "deleted": True}
    status, error = _status_error(lambda: fresh.containers.retrieve(container.id))
    assert status == 404 and error["message"] == f"No container found with id '{container.id}'."
    for call in (lambda: fresh.containers.delete(container.id), lambda: fresh.containers.files.list(container.id)):
        assert _status_error(call)[0] == 404


def test_create_with_every_option(fresh):
    container = fresh.containers.create(name="big", expires_after={"anchor": "last_active_at", "minutes": 1440},
                                        memory_limit="64g", network_policy={"type": "disabled"}, skills=[])
    assert (container.memory_limit, container.expires_after.minutes) == ("64g", 1440)
    assert fresh.containers.retrieve(container.id).memory_limit == "64g"


def test_list_paginates_in_either_order(fresh):
    made = [fresh.containers.create(name=f"c{i}").id for i in range(5)]
    page = fresh.containers.list(limit=2)
    assert [c.id for c in page.data] == made[::-1][:2] and page.has_more
    following = fresh.containers.list(limit=2, after=page.data[-1].id)
    assert [c.id for c in following.data] == made[::-1][2:4]
    assert [c.id for c in fresh.containers.list(limit=2)] == made[::-1]  # the SDK follows the cursor
    assert [c.id for c in fresh.containers.list(order="asc", limit=3)] == made
    ascending = fresh.containers.list(order="asc", limit=3)
    assert ascending.has_more and ascending.data[-1].id == made[2]
    assert [c.id for c in fresh.containers.list(name="c3")] == [made[3]]
    assert fresh.containers.list(name="nothing").data == []
    status, error = _status_error(lambda: fresh.containers.list(limit=101))
    assert status == 400 and error["param"] == "limit"
    status, error = _status_error(lambda: fresh.containers.list(after="file-nope"))
    assert status == 400 and error["param"] == "after"


def test_both_azure_url_shapes(fresh, devhost):
    root = devhost.root_url
    clients = [
        openai.AzureOpenAI(azure_endpoint=root, api_key=fresh.api_key, api_version=AZURE_VERSION, max_retries=0,
                           _strict_response_validation=True),
        openai.OpenAI(base_url=f"{root}/openai/v1", api_key=fresh.api_key, max_retries=0,
                      _strict_response_validation=True),
    ]
    for client in clients:
        container = client.containers.create(name="azure")
        assert client.containers.retrieve(container.id).id == container.id
        file = client.containers.files.create(container.id, file=("a.txt", b"hello"))
        assert [f.id for f in client.containers.files.list(container.id)] == [file.id]
        assert client.containers.files.content.retrieve(file.id, container_id=container.id).read() == b"hello"
        assert fresh.containers.retrieve(container.id).id == container.id  # one store under every shape
        client.containers.files.delete(file.id, container_id=container.id)
        client.containers.delete(container.id)
        assert container.id not in [c.id for c in fresh.containers.list()]


# ---- files ------------------------------------------------------------------------------------

def test_upload_list_retrieve_content_delete(fresh):
    container = fresh.containers.create(name="files")
    data = "naïve,ü\n1,2\n".encode()
    uploaded = fresh.containers.files.create(container.id, file=("data.csv", data, "text/csv"))
    assert re.fullmatch(r"cfile_[0-9a-f]{48}", uploaded.id)
    assert (uploaded.object, uploaded.container_id, uploaded.path, uploaded.source, uploaded.bytes) == (
        "container.file", container.id, "/mnt/data/data.csv", "user", len(data))
    other = fresh.containers.files.create(container.id, file=("notes.md", b"# notes"))
    listed = fresh.containers.files.list(container.id)
    assert [f.id for f in listed] == [other.id, uploaded.id]
    assert [f.id for f in fresh.containers.files.list(container.id, order="asc", limit=1)] == [uploaded.id, other.id]
    assert fresh.containers.files.retrieve(uploaded.id, container_id=container.id).model_dump() == uploaded.model_dump()
    content = fresh.containers.files.content.with_raw_response.retrieve(uploaded.id, container_id=container.id)
    assert content.http_response.content == data
    assert content.headers["content-disposition"] == "attachment; filename*=UTF-8''data.csv"
    deleted = fresh.containers.files.with_raw_response.delete(uploaded.id, container_id=container.id)
    assert deleted.http_response.json() == {"id": uploaded.id, "object": "container.file.deleted", "deleted": True}
    for call in (lambda: fresh.containers.files.retrieve(uploaded.id, container_id=container.id),
                 lambda: fresh.containers.files.content.retrieve(uploaded.id, container_id=container.id),
                 lambda: fresh.containers.files.delete(uploaded.id, container_id=container.id)):
        status, error = _status_error(call)
        assert status == 404 and error["message"] == f"No file found with id '{uploaded.id}'."
    assert [f.id for f in fresh.containers.files.list(container.id)] == [other.id]


def test_files_from_the_files_api(fresh):
    source = fresh.files.create(file=("table.csv", b"x,y\n3,4\n"), purpose="assistants")
    container = fresh.containers.create(name="copied", file_ids=[source.id])
    [copied] = fresh.containers.files.list(container.id).data
    assert (copied.path, copied.source, copied.bytes) == ("/mnt/data/table.csv", "user", 8)
    assert fresh.containers.files.content.retrieve(copied.id, container_id=container.id).read() == b"x,y\n3,4\n"
    again = fresh.containers.files.create(container.id, file_id=source.id)  # the same path: replaces the copy
    assert again.path == copied.path and again.id != copied.id
    assert [f.id for f in fresh.containers.files.list(container.id)] == [again.id]
    fresh.files.delete(source.id)  # a copy, not a reference
    assert fresh.containers.files.content.retrieve(again.id, container_id=container.id).read() == b"x,y\n3,4\n"
    status, error = _status_error(lambda: fresh.containers.files.create(container.id, file_id=source.id))
    assert status == 404 and error["message"] == f"No file found with id '{source.id}'."


def test_upload_at_an_existing_path_replaces_the_older_file(fresh):
    container = fresh.containers.create(name="replace")
    first = fresh.containers.files.create(container.id, file=("out.txt", b"first"))
    second = fresh.containers.files.create(container.id, file=("out.txt", b"second!"))
    assert [(f.id, f.path, f.bytes) for f in fresh.containers.files.list(container.id)] == [
        (second.id, "/mnt/data/out.txt", 7)]
    assert fresh.containers.files.content.retrieve(second.id, container_id=container.id).read() == b"second!"
    assert _status_error(lambda: fresh.containers.files.retrieve(first.id, container_id=container.id))[0] == 404


@pytest.mark.parametrize("sent, path", [
    ("../x", "/mnt/data/x"),
    ("/etc/passwd", "/mnt/data/passwd"),
    ("../../../../mnt/other/secret.txt", "/mnt/data/secret.txt"),
    ("..\\..\\windows\\win.ini", "/mnt/data/win.ini"),
    ("ü-ñíçødé 数据.md", "/mnt/data/ü-ñíçødé 数据.md"),
    ("nul\x00byte.txt", "/mnt/data/nulbyte.txt"),
])
def test_path_tricks_stay_in_mnt_data(fresh, raw, sent, path):
    container = fresh.containers.create(name="tricks")
    body, content_type = _multipart([("file", b"payload", sent)])
    response = raw.post(f"/containers/{container.id}/files", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert response.json()["path"] == path
    file_id = response.json()["id"]
    assert fresh.containers.files.content.retrieve(file_id, container_id=container.id).read() == b"payload"


# ---- ownership --------------------------------------------------------------------------------

def test_another_principal_gets_404_everywhere(fresh, other_client):
    container = fresh.containers.create(name="mine")
    file = fresh.containers.files.create(container.id, file=("a.txt", b"mine"))
    theirs = other_client.files.create(file=("theirs.txt", b"theirs"), purpose="assistants")
    calls = {
        "retrieve": lambda: other_client.containers.retrieve(container.id),
        "delete": lambda: other_client.containers.delete(container.id),
        "files.create (upload)": lambda: other_client.containers.files.create(container.id, file=("b.txt", b"x")),
        "files.create (file_id)": lambda: other_client.containers.files.create(container.id, file_id=theirs.id),
        "files.list": lambda: other_client.containers.files.list(container.id),
        "files.retrieve": lambda: other_client.containers.files.retrieve(file.id, container_id=container.id),
        "files.delete": lambda: other_client.containers.files.delete(file.id, container_id=container.id),
        "files.content": lambda: other_client.containers.files.content.retrieve(file.id, container_id=container.id),
        "copy a foreign file at create": lambda: fresh.containers.create(name="x", file_ids=[theirs.id]),
        "copy a foreign file": lambda: fresh.containers.files.create(container.id, file_id=theirs.id),
    }
    for name, call in calls.items():
        status, error = _status_error(call)
        assert status == 404 and error["type"] == "invalid_request_error", name
    assert container.id not in [c.id for c in other_client.containers.list()]
    assert [f.id for f in fresh.containers.files.list(container.id)] == [file.id]
    assert fresh.containers.files.content.retrieve(file.id, container_id=container.id).read() == b"mine"


# ---- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("body, param", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 257}, "name"),
    ({"name": 5}, "name"),
    ({"name": "n", "memory_limit": "2g"}, "memory_limit"),
    ({"name": "n", "expires_after": {"anchor": "created_at", "minutes": 5}}, "expires_after.anchor"),
    ({"name": "n", "expires_after": {"anchor": "last_active_at", "minutes": 0}}, "expires_after.minutes"),
    ({"name": "n", "expires_after": {"anchor": "last_active_at", "minutes": 1441}}, "expires_after.minutes"),
    ({"name": "n", "network_policy": {"type": "allowlist", "allowed_domains": ["example.com"]}}, "network_policy"),
    ({"name": "n", "network_policy": {"type": "open"}}, "network_policy.type"),
    ({"name": "n", "skills": [{"type": "skill_reference", "skill_id": "skill_1"}]}, "skills"),
    ({"name": "n", "file_ids": ["file-x"] * (MAX_CREATE_FILE_IDS + 1)}, "file_ids"),
    ({"name": "n", "file_ids": "file-x"}, "file_ids"),
    ({"name": "n", "colour": "blue"}, "colour"),
])
def test_bad_create_bodies_are_400s(raw, body, param):
    response = raw.post("/containers", json=body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["type"], error["param"]) == ("invalid_request_error", param), error


def test_sdk_raises_the_matching_errors(fresh):
    status, error = _status_error(lambda: fresh.containers.create(name="n", memory_limit="2g"))  # type: ignore[arg-type]
    assert (status, error["param"], error["code"]) == (400, "memory_limit", "invalid_value")
    with pytest.raises(openai.BadRequestError) as caught:
        fresh.containers.create(name="n", network_policy={"type": "allowlist", "allowed_domains": ["a.example"]})
    assert caught.value.body["code"] == "unsupported_value" and "no network" in caught.value.body["message"]
    with pytest.raises(openai.BadRequestError) as caught:
        fresh.containers.create(name="n", file_ids=[f"file-{i}" for i in range(MAX_CREATE_FILE_IDS + 1)])
    assert caught.value.body["code"] == "array_above_max_length"
    with pytest.raises(openai.NotFoundError) as caught:
        fresh.containers.create(name="n", file_ids=["file-unknown"])
    assert caught.value.body["param"] == "file_ids[0]"
    unknown = "cntr_" + "0" * 48
    for container_id in (unknown, "cntr_nope", "file-abc"):
        for call in (lambda named=container_id: fresh.containers.retrieve(named),
                     lambda named=container_id: fresh.containers.files.create(named, file=("a", b"a")),
                     lambda named=container_id: fresh.containers.files.retrieve("cfile_x", container_id=named)):
            status, error = _status_error(call)
            assert status == 404 and error["message"] == f"No container found with id '{container_id}'."


def test_bad_file_creations_are_400s(fresh, raw):
    container = fresh.containers.create(name="bad")
    url = f"/containers/{container.id}/files"
    cases = [
        (raw.post(url, json={}), "file_id"),
        (raw.post(url, json={"file_id": 7}), "file_id"),
        (raw.post(url, json={"file_id": "file-x", "extra": 1}), "extra"),
        (raw.post(url, content=b"file_id=x", headers={"Content-Type": "text/plain"}), None),
        (raw.post(url, content=b"{not json", headers={"Content-Type": "application/json"}), None),
        (raw.post(url, content=_multipart([("file", b"", "empty.txt")])[0],
                  headers={"Content-Type": _multipart([])[1]}), "file"),
        (raw.post(url, content=_multipart([("file", b"x", "..")])[0], headers={"Content-Type": _multipart([])[1]}),
         "file"),
        (raw.post(url, content=_multipart([("purpose", b"assistants", None)])[0],
                  headers={"Content-Type": _multipart([])[1]}), "purpose"),
        (raw.post(url, content=_multipart([("file", b"text", None)])[0], headers={"Content-Type": _multipart([])[1]}),
         "file"),
        (raw.post(url, content=_multipart([("file", b"x", "a.txt")])[0][:-10],
                  headers={"Content-Type": _multipart([])[1]}), None),
    ]
    for response, param in cases:
        assert response.status_code == 400, response.text
        assert error_of(response)["param"] == param, response.text
    assert fresh.containers.files.list(container.id).data == []


# ---- limits -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_limit_devhost(azurite, scripted, tmp_path_factory):
    with devhost_with(azurite, scripted, tmp_path_factory, "small", MAX_UPLOAD_BYTES=str(SMALL_LIMIT)) as process:
        yield process


def test_oversize_upload_is_413_and_leaves_nothing(small_limit_devhost, store):
    client = sdk_client(small_limit_devhost.base_url, "container-oversize-tester")
    container = client.containers.create(name="limits")
    blobs = store.container(BLOB_CONTAINER)
    before = {blob.name for blob in blobs.list_blobs()}
    for size in (SMALL_LIMIT + 1, 4 * SMALL_LIMIT):  # counted as it streams; refused from Content-Length alone
        with pytest.raises(openai.APIStatusError) as caught:
            client.containers.files.create(container.id, file=("big.bin", b"x" * size))
        assert caught.value.status_code == 413
        assert error_of(caught.value.response)["code"] == "request_too_large"
    assert client.containers.files.list(container.id).data == []
    assert {blob.name for blob in blobs.list_blobs()} == before
    exactly = client.containers.files.create(container.id, file=("fits.bin", b"x" * SMALL_LIMIT))
    assert exactly.bytes == SMALL_LIMIT
