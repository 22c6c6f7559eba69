"""What a sample creates on the service, remembered so that it is all deleted at the end.

The seed's notebooks ended with a cleanup cell that was easy to skip; here every
assistant, thread, file and vector store a sample creates is deleted when the sample
ends, even when it fails half-way (unless asked to keep them, to look at them after).
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any, Callable

import openai

from samples.conversation import Conversation, Turn, show
from samples.functions import ClientFunction


def about_user(name: str, today: datetime.date | None = None) -> str:
    """Run-level instructions naming the user and the date, as the seed's notebooks added to every run."""
    today = today or datetime.date.today()
    return (f"The user is {name}; address them by name. Be accurate and polite, and ask whether they have "
            f"further questions. Today is {today.isoformat()}.")


class Session:
    """A client, the model (deployment) to use, an output folder and the objects created so far."""

    def __init__(self, client: openai.OpenAI, model: str, out_dir: Path, print_fn: Callable[..., None] = print):
        self.client = client
        self.model = model
        self.out_dir = out_dir
        self.print = print_fn
        self._cleanups: list[tuple[str, Callable[[], Any]]] = []

    def upload(self, path: Path) -> str:
        """Upload a data file for the assistants' tools; returns its file id."""
        with path.open("rb") as stream:
            uploaded = self.client.files.create(file=(path.name, stream), purpose="assistants")
        self.track_file(uploaded.id)
        return uploaded.id

    def create_assistant(self, **definition: Any) -> str:
        assistant = self.client.beta.assistants.create(model=self.model, **definition)
        self._cleanups.append((f"assistant {assistant.id}",
                               lambda: self.client.beta.assistants.delete(assistant.id)))
        self.print(f"Created assistant {definition.get('name')!r} ({assistant.id}).")
        return assistant.id

    def create_vector_store(self, name: str, paths: list[Path]) -> str:
        """A vector store holding `paths`, ingested before it returns (the SDK's upload_and_poll)."""
        store = self.client.vector_stores.create(name=name)
        self._cleanups.append((f"vector store {store.id}", lambda: self.client.vector_stores.delete(store.id)))
        streams = [path.open("rb") for path in paths]
        try:
            batch = self.client.vector_stores.file_batches.upload_and_poll(vector_store_id=store.id, files=streams)
        finally:
            for stream in streams:
                stream.close()
        for listed in self.client.vector_stores.files.list(vector_store_id=store.id):
            self.track_file(listed.id)
        self.print(f"Vector store {name!r}: {batch.file_counts.completed} of {batch.file_counts.total} file(s) ready.")
        return store.id

    def new_thread(self) -> str:
        thread = self.client.beta.threads.create()
        self._cleanups.append((f"thread {thread.id}", lambda: self.client.beta.threads.delete(thread.id)))
        return thread.id

    def conversation(self, assistant_id: str, functions: dict[str, ClientFunction] | None = None,
                     instructions: str | None = None) -> Conversation:
        """A new thread with `assistant_id` for one user."""
        return Conversation(self.client, assistant_id, self.new_thread(), self.out_dir, functions, instructions,
                            on_output_file=self.track_file)

    def track_response(self, response_id: str) -> None:
        """Delete this response at the end too (a stored response stays readable until deleted)."""
        self._cleanups.append((f"response {response_id}", lambda: self.client.responses.delete(response_id)))

    def track_file(self, file_id: str) -> None:
        """Delete this file at the end too (images and files a run made, once saved locally)."""
        self._cleanups.append((f"file {file_id}", lambda: self.client.files.delete(file_id)))

    def ask_all(self, conversation: Conversation, prompts: list[str], who: str = "user") -> list[Turn]:
        """Ask each prompt in turn on one thread, printing each answer as it arrives."""
        turns = []
        for prompt in prompts:
            turns.append(conversation.ask(prompt))
            self.print(show(turns[-1], who))
        return turns

    def clean_up(self) -> None:
        """Delete everything created, newest first; a failure is reported and the rest still deleted."""
        while self._cleanups:
            what, delete = self._cleanups.pop()
            try:
                delete()
            except openai.NotFoundError:
                pass  # already gone (e.g. a file deleted along with its vector store)
            except openai.OpenAIError as error:
                print(f"could not delete {what}: {error}", file=sys.stderr)
