"""The portable archive: JSONL of the API's own objects plus the files' bytes, as a directory or a .tar.

    manifest.json            {"format": "assistants-archive", "version": 1, "source": ..., "complete": bool}
    files.jsonl              file objects, each with "sha256" of its bytes
    files/<file id>          the bytes
    vector_stores.jsonl      vector store objects
    vector_store_files.jsonl {"vector_store_id", "file_id", "attributes", "chunking_strategy"} per membership
    assistants.jsonl         assistant objects
    threads.jsonl            thread objects
    messages.jsonl           message objects, each thread's in order
    journal.jsonl            the export's progress (see journal.py)

Objects are stored exactly as the source API returned them, ids included, so an
archive is a faithful backup; `import` applies the same rules as `copy`. An
export into `NAME.tar` is built in `NAME.tar.partial/` and packed when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterator

from migrate.service import CHUNK_BYTES, LocalFile
from migrate.transform import Plan

FORMAT = "assistants-archive"
VERSION = 1
TABLES = {"file": "files.jsonl", "vector_store": "vector_stores.jsonl", "assistant": "assistants.jsonl",
          "thread": "threads.jsonl", "message": "messages.jsonl"}
MEMBERSHIP = "vector_store_files.jsonl"


class ArchiveError(Exception):
    """The archive is missing, incomplete or not an archive of this tool."""


def work_dir(path: Path) -> Path:
    """Where an export to `path` is built."""
    return Path(f"{path}.partial") if path.suffix == ".tar" else path


def _good_lines(stream) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of every complete JSON line; stops at a torn tail."""
    offset = 0
    for line in stream:
        if not line.endswith(b"\n"):
            return
        yield offset, line
        offset += len(line)


class ArchiveReader:
    """An archive (directory or .tar) read as a source, offering the same questions as `ServiceReader`."""

    def __init__(self, path: Path, require_complete: bool = True):
        self.path = Path(path)
        self.label = f"archive {self.path}"
        self._tar = tarfile.open(self.path) if self.path.is_file() else None
        if self._tar is None and not self.path.is_dir():
            raise ArchiveError(f"{self.path}: no such archive")
        manifest = self._json("manifest.json")
        if not manifest or manifest.get("format") != FORMAT:
            raise ArchiveError(f"{self.path} is not an archive written by `migrate export`")
        if manifest.get("version") != VERSION:
            raise ArchiveError(f"{self.path}: archive version {manifest.get('version')} is not supported")
        if require_complete and not manifest.get("complete"):
            raise ArchiveError(f"{self.path}: the export did not finish; rerun it to complete the archive")
        self.manifest = manifest
        self._lock = threading.Lock()
        self._message_offsets: dict[str, list[int]] = {}
        for offset, line in self._lines(TABLES["message"]):
            self._message_offsets.setdefault(json.loads(line)["thread_id"], []).append(offset)

    def _open(self, name: str):
        if self._tar is None:
            full = self.path / name
            return open(full, "rb") if full.exists() else None
        try:
            return self._tar.extractfile(name)
        except KeyError:
            return None

    def _json(self, name: str) -> dict | None:
        stream = self._open(name)
        if stream is None:
            return None
        with stream:
            return json.load(stream)

    def _lines(self, name: str) -> Iterator[tuple[int, bytes]]:
        stream = self._open(name)
        if stream is None:
            return
        with stream:
            yield from _good_lines(stream)

    def _objects(self, kind: str) -> list[dict]:
        seen: dict[str, dict] = {}
        for _, line in self._lines(TABLES[kind]):
            record = json.loads(line)
            seen.setdefault(record["id"], record)
        return list(seen.values())

    def probe(self) -> None:
        """Opening the archive already checked it."""

    def assistants(self) -> list[dict]:
        return self._objects("assistant")

    def files(self) -> list[dict]:
        return self._objects("file")

    def vector_stores(self) -> list[dict]:
        return self._objects("vector_store")

    def vector_store_files(self, vector_store_id: str) -> list[dict]:
        """The store's memberships as the API names them (archives before attributes were kept hold ids only)."""
        found: dict[str, dict] = {}
        for _, line in self._lines(MEMBERSHIP):
            record = json.loads(line)
            if record["vector_store_id"] == vector_store_id:
                found.setdefault(record["file_id"], {"id": record["file_id"], "attributes": record.get("attributes"),
                                                     "chunking_strategy": record.get("chunking_strategy")})
        return list(found.values())

    def thread_ids(self) -> list[str]:
        return [thread["id"] for thread in self._objects("thread")]

    def thread(self, thread_id: str) -> dict:
        for thread in self._objects("thread"):
            if thread["id"] == thread_id:
                return thread
        raise KeyError(thread_id)

    def messages(self, thread_id: str) -> list[dict]:
        found, seen = [], set()
        with self._lock, self._open(TABLES["message"]) as stream:
            for offset in self._message_offsets.get(thread_id, []):
                stream.seek(offset)
                message = json.loads(stream.readline())
                if message["id"] not in seen:
                    seen.add(message["id"])
                    found.append(message)
        return found

    @contextlib.contextmanager
    def local_copy(self, file: dict, directory: Path) -> Iterator[LocalFile]:
        if self._tar is None:
            yield LocalFile(self.path / "files" / file["id"], file["bytes"], file["sha256"])
            return
        with tempfile.NamedTemporaryFile(dir=directory, prefix="extract-") as spool:
            with self._lock:
                member = self._tar.extractfile(f"files/{file['id']}")
                shutil.copyfileobj(member, spool, CHUNK_BYTES)
            spool.flush()
            yield LocalFile(Path(spool.name), file["bytes"], file["sha256"])

    def digest(self, file: dict) -> str:
        """The bytes' digest, recomputed (not the recorded one), so a damaged archive shows."""
        digest = hashlib.sha256()
        with self._lock:
            stream = self._open(f"files/{file['id']}")
            if stream is None:
                return "missing"
            with stream:
                for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
                    digest.update(chunk)
        return digest.hexdigest()

    def close(self) -> None:
        if self._tar is not None:
            self._tar.close()


