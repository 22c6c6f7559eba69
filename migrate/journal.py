"""The mapping file: an append-only journal of old id → new id, one fsynced JSON line per fact.

Appending one line is the atomic step: a process killed mid-write leaves at most
a torn last line, which loading drops (and the next append overwrites). A line
is written only after the target confirmed the object, so a rerun trusts every
line; what happened between a create and its line is recovered by the copier
(see `transform.adoptable` and `transform.align_messages`).

Lines: {"header": {...}} first, then {"kind", "old", "new"} for a copied object,
{"kind", "old", "pending": unix time} before a create is attempted, and
{"kind", "old", "skipped": reason} for a message that can never be created.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path


class JournalMismatch(Exception):
    """The mapping file records a migration between other endpoints."""


class Journal:
    def __init__(self, path: Path, header: dict, dry_run: bool = False):
        self.path = Path(path)
        self.dry_run = dry_run
        self._lock = threading.Lock()
        self._new: dict[tuple[str, str], str] = {}
        self._pending: dict[tuple[str, str], float] = {}
        self._skipped: dict[tuple[str, str], str] = {}
        records, good_bytes = self._read()
        if records:
            if records[0].get("header") != header:
                raise JournalMismatch(f"{self.path} records a migration {records[0].get('header')}, not {header}; "
                                      "use another --mapping file")
            for record in records[1:]:
                self._apply(record)
        self._file = None
        if not dry_run:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "r+b" if self.path.exists() else "w+b")
            self._file.truncate(good_bytes)  # drop a torn last line
            self._file.seek(good_bytes)
            if not records:
                self._append({"header": header})

    def _read(self) -> tuple[list[dict], int]:
        if not self.path.exists():
            return [], 0
        records, good = [], 0
        with open(self.path, "rb") as file:
            for line in file:
                if not line.endswith(b"\n"):
                    break
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    break
                good += len(line)
        return records, good

    def _apply(self, record: dict) -> None:
        key = (record["kind"], record["old"])
        if "new" in record:
            self._new[key] = record["new"]
            self._pending.pop(key, None)
        elif "pending" in record:
            self._pending[key] = record["pending"]
        elif "skipped" in record:
            self._skipped[key] = record["skipped"]

    def _append(self, record: dict) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def _write(self, record: dict) -> None:
        with self._lock:
            self._apply(record)
            self._append(record)

    # ---- facts -----------------------------------------------------------------------------

    def record(self, kind: str, old: str, new: str, thread: str | None = None) -> None:
        """`old` was copied as `new` (for a message, within source thread `thread`)."""
        self._write({"kind": kind, "old": old, "new": new, **({"thread": thread} if thread else {})})

    def mark_pending(self, kind: str, old: str) -> None:
        """A create of `old` is about to be sent; a rerun may find it on the target unrecorded."""
        if (kind, old) not in self._pending:
            self._write({"kind": kind, "old": old, "pending": time.time()})

    def skip(self, kind: str, old: str, reason: str) -> None:
        self._write({"kind": kind, "old": old, "skipped": reason})

    # ---- questions -------------------------------------------------------------------------

    def new_id(self, kind: str, old: str) -> str | None:
        return self._new.get((kind, old))

    def pending_since(self, kind: str, old: str) -> float | None:
        return self._pending.get((kind, old))

    def skipped(self, kind: str, old: str) -> str | None:
        return self._skipped.get((kind, old))

    def new_ids(self, kind: str) -> set[str]:
        return {new for (k, _), new in self._new.items() if k == kind}

    def pairs(self, kind: str) -> dict[str, str]:
        return {old: new for (k, old), new in self._new.items() if k == kind}

    def resolve(self, kind: str, old: str) -> str | None:
        return self.new_id(kind, old)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
