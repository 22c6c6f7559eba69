"""A deployment speaking the Assistants API, read and written through the official `openai` SDK.

Reads let the SDK retry (it backs off and honours Retry-After). Creates do not:
a create whose answer was lost (a dropped connection, a timeout) may have
happened, so before trying again `create_once` asks the target whether the
object is already there — retrying blindly would duplicate it.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import openai

from migrate import transform
from migrate.transform import Plan

CHUNK_BYTES = 1 << 20
PAGE = 100
CREATE_ATTEMPTS = 8


class SourceRefused(Exception):
    """The source will not serve a file's bytes (e.g. OpenAI refuses purpose=assistants downloads)."""


@dataclass
class LocalFile:
    path: Path
    size: int
    sha256: str


def retry_delay(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait before attempt `attempt + 1`: the server's Retry-After if sane, else exponential."""
    if retry_after:
        try:
            seconds = float(retry_after)
            if 0 <= seconds <= 120:
                return seconds
        except ValueError:
            pass
    return min(0.5 * 2 ** attempt, 30.0)


def create_once(create: Callable[[], str], find: Callable[[], str | None], sleep=time.sleep) -> str:
    """Run `create` until it succeeds, without ever creating the object twice.

    429 and 5xx answers mean nothing was created: wait and retry. A lost answer
    (connection error, timeout) may hide a success: `find` looks first.
    """
    for attempt in range(CREATE_ATTEMPTS):
        try:
            return create()
        except (openai.RateLimitError, openai.InternalServerError) as error:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
            sleep(retry_delay(attempt, error.response.headers.get("retry-after")))
        except openai.APIConnectionError:
            if attempt == CREATE_ATTEMPTS - 1:
                raise
            sleep(retry_delay(attempt, None))
            found = find()
            if found:
                return found
    raise AssertionError("unreachable")


def _dicts(page) -> Iterator[dict]:
    for item in page:
        yield item.to_dict()


class ServiceReader:
    """Objects of one deployment as plain dicts, oldest first."""

    def __init__(self, client: openai.OpenAI, label: str):
        self.client = client
        self.label = label

    def probe(self) -> None:
        """One cheap call, so a wrong key or an unreachable endpoint is reported before any work
        (a dead endpoint is not worth the long backoff later calls get)."""
        self.client.with_options(max_retries=1).beta.assistants.list(limit=1)

    def assistants(self) -> list[dict]:
        return list(_dicts(self.client.beta.assistants.list(limit=PAGE, order="asc")))

    def files(self) -> list[dict]:
        return list(_dicts(self.client.files.list()))

    def vector_stores(self) -> list[dict] | None:
        """None when the deployment does not serve vector stores."""
        try:
            return list(_dicts(self.client.vector_stores.list(limit=PAGE, order="asc")))
        except openai.NotFoundError:
            return None

    def vector_store_files(self, vector_store_id: str) -> list[dict]:
        """A store's memberships (file id, attributes, chunking strategy, status), oldest first."""
        return list(_dicts(self.client.vector_stores.files.list(vector_store_id, limit=PAGE, order="asc")))

    def thread_ids(self) -> list[str] | None:
        return None  # the API cannot enumerate threads: the user lists them

    def thread(self, thread_id: str) -> dict:
        return self.client.beta.threads.retrieve(thread_id).to_dict()

    def messages(self, thread_id: str) -> list[dict]:
        return list(_dicts(self.client.beta.threads.messages.list(thread_id, limit=PAGE, order="asc")))

    @contextlib.contextmanager
    def local_copy(self, file: dict, directory: Path) -> Iterator[LocalFile]:
        """The file's bytes streamed into a temporary file (never whole in memory), removed afterwards."""
        with tempfile.NamedTemporaryFile(dir=directory, prefix="download-") as spool:
            digest, size = hashlib.sha256(), 0
            try:
                with self.client.files.with_streaming_response.content(file["id"]) as response:
                    for chunk in response.iter_bytes(CHUNK_BYTES):
                        spool.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
            except openai.AuthenticationError:
                raise
            except openai.APIStatusError as error:
                raise SourceRefused(f"the source will not serve this file's content: {error.status_code} "
                                    f"{error.message}") from None
            spool.flush()
            yield LocalFile(Path(spool.name), size, digest.hexdigest())

    def digest(self, file: dict) -> str:
        digest = hashlib.sha256()
        with self.client.files.with_streaming_response.content(file["id"]) as response:
            for chunk in response.iter_bytes(CHUNK_BYTES):
                digest.update(chunk)
        return digest.hexdigest()


class ServiceTarget:
    """Writes copies into a deployment of this service (or any Assistants API)."""

    def __init__(self, client: openai.OpenAI, label: str, model_map: dict[str, str]):
        self.client = client
        self.creating = client.with_options(max_retries=0)
        self.reader = ServiceReader(client, label)
        self.label = label
        self.model_map = model_map

    def probe(self) -> None:
        self.reader.probe()

    def plan(self, kind: str, source: dict, resolve) -> Plan | None:
        if kind == "assistant":
            return transform.assistant_plan(source, resolve, self.model_map)
        if kind == "thread":
            return transform.thread_plan(source, resolve)
        if kind == "vector_store":
            return transform.vector_store_plan(source)
        if kind == "message":
            return transform.message_plan(source, resolve)
        return Plan({"filename": source["filename"], "purpose": source["purpose"], "bytes": source.get("bytes")})

    def put(self, kind: str, source: dict, plan: Plan, local: LocalFile | None = None,
            find: Callable[[], str | None] = lambda: None) -> str:
        creating = self.creating
        if kind == "file":
            def create() -> str:
                with open(local.path, "rb") as stream:
                    return creating.files.create(file=(source["filename"], stream), purpose=source["purpose"]).id
        elif kind == "assistant":
            def create() -> str:
                return creating.beta.assistants.create(**plan.params).id
        elif kind == "vector_store":
            def create() -> str:
                return creating.vector_stores.create(**plan.params).id
        elif kind == "thread":
            def create() -> str:
                return creating.beta.threads.create(**plan.params).id
        else:
            raise ValueError(kind)
        return create_once(create, find)

    def find(self, kind: str, source: dict, plan: Plan, since: float, taken: set[str]) -> str | None:
        """A copy created after `since` that the journal never recorded (threads cannot be listed)."""
        if kind == "file":
            candidates = self.reader.files()
        elif kind == "assistant":
            candidates = self.reader.assistants()
        elif kind == "vector_store":
            candidates = self.reader.vector_stores() or []
        else:
            return None
        return transform.adoptable(kind, plan.params, candidates, since, taken)

    def messages(self, thread_id: str) -> list[dict]:
        return self.reader.messages(thread_id)

    def put_message(self, thread_id: str, plan: Plan, find: Callable[[], str | None]) -> str:
        return create_once(lambda: self.creating.beta.threads.messages.create(thread_id, **plan.params).id, find)

    def vector_store_file_ids(self, vector_store_id: str) -> set[str]:
        return {member["id"] for member in self.reader.vector_store_files(vector_store_id)}

    def add_vector_store_file(self, vector_store_id: str, file_id: str, member: dict) -> None:
        """Add the copied file with the source membership's attributes and chunking; ingestion runs here."""
        params = transform.vector_store_file_params(member)
        # Adding a file a store already holds is harmless at OpenAI; a lost answer is simply retried.
        create_once(lambda: self.creating.vector_stores.files.create(vector_store_id, file_id=file_id, **params).id,
                    lambda: None)

    def finish(self) -> None:
        """Nothing to seal: every object is live as soon as it is created."""