class ArchiveTarget:
    """Writes source objects verbatim into an archive directory; ids are kept, so a copy's new id is its old one."""

    def __init__(self, path: Path, source_label: str):
        self.final = Path(path)
        if self.final.suffix == ".tar" and self.final.exists():
            raise ArchiveError(f"{self.final} exists; remove it or export elsewhere")
        self.root = work_dir(self.final)
        self.label = f"archive {self.final}"
        (self.root / "files").mkdir(parents=True, exist_ok=True)
        manifest = {"format": FORMAT, "version": VERSION, "source": source_label, "complete": False}
        self._write_manifest(manifest)
        self._lock = threading.Lock()
        self._ids: dict[str, set[str]] = {kind: set() for kind in TABLES}
        self._thread_messages: dict[str, list[dict]] = {}
        self._members: set[tuple[str, str]] = set()
        self._streams = {}
        for kind, name in TABLES.items():
            for _, line in self._prepare(name):
                record = json.loads(line)
                self._ids[kind].add(record["id"])
                if kind == "message":
                    self._thread_messages.setdefault(record["thread_id"], []).append(record)
        for _, line in self._prepare(MEMBERSHIP):
            record = json.loads(line)
            self._members.add((record["vector_store_id"], record["file_id"]))

    def _write_manifest(self, manifest: dict) -> None:
        temporary = self.root / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest, indent=2))
        os.replace(temporary, self.root / "manifest.json")

    def _prepare(self, name: str) -> list[tuple[int, bytes]]:
        """Read a table's complete lines, cut a torn tail, and keep it open for appending."""
        path = self.root / name
        stream = open(path, "r+b" if path.exists() else "w+b")
        lines = list(_good_lines(stream))
        end = lines[-1][0] + len(lines[-1][1]) if lines else 0
        stream.truncate(end)
        stream.seek(end)
        self._streams[name] = stream
        return lines

    def _append(self, name: str, record: dict) -> None:
        stream = self._streams[name]
        stream.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
        stream.flush()
        os.fsync(stream.fileno())

    def probe(self) -> None:
        """A directory we could create is a working target."""

    def plan(self, kind: str, source: dict, resolve) -> Plan:
        return Plan(source)

    def put(self, kind: str, source: dict, plan: Plan, local: LocalFile | None = None,
            find: Callable[[], str | None] = lambda: None) -> str:
        with self._lock:
            if source["id"] in self._ids[kind]:
                return source["id"]
        if kind == "file":
            destination = self.root / "files" / source["id"]
            partial = destination.with_suffix(".part")
            shutil.copyfile(local.path, partial)
            os.replace(partial, destination)
            source = {**source, "bytes": local.size, "sha256": local.sha256}
        with self._lock:
            self._append(TABLES[kind], source)
            self._ids[kind].add(source["id"])
        return source["id"]

    def find(self, kind: str, source: dict, plan: Plan, since: float, taken: set[str]) -> str | None:
        return source["id"] if source["id"] in self._ids[kind] else None

    def messages(self, thread_id: str) -> list[dict]:
        with self._lock:
            return list(self._thread_messages.get(thread_id, []))

    def put_message(self, thread_id: str, plan: Plan, find: Callable[[], str | None]) -> str:
        message = plan.params
        with self._lock:
            if message["id"] not in self._ids["message"]:
                self._append(TABLES["message"], message)
                self._ids["message"].add(message["id"])
                self._thread_messages.setdefault(thread_id, []).append(message)
        return message["id"]

    def vector_store_file_ids(self, vector_store_id: str) -> set[str]:
        return {file_id for store, file_id in self._members if store == vector_store_id}

    def add_vector_store_file(self, vector_store_id: str, file_id: str, member: dict) -> None:
        record = {"vector_store_id": vector_store_id, "file_id": file_id,
                  "attributes": member.get("attributes"), "chunking_strategy": member.get("chunking_strategy")}
        with self._lock:
            if (vector_store_id, file_id) not in self._members:
                self._append(MEMBERSHIP, record)
                self._members.add((vector_store_id, file_id))

    def finish(self) -> None:
        """Mark the archive complete; for a .tar, pack the directory and swap it in atomically."""
        for stream in self._streams.values():
            stream.close()
        manifest = json.loads((self.root / "manifest.json").read_text())
        self._write_manifest({**manifest, "complete": True})
        if self.root == self.final:
            return
        packing = Path(f"{self.final}.tmp")
        with tarfile.open(packing, "w") as tar:
            for entry in sorted(self.root.rglob("*")):
                if entry.is_file():
                    tar.add(entry, arcname=entry.relative_to(self.root).as_posix())
        os.replace(packing, self.final)
        shutil.rmtree(self.root)

