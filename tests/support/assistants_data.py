"""Populate a deployment with a realistic Assistants data set (for migration tests and benchmarks)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import openai


@dataclass
class DataSet:
    file_ids: list[str] = field(default_factory=list)
    assistant_ids: list[str] = field(default_factory=list)
    thread_ids: list[str] = field(default_factory=list)
    messages: int = 0
    file_bytes: int = 0


def populate(client: openai.OpenAI, threads: int = 3, messages_per_thread: int = 6, files: int = 3,
             file_bytes: int = 50_000, workers: int = 4) -> DataSet:
    """Files (one image), assistants with tools and tool resources, threads whose messages carry
    attachments, image parts, metadata and both roles."""
    from concurrent.futures import ThreadPoolExecutor

    data = DataSet()
    for index in range(files):
        payload = os.urandom(file_bytes)
        name, purpose = (f"chart{index}.png", "vision") if index == 0 else (f"data{index}.csv", "assistants")
        data.file_ids.append(client.files.create(file=(name, payload), purpose=purpose).id)
        data.file_bytes += len(payload)
    image, document = data.file_ids[0], data.file_ids[-1]
    for index, model in enumerate(("gpt-4o", "gpt-4o-mini")):
        data.assistant_ids.append(client.beta.assistants.create(
            model=model, name=f"Assistant {index}", description="migrated", instructions=f"Be helpful #{index}.",
            tools=[{"type": "code_interpreter"},
                   {"type": "function", "function": {"name": "lookup", "description": "Look up",
                                                     "parameters": {"type": "object", "properties": {}}}}],
            tool_resources={"code_interpreter": {"file_ids": [document]}},
            metadata={"team": "finance", "index": str(index)}, temperature=0.3).id)

    def thread_with_messages(index: int) -> str:
        thread = client.beta.threads.create(metadata={"user": f"u{index}"},
                                            tool_resources={"code_interpreter": {"file_ids": [document]}})
        for number in range(messages_per_thread):
            kwargs: dict = {"metadata": {"n": str(number)}}
            if number == 0:
                kwargs["attachments"] = [{"file_id": document, "tools": [{"type": "code_interpreter"}]}]
            if number == 1:
                content = [{"type": "text", "text": f"see the chart {index}"},
                           {"type": "image_file", "image_file": {"file_id": image}}]
            else:
                content = f"thread {index} message {number} " + "lorem ipsum " * 10
            client.beta.threads.messages.create(thread.id, role="assistant" if number % 3 == 2 else "user",
                                                content=content, **kwargs)
        return thread.id

    with ThreadPoolExecutor(workers) as pool:
        data.thread_ids = list(pool.map(thread_with_messages, range(threads)))
    data.messages = threads * messages_per_thread
    return data
