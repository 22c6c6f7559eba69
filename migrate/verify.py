"""Verification: compare source and target object by object through the mapping file.

Each object is reduced to a *view* of what a copy must preserve, with the
source's ids translated through the mapping; the target's view must be equal.
Message views read the original `created_at` and annotations back from the
metadata keys the copy wrote (the API cannot set them directly).
"""

from __future__ import annotations

from migrate import transform
from migrate.transform import Resolve


def _identity(kind: str, old: str) -> str:
    return old


def _mapped(resolve: Resolve) -> Resolve:
    """Unmapped ids stay as they were, so a missing reference shows as a difference."""
    return lambda kind, old: resolve(kind, old) or old


def file_view(file: dict) -> dict:
    return {"filename": file.get("filename"), "purpose": file.get("purpose"), "bytes": file.get("bytes")}


def assistant_view(assistant: dict, resolve: Resolve = _identity, model_map: dict | None = None) -> dict:
    view = {field: assistant.get(field) for field in transform.ASSISTANT_FIELDS}
    view["model"] = (model_map or {}).get(assistant["model"], assistant["model"])
    view["tool_resources"] = transform.tool_resources(assistant.get("tool_resources"), _mapped(resolve))[0]
    return view


def thread_view(thread: dict, resolve: Resolve = _identity) -> dict:
    return {"metadata": thread.get("metadata") or {},
            "tool_resources": transform.tool_resources(thread.get("tool_resources"), _mapped(resolve))[0]}


def vector_store_view(store: dict, members: list[dict], resolve: Resolve = _identity,
                      unchunked: frozenset[str] = frozenset()) -> dict:
    """Name, metadata and each member file's attributes and chunking; the chunking of files in
    `unchunked` (the source had none a copy could send) is whatever the target chose, so not compared."""
    files = {}
    for member in members:
        file_id = _mapped(resolve)("file", member["id"])
        carried = transform.vector_store_file_params(member)
        files[file_id] = {"attributes": carried.get("attributes", {}),
                          "chunking_strategy": None if file_id in unchunked else carried.get("chunking_strategy")}
    return {"name": store.get("name"), "metadata": store.get("metadata") or {}, "files": files}


def message_view(message: dict, resolve: Resolve = _identity) -> dict:
    resolve = _mapped(resolve)
    metadata = message.get("metadata") or {}
    stored = transform.decode_annotations(metadata)
    created_at = metadata.get(transform.CREATED_AT_KEY)
    return {
        "role": message.get("role"),
        "content": transform.message_content(message, resolve)[0],
        "attachments": [{"file_id": resolve("file", a["file_id"]), "tools": [t["type"] for t in a.get("tools") or []]}
                        for a in message.get("attachments") or []],
        "metadata": transform.user_metadata(metadata),
        "created_at": int(created_at) if created_at else message.get("created_at"),
        "annotations": stored if stored is not None else transform.annotations_of(message, resolve),
    }


def differences(expected: dict, actual: dict) -> list[str]:
    return [f"{key}: expected {expected[key]!r}, found {actual.get(key)!r}"
            for key in expected if expected[key] != actual.get(key)]


def thread_order_problems(source_messages: list[dict], target_messages: list[dict], resolve: Resolve) -> list[str]:
    """The target thread must hold exactly the copies of the source's messages, in the same order."""
    expected = [resolve("message", m["id"]) for m in source_messages]
    expected = [new for new in expected if new]
    actual = [m["id"] for m in target_messages]
    if actual == expected:
        return []
    extra = len(set(actual) - set(expected))
    return [f"target thread holds {len(actual)} messages ({extra} not from this migration), "
            f"expected {len(expected)} in source order"]


class Verifier:
    """Walks the source, finds each object's copy through the mapping, and lists every difference."""

    def __init__(self, source, target, resolve: Resolve, model_map: dict | None = None, check_bytes: bool = True):
        self.source = source
        self.target = target
        self.resolve = resolve
        self.model_map = model_map or {}
        self.check_bytes = check_bytes
        self.problems: list[dict] = []
        self.checked = 0

    def _problem(self, kind: str, old: str, text: str) -> None:
        self.problems.append({"kind": kind, "id": old, "problem": text})

    def _pair(self, kind: str, old: str) -> str | None:
        new = self.resolve(kind, old)
        if new is None:
            self._problem(kind, old, "not copied (no entry in the mapping file)")
        self.checked += 1
        return new

    def run(self, thread_ids: list[str]) -> list[dict]:
        target_files = {f["id"]: f for f in self.target.files()}
        for file in self.source.files():
            if file.get("purpose") not in transform.COPIED_PURPOSES or not (new := self._pair("file", file["id"])):
                continue
            copy = target_files.get(new)
            if copy is None:
                self._problem("file", file["id"], f"copy {new} is missing on the target")
                continue
            for text in differences(file_view(file), file_view(copy)):
                self._problem("file", file["id"], text)
            if self.check_bytes and self.source.digest(file) != self.target.digest(copy):
                self._problem("file", file["id"], "bytes differ (sha256)")
        target_stores = {s["id"]: s for s in self.target.vector_stores() or []}
        for store in self.source.vector_stores() or []:
            if (new := self._pair("vector_store", store["id"])) is None:
                continue
            if new not in target_stores:
                self._problem("vector_store", store["id"], f"copy {new} is missing on the target")
                continue
            expected = vector_store_view(store, self.source.vector_store_files(store["id"]), self.resolve)
            unchunked = frozenset(f for f, view in expected["files"].items() if view["chunking_strategy"] is None)
            actual = vector_store_view(target_stores[new], self.target.vector_store_files(new), unchunked=unchunked)
            for text in differences(expected, actual):
                self._problem("vector_store", store["id"], text)
        target_assistants = {a["id"]: a for a in self.target.assistants()}
        for assistant in self.source.assistants():
            if (new := self._pair("assistant", assistant["id"])) is None:
                continue
            if new not in target_assistants:
                self._problem("assistant", assistant["id"], f"copy {new} is missing on the target")
                continue
            expected = assistant_view(assistant, self.resolve, self.model_map)
            for text in differences(expected, assistant_view(target_assistants[new])):
                self._problem("assistant", assistant["id"], text)
        for thread_id in thread_ids:
            self._thread(thread_id)
        return self.problems

    def _thread(self, thread_id: str) -> None:
        if (new := self._pair("thread", thread_id)) is None:
            return
        source_messages = self.source.messages(thread_id)
        target_messages = self.target.messages(new)
        for text in differences(thread_view(self.source.thread(thread_id), self.resolve),
                                thread_view(self.target.thread(new))):
            self._problem("thread", thread_id, text)
        for text in thread_order_problems(source_messages, target_messages, self.resolve):
            self._problem("thread", thread_id, text)
        copies = {m["id"]: m for m in target_messages}
        for message in source_messages:
            new_message = self._pair("message", message["id"])
            if new_message is None:
                continue
            if new_message not in copies:
                self._problem("message", message["id"], f"copy {new_message} is missing on the target")
                continue
            for text in differences(message_view(message, self.resolve), message_view(copies[new_message])):
                self._problem("message", message["id"], text)
