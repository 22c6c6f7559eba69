"""ContainerRepository against Azurite, as the code interpreter uses it: add, replace, list, read, touch."""

from __future__ import annotations

import uuid

import pytest

from core.errors import InvalidRequest, NotFound
from core.pagination import PageRequest
from core.repositories import containers as containers_module
from core.repositories.containers import BLOB_CONTAINER, TABLE, ContainerRepository
from core.repositories.files import FileRepository

START = 1_700_000_000


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def repo(store, clock) -> ContainerRepository:
    return ContainerRepository(store, FileRepository(store), clock=clock)


@pytest.fixture
def principal() -> str:
    return f"user-{uuid.uuid4().hex}"


def _content(repo: ContainerRepository, principal: str, container_id: str, file_id: str) -> bytes:
    _, chunks = repo.file_content(principal, container_id, file_id)
    return b"".join(chunks)


def test_add_file_replaces_at_the_same_path_and_all_files_is_oldest_first(repo, principal):
    container = repo.create(principal, name="work", created_at=START)
    first = repo.add_file(principal, container["id"], name="a.txt", chunks=[b"one"], source="user", created_at=START)
    second = repo.add_file(principal, container["id"], name="b.txt", chunks=[b"tw", b"o"], source="assistant",
                           created_at=START + 1)
    again = repo.add_file(principal, container["id"], name="sub/../a.txt", chunks=[b"uno!"], source="assistant",
                          created_at=START + 2)
    assert again["path"] == first["path"] == "/mnt/data/a.txt" and again["id"] != first["id"]
    listed = repo.all_files(principal, container["id"])
    assert [f["id"] for f in listed] == [second["id"], again["id"]]
    assert [(f["path"], f["bytes"], f["source"]) for f in listed] == [
        ("/mnt/data/b.txt", 3, "assistant"), ("/mnt/data/a.txt", 4, "assistant")]
    assert _content(repo, principal, container["id"], again["id"]) == b"uno!"
    assert _content(repo, principal, container["id"], second["id"]) == b"two"
    with pytest.raises(NotFound):
        repo.file_content(principal, container["id"], first["id"])
    record, _ = repo.file_content(principal, container["id"], second["id"])
    assert record == second


def test_create_copies_the_callers_files_only(repo, store, principal):
    files = FileRepository(store)
    mine = files.create(principal, filename="data.csv", purpose="assistants", chunks=[b"a,b\n"], created_at=START)
    theirs = files.create("someone-else", filename="x.csv", purpose="assistants", chunks=[b"x"], created_at=START)
    with pytest.raises(NotFound) as caught:
        repo.create(principal, name="c", created_at=START, file_ids=[mine["id"], theirs["id"]])
    assert caught.value.message == f"No file found with id '{theirs['id']}'." and caught.value.param == "file_ids[1]"
    assert repo.list_containers(principal, PageRequest()).data == []
    container = repo.create(principal, name="c", created_at=START, file_ids=[mine["id"]], expires_after_minutes=5,
                            memory_limit="4g")
    assert (container["memory_limit"], container["expires_after"]["minutes"]) == ("4g", 5)
    [copied] = repo.all_files(principal, container["id"])
    assert (copied["path"], copied["source"], copied["bytes"]) == ("/mnt/data/data.csv", "user", 4)
    assert _content(repo, principal, container["id"], copied["id"]) == b"a,b\n"


def test_status_is_computed_at_read_time_and_touch_keeps_it_running(repo, principal, clock):
    container = repo.create(principal, name="c", created_at=START, expires_after_minutes=1)
    assert container["status"] == "running"
    clock.now = START + 60
    assert repo.get(principal, container["id"])["status"] == "running"
    repo.touch(principal, container["id"], START + 50)
    clock.now = START + 110  # last active at +50, one idle minute: its last running second
    assert repo.get(principal, container["id"])["status"] == "running"
    repo.touch(principal, container["id"], START + 20)  # an older touch does not move it back
    assert repo.get(principal, container["id"])["last_active_at"] == START + 50
    clock.now = START + 200
    assert repo.get(principal, container["id"])["status"] == "expired"
    repo.touch(principal, container["id"], START + 200)
    assert repo.get(principal, container["id"])["status"] == "running"


def test_another_principal_reaches_nothing(repo, principal):
    container = repo.create(principal, name="c", created_at=START)
    file = repo.add_file(principal, container["id"], name="a", chunks=[b"x"], source="user", created_at=START)
    other = principal + "-other"
    calls = [
        lambda: repo.get(other, container["id"]),
        lambda: repo.touch(other, container["id"], START),
        lambda: repo.all_files(other, container["id"]),
        lambda: repo.file_content(other, container["id"], file["id"]),
        lambda: repo.add_file(other, container["id"], name="b", chunks=[b"y"], source="user", created_at=START),
        lambda: repo.delete(other, container["id"]),
        lambda: repo.get(principal, "cntr_not-an-id"),
        lambda: repo.all_files(principal, "cntr_not-an-id"),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert [f["id"] for f in repo.all_files(principal, container["id"])] == [file["id"]]


def test_file_count_is_bounded_but_replacing_at_the_bound_works(repo, principal, monkeypatch):
    monkeypatch.setattr(containers_module, "MAX_FILES_PER_CONTAINER", 3)
    container = repo.create(principal, name="c", created_at=START)
    for name in ("a", "b", "c"):
        repo.add_file(principal, container["id"], name=name, chunks=[b"1"], source="user", created_at=START)
    with pytest.raises(InvalidRequest) as caught:
        repo.add_file(principal, container["id"], name="d", chunks=[b"1"], source="user", created_at=START)
    assert caught.value.code == "too_many_files"
    repo.add_file(principal, container["id"], name="b", chunks=[b"22"], source="user", created_at=START)
    assert [f["path"] for f in repo.all_files(principal, container["id"])] == [
        "/mnt/data/a", "/mnt/data/c", "/mnt/data/b"]
    with pytest.raises(InvalidRequest) as caught:
        repo.add_file(principal, container["id"], name="..", chunks=[b"1"], source="user", created_at=START)
    assert caught.value.code == "invalid_file_name"


def test_delete_removes_rows_and_blobs(repo, store, principal):
    container = repo.create(principal, name="c", created_at=START)
    made = [repo.add_file(principal, container["id"], name=f"f{i}", chunks=[b"x" * i], source="user",
                          created_at=START)["id"] for i in range(1, 4)]
    blobs = store.container(BLOB_CONTAINER)
    assert set(made) <= {blob.name for blob in blobs.list_blobs()}
    repo.delete(principal, container["id"])
    with pytest.raises(NotFound):
        repo.get(principal, container["id"])
    with pytest.raises(NotFound):
        repo.all_files(principal, container["id"])
    assert not set(made) & {blob.name for blob in blobs.list_blobs()}
    rows = list(store.table(TABLE).query_entities("id eq @id", parameters={"id": made[0]}))
    assert rows == []
    with pytest.raises(NotFound):
        repo.delete(principal, container["id"])
