"""Containers and their files: Table rows in the owner's partition, the files' bytes in Blob storage.

A container is an owned record (kind `cntr`); its files are owned records of a kind derived from the
container's id (`cf<body>`), so one container's files list as one range scan of the owner's
partition, and another principal's key never reaches them. A file's bytes are the blob
`containerfiles/<cfile id>`, named after the id only, written in staged blocks before its row is
inserted (core/repositories/blobs.py), so a listed file always has its bytes.

Every file operation reads the container first: once its row is deleted, its files are unreachable,
which is why deleting a container removes the container row before the files' rows and blobs — a crash
in between leaves only unreachable leftovers, never a visible, half-emptied container.

A file's `path` is `/mnt/data/<name>` with the name passed through core.filenames, so no name can
point outside /mnt/data; a file added at a path that is already taken replaces the older file (the new
row is inserted before the old one is removed, so the path is never empty in between).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Iterator, Sequence, get_args

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobClient

from core import filenames, ids
from core.errors import InvalidRequest, NotFound
from core.pagination import Page, PageRequest
from core.repositories.blobs import delete_quietly, write_blocks
from core.repositories.files import FileRepository
from core.repositories.owned import OwnedRecords, scan_columns
from core.store import Store
from core.wire.containers import (
    DEFAULT_EXPIRY_MINUTES,
    DEFAULT_MEMORY_LIMIT,
    MAX_CREATE_FILE_IDS,
    MAX_FILES_PER_CONTAINER,
    FileSource,
    container_file_object,
    container_object,
    container_path,
    container_record,
)

TABLE = "containers"
BLOB_CONTAINER = "containerfiles"


class ContainerRepository:
    def __init__(self, store: Store, files: FileRepository, clock: Callable[[], float] = time.time):
        """`files` is the Files API's repository, which `create` and `copy_file` copy from; `clock`
        is what a container's status is computed against when it is read."""
        self._store = store
        self._files = files
        self._clock = clock
        self.containers = OwnedRecords(store, TABLE, "cntr", "container", columns=lambda record: {"name": record["name"]})

    def _files_of(self, container_id: str) -> OwnedRecords:
        return OwnedRecords(self._store, TABLE, f"cf{ids.body(container_id)}", "container_file",
                            columns=lambda record: {"path": record["path"]})

    def _blob(self, file_id: str) -> BlobClient:
        return self._store.container(BLOB_CONTAINER).get_blob_client(file_id)

    def _now(self) -> int:
        return int(self._clock())

    # ---- containers ----------------------------------------------------------------------------

    def create(self, principal: str, *, name: str, created_at: int, file_ids: Sequence[str] = (),
               expires_after_minutes: int = DEFAULT_EXPIRY_MINUTES,
               memory_limit: str = DEFAULT_MEMORY_LIMIT) -> dict[str, Any]:
        """The new container object, holding a copy of each of `file_ids` (source "user").

        Every file is checked to be the caller's before anything is written (NotFound("file", id)
        otherwise); should a copy fail midway, the container is deleted again.
        """
        if len(file_ids) > MAX_CREATE_FILE_IDS:
            raise InvalidRequest(f"Invalid 'file_ids': array too long. Expected an array with maximum length "
                                 f"{MAX_CREATE_FILE_IDS}, but got an array with length {len(file_ids)} instead.",
                                 param="file_ids", code="array_above_max_length")
        for index, file_id in enumerate(file_ids):
            try:
                self._files.load(principal, file_id)
            except NotFound:
                raise NotFound("file", file_id, param=f"file_ids[{index}]") from None
        record = container_record(ids.new_id("container"), name=name, created_at=created_at,
                                  expires_after_minutes=expires_after_minutes, memory_limit=memory_limit)
        self.containers.insert(principal, record)
        try:
            for file_id in dict.fromkeys(file_ids):  # a file named twice is copied once
                self._copy(principal, record["id"], file_id, created_at)
        except BaseException:
            self._delete_quietly(principal, record["id"])
            raise
        return container_object(record, created_at)

    def get(self, principal: str, container_id: str) -> dict[str, Any]:
        """The container object, its status computed now; NotFound for unknown or foreign ids."""
        return container_object(self.containers.get(principal, container_id), self._now())

    def list_containers(self, principal: str, request: PageRequest, name: str | None = None) -> Page:
        """A page of the principal's containers (those named exactly `name` when given)."""
        if name is None:
            page = self.containers.list(principal, request)
        else:
            page = self.containers.list_where(principal, request, "name eq @name", {"name": name})
        now = self._now()
        return Page([container_object(record, now) for record in page.data], page.has_more)

    def touch(self, principal: str, container_id: str, at: int) -> None:
        """Record use of the container at `at` (its idle expiry counts from last_active_at); a touch older
        than the last one recorded changes nothing, so concurrent users cannot move it backwards."""
        self.containers.update(principal, container_id,
                               lambda record: {**record, "last_active_at": max(int(record["last_active_at"]), at)})

    def delete(self, principal: str, container_id: str) -> None:
        """The container row first (the container and its files are gone at once), then its files'
        blobs and rows."""
        self.containers.load(principal, container_id)  # NotFound first: only a valid id names a file kind
        files = self._files_of(container_id)
        rows = scan_columns(files, principal, [])
        self.containers.delete(principal, container_id)
        for row in rows:
            delete_quietly(self._blob(row["id"]))
        files.delete_all(principal)

    def _delete_quietly(self, principal: str, container_id: str) -> None:
        try:
            self.delete(principal, container_id)
        except NotFound:
            pass

    # ---- files ---------------------------------------------------------------------------------

    def add_file(self, principal: str, container_id: str, *, name: str, chunks: Iterable[bytes], source: str,
                 created_at: int) -> dict[str, Any]:
        """Store `chunks` as the container.file at /mnt/data/<sanitized name>; a file already at that path
        is replaced. Refused (before any byte is stored) past MAX_FILES_PER_CONTAINER files or when
        nothing usable is left of `name`."""
        self.containers.load(principal, container_id)
        return self._add(principal, container_id, name=name, chunks=chunks, source=source, created_at=created_at)

    def copy_file(self, principal: str, container_id: str, file_id: str, created_at: int) -> dict[str, Any]:
        """A copy of the caller's Files-API file `file_id` in the container (source "user")."""
        self.containers.load(principal, container_id)
        return self._copy(principal, container_id, file_id, created_at)

    def _copy(self, principal: str, container_id: str, file_id: str, created_at: int) -> dict[str, Any]:
        record, chunks = self._files.content(principal, file_id)
        return self._add(principal, container_id, name=record["filename"], chunks=chunks, source="user",
                         created_at=created_at)

    def _add(self, principal: str, container_id: str, *, name: str, chunks: Iterable[bytes], source: str,
             created_at: int) -> dict[str, Any]:
        if source not in get_args(FileSource):
            raise ValueError(f"unknown container file source {source!r}")
        safe = filenames.sanitize(name)
        if safe is None:
            raise InvalidRequest("Invalid file name: nothing is left of it once path and control characters "
                                 "are removed.", param="file", code="invalid_file_name")
        files = self._files_of(container_id)
        path = container_path(safe)
        rows = scan_columns(files, principal, ["path"])
        replaced = [row["id"] for row in rows if row.get("path") == path]
        if len(rows) - len(replaced) >= MAX_FILES_PER_CONTAINER:
            raise InvalidRequest(f"Container {container_id} already holds the maximum of {MAX_FILES_PER_CONTAINER} "
                                 f"files; delete some first.", param="file", code="too_many_files")
        file_id = ids.new_id("container_file")
        blob = self._blob(file_id)
        size = write_blocks(blob, chunks)
        try:
            record = container_file_object(file_id, container_id=container_id, name=safe, size=size, source=source,
                                           created_at=created_at)
            files.insert(principal, record)
        except BaseException:
            delete_quietly(blob)
            raise
        for old in replaced:
            self._remove(principal, container_id, old)
        return record

    def all_files(self, principal: str, container_id: str) -> list[dict[str, Any]]:
        """Every container.file of the container, oldest first (at most MAX_FILES_PER_CONTAINER): what a
        sandbox mounts at /mnt/data."""
        self.containers.load(principal, container_id)
        request = PageRequest(limit=MAX_FILES_PER_CONTAINER, order="asc")
        return self._files_of(container_id).list(principal, request).data

    def list_files(self, principal: str, container_id: str, request: PageRequest) -> Page:
        self.containers.load(principal, container_id)
        return self._files_of(container_id).list(principal, request)

    def get_file(self, principal: str, container_id: str, file_id: str) -> dict[str, Any]:
        self.containers.load(principal, container_id)
        return self._load_file(principal, container_id, file_id)

    def _load_file(self, principal: str, container_id: str, file_id: str) -> dict[str, Any]:
        try:
            return self._files_of(container_id).get(principal, file_id)
        except NotFound:
            raise NotFound("file", file_id) from None

    def delete_file(self, principal: str, container_id: str, file_id: str) -> None:
        self.containers.load(principal, container_id)
        self._load_file(principal, container_id, file_id)
        self._remove(principal, container_id, file_id)

    def _remove(self, principal: str, container_id: str, file_id: str) -> None:
        """The row first (the file is gone at once), then its bytes."""
        try:
            self._files_of(container_id).delete(principal, file_id)
        except NotFound:
            return  # removed concurrently: so are its bytes, or they soon will be
        delete_quietly(self._blob(file_id))

    def file_content(self, principal: str, container_id: str, file_id: str) -> tuple[dict[str, Any], Iterator[bytes]]:
        """The container.file and its bytes as a stream of chunks (NotFound for unknown or foreign ids)."""
        record = self.get_file(principal, container_id, file_id)
        try:
            downloader = self._blob(file_id).download_blob(max_concurrency=1)
        except ResourceNotFoundError as error:
            raise NotFound("file", file_id) from error
        return record, downloader.chunks()
