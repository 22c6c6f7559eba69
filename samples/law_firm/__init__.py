"""Law Firm: a case-file assistant whose answers stream in as they are written.

The seed's streaming app: file_search over the firm's internal case summaries, and the
answer printed token by token through the SDK's `runs.stream` with an
`AssistantEventHandler`. As in the seed, it also has the `browser` tool with the seed's
`{"bing_resource_id": ...}` (BING_RESOURCE_ID from the .env, kept as given): the service searches
the web with the engine its operator configured (WEB_SEARCH_BACKEND), or tells the model that
web search is not configured; the answer carries the web sources as links in its text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import openai
from openai import AssistantEventHandler

from samples.conversation import Turn
from samples.session import Session, about_user

NAME = "Law Firm Copilot"
CASE_FILES = sorted((Path(__file__).parent / "data").glob("*.txt"))
INSTRUCTIONS = ("You are a law firm's assistant for questions about its court cases. You may only use the file "
                "search tool to search the firm's internal court cases, citing them, and the browser tool to look "
                "for court cases on the web. Decline questions that are not about court cases.")
PROMPTS = [
    "What is the current status of the Contoso v. Fabrikam case, and what are the next dates?",
    "What damages does our client claim, and how is Fabrikam defending itself?",
    "Are there published court cases on the web about liability caps like Fabrikam's?",
]


class StreamPrinter(AssistantEventHandler):
    """Writes the answer as its deltas arrive and says when the assistant searches the files."""

    def __init__(self, write: Callable[[str], None]):
        super().__init__()
        self.write = write

    def on_text_created(self, text) -> None:
        self.write("assistant: ")

    def on_text_delta(self, delta, snapshot) -> None:
        self.write(delta.value or "")

    def on_tool_call_created(self, tool_call) -> None:
        self.write(f"[{tool_call.type}] ")

    def on_end(self) -> None:
        self.write("\n")


def ask_streaming(client: openai.OpenAI, assistant_id: str, thread_id: str, prompt: str, instructions: str,
                  write: Callable[[str], None]) -> Turn:
    """One prompt, its answer streamed through `write`; the Turn holds the final text and citations."""
    write(f"user: {prompt}\n")
    client.beta.threads.messages.create(thread_id=thread_id, role="user", content=prompt)
    with client.beta.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id,
                                         additional_instructions=instructions,
                                         event_handler=StreamPrinter(write)) as stream:
        stream.until_done()
        run = stream.get_final_run()
        messages = stream.get_final_messages()
    turn = Turn(prompt=prompt, status=run.status)
    texts = [part.text for message in messages for part in message.content if part.type == "text"]
    turn.answer = "\n".join(text.value for text in texts)
    turn.citations = [note.text for text in texts for note in text.annotations if note.type == "file_citation"]
    return turn


def run(session: Session) -> list[Turn]:
    store_id = session.create_vector_store("Court cases", CASE_FILES)
    assistant_id = session.create_assistant(
        name=NAME, instructions=INSTRUCTIONS,
        tools=[{"type": "file_search"},
               {"type": "browser", "browser": {"bing_resource_id": os.environ.get("BING_RESOURCE_ID", "unused")}}],
        tool_resources={"file_search": {"vector_store_ids": [store_id]}})
    thread_id = session.new_thread()

    def write(text: str) -> None:
        session.print(text, end="", flush=True)

    return [ask_streaming(session.client, assistant_id, thread_id, prompt, about_user("Samuel Ortiz"), write)
            for prompt in PROMPTS]
