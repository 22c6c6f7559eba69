"""Moves objects from a reader (a deployment or an archive) to a target (a deployment or an archive).

Order follows references: files, then vector stores (which hold files), then
assistants (which name both), then threads with their messages. Every object
goes through the same steps: already in the journal → skip; a create was
attempted before an interruption → look for it on the target (adopt); else
mark it pending, create it, record it. Messages are created one at a time per
thread, in order, so a half-copied thread resumes where it stopped.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
from tqdm import tqdm

from migrate import transform
from migrate.journal import Journal
from migrate.report import Report


class Fatal(Exception):
    """Going on cannot help (wrong key, endpoint gone): stop, the mapping file lets a rerun resume."""


def _reason(error: Exception) -> str:
    if isinstance(error, openai.APIStatusError):
        return f"{error.status_code} {getattr(error, 'message', error)}"
    return f"{type(error).__name__}: {error}"


def _fatal(error: Exception) -> bool:
    return isinstance(error, (openai.AuthenticationError, openai.APIConnectionError))


class Copier:
    def __init__(self, reader, target, journal: Journal, report: Report, workdir: Path,
                 workers: int = 4, dry_run: bool = False, progress: bool = True):
        self.reader = reader
        self.target = target
        self.journal = journal
        self.report = report
        self.workdir = workdir
        self.workers = workers
        self.dry_run = dry_run
        self._stop = threading.Event()
        self.bar = tqdm(total=0, unit="obj", disable=None if progress else True, dynamic_ncols=True)

    def run(self, thread_ids: list[str]) -> Report:
        try:
            files = [f for f in self.reader.files() if f.get("purpose") in transform.COPIED_PURPOSES]
            assistants = self.reader.assistants()
            stores = self.reader.vector_stores()
            if stores is None:
                self.report.notes.append(f"{self.reader.label} does not serve vector stores; none copied")
                stores = []
            self._grow(len(files) + len(stores) + len(assistants) + len(thread_ids))
            self._each(files, self._file)
            self._each(stores, self._vector_store)
            for assistant in assistants:
                self._guarded("assistant", assistant["id"], lambda assistant=assistant: self._object("assistant", assistant))
            self._each(thread_ids, self._thread)
        finally:
            self.bar.close()
            self.report.finish()
        return self.report

    # ---- plumbing ------------------------------------------------------------------------------

    def _grow(self, count: int) -> None:
        self.bar.total += count
        self.bar.refresh()

    def _tick(self) -> None:
        self.bar.update(1)
        self.bar.set_postfix_str(f"{self.report.bytes_copied / 1e6:.1f} MB", refresh=False)

    def _each(self, items: list, work) -> None:
        with ThreadPoolExecutor(self.workers) as pool:
            for _ in pool.map(work, items):
                pass

    def _guarded(self, kind: str, object_id: str, work) -> None:
        """Run one object's work; a failure is reported and the migration goes on, unless it is fatal."""
        if self._stop.is_set():
            return
        try:
            work()
        except Exception as error:  # noqa: BLE001 - every failure is reported with its reason
            if _fatal(error):
                self._stop.set()
                raise Fatal(_reason(error)) from error
            self.report.fail(kind, object_id, _reason(error))
        finally:
            self._tick()

    def _resolve(self, kind: str, old: str) -> str | None:
        return self.journal.new_id(kind, old)

    def _object(self, kind: str, source: dict, local=None) -> str | None:
        """Skip, adopt or create one file, vector store, assistant or thread; its new id."""
        old = source["id"]
        known = self.journal.new_id(kind, old)
        if known:
            self.report.count(kind, "skipped")
            return known
        if self.dry_run:
            self.report.count(kind, "planned", source.get("bytes") or 0)
            return None
        plan = self.target.plan(kind, source, self._resolve)
        self.report.warn(kind, old, plan.warnings)
        since = self.journal.pending_since(kind, old)
        if since is not None:
            found = self.target.find(kind, source, plan, since, self.journal.new_ids(kind))
            if found:
                self.journal.record(kind, old, found)
                self.report.count(kind, "adopted")
                return found
        self.journal.mark_pending(kind, old)
        since = self.journal.pending_since(kind, old)
        new = self.target.put(kind, source, plan, local,
                              find=lambda: self.target.find(kind, source, plan, since, self.journal.new_ids(kind)))
        self.journal.record(kind, old, new)
        self.report.count(kind, "copied", local.size if local else 0)
        return new

    # ---- kinds ---------------------------------------------------------------------------------

    def _file(self, file: dict) -> None:
        def work() -> None:
            if self.journal.new_id("file", file["id"]) or self.dry_run:
                self._object("file", file)
                return
            with self.reader.local_copy(file, self.workdir) as local:
                self._object("file", file, local)
        self._guarded("file", file["id"], work)

    def _vector_store(self, store: dict) -> None:
        def work() -> None:
            new = self._object("vector_store", store)
            if new is None:
                return
            present = self.target.vector_store_file_ids(new)
            for member in self.reader.vector_store_files(store["id"]):
                new_file = self.journal.new_id("file", member["id"])
                if new_file is None:
                    self.report.warn("vector_store", store["id"], [f"file {member['id']} was not copied; not added"])
                elif new_file not in present:
                    self.target.add_vector_store_file(new, new_file, member)
        self._guarded("vector_store", store["id"], work)

    def _thread(self, thread_id: str) -> None:
        self._guarded("thread", thread_id, lambda: self._thread_work(thread_id))

    def _thread_work(self, thread_id: str) -> None:
        source = self.reader.thread(thread_id)
        resumed = self.journal.new_id("thread", thread_id) is not None
        new_thread = self._object("thread", source)
        messages = self.reader.messages(thread_id)
        self._grow(len(messages))
        pending = []
        for message in messages:
            if self.journal.new_id("message", message["id"]) or self.journal.skipped("message", message["id"]):
                self.report.count("message", "skipped")
                self._tick()
            elif self.dry_run:
                self.report.count("message", "planned")
                self._tick()
            else:
                pending.append(message)
        if not pending:
            return
        if resumed:
            pending = self._adopt_messages(thread_id, new_thread, messages, pending)
        self._copy_messages(thread_id, new_thread, messages, pending)

    def _recorded(self, messages: list[dict]) -> set[str]:
        return {new for new in (self.journal.new_id("message", m["id"]) for m in messages) if new}

    def _unrecorded(self, new_thread: str, messages: list[dict]) -> list[dict]:
        recorded = self._recorded(messages)
        return [m for m in self.target.messages(new_thread) if m["id"] not in recorded]

    def _adopt_messages(self, thread_id: str, new_thread: str, messages: list[dict], pending: list[dict]) -> list[dict]:
        """Record target messages an interrupted run created but never recorded; the rest still to copy."""
        copyable = [m for m in pending if self.target.plan("message", m, self._resolve) is not None]
        pairs = transform.align_messages(copyable, self._unrecorded(new_thread, messages))
        for old, new in pairs:
            self.journal.record("message", old, new, thread=thread_id)
            self.report.count("message", "adopted")
            self._tick()
        adopted = {old for old, _ in pairs}
        return [m for m in pending if m["id"] not in adopted]

    def _copy_messages(self, thread_id: str, new_thread: str, messages: list[dict], pending: list[dict]) -> None:
        for index, message in enumerate(pending):
            old = message["id"]
            plan = self.target.plan("message", message, self._resolve)
            if plan is None:
                self.journal.skip("message", old, "no content that the API can create")
                self.report.fail("message", old, "no content that the API can create; skipped")
                self._tick()
                continue
            self.report.warn("message", old, plan.warnings)

            def find(message=message) -> str | None:
                unrecorded = self._unrecorded(new_thread, messages)
                match = [t for t in unrecorded if transform.message_fingerprint(t) == transform.message_fingerprint(message)]
                return match[-1]["id"] if match else None

            try:
                new = self.target.put_message(new_thread, plan, find)
            except openai.BadRequestError as error:
                self.journal.skip("message", old, _reason(error))
                self.report.fail("message", old, f"rejected by the target, skipped: {_reason(error)}")
                self._tick()
                continue
            except openai.APIStatusError as error:
                if _fatal(error):
                    raise
                self.report.fail("message", old, f"thread {thread_id} stopped here (rerun resumes): {_reason(error)}")
                self.bar.update(len(pending) - index)
                return
            self.journal.record("message", old, new, thread=thread_id)
            self.report.count("message", "copied")
            self._tick()
