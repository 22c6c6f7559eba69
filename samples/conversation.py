"""One user's thread with an assistant: ask, answer the functions the run asks for, keep what came back.

This is the loop every seed notebook wrote by hand (`process_prompt`), on the SDK's
poll helpers: add the message, run, and while the run `requires_action` run the
client's own functions and submit their outputs. What the run produced is collected
into a `Turn` — its answer, the code it ran and the logs, the functions the client
answered, and the images and files it made, downloaded into the output folder — so a
sample can print it and a test can check it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

import openai

from samples.functions import ClientFunction

SANDBOX_PREFIX = "sandbox:"


@dataclass
class CodeRun:
    code: str
    logs: str


@dataclass
class FunctionCall:
    name: str
    arguments: dict[str, Any]
    output: str


@dataclass
class Turn:
    """What one prompt produced."""

    prompt: str
    status: str = ""
    answer: str = ""
    code_runs: list[CodeRun] = field(default_factory=list)
    function_calls: list[FunctionCall] = field(default_factory=list)
    saved: list[Path] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)


def call_function(functions: dict[str, ClientFunction], name: str, arguments_json: str) -> tuple[dict, str]:
    """Run one requested function; bad arguments or an unknown name become an output, not a crash."""
    try:
        arguments = json.loads(arguments_json or "{}")
    except ValueError:
        return {}, json.dumps({"error": "the arguments were not valid JSON"})
    if not isinstance(arguments, dict):
        return {}, json.dumps({"error": "the arguments must be a JSON object"})
    function = functions.get(name)
    if function is None:
        return arguments, json.dumps({"error": f"this client has no function named {name}"})
    try:
        return arguments, function(arguments)
    except Exception as error:  # noqa: BLE001 - a crashing function must not leave the run waiting until it expires
        return arguments, json.dumps({"error": f"{name} failed on the client ({type(error).__name__})"})


def sandbox_file_name(annotation_text: str, file_id: str) -> str:
    """`sandbox:/mnt/data/report.csv` → `report.csv`: a plain name that stays in the output folder on any OS
    (no directories, drive letters or backslashes); anything odd falls back to the file id."""
    path = annotation_text.removeprefix(SANDBOX_PREFIX).replace("\\", "/")
    name = re.sub(r"[^\w.\- ]", "_", PurePosixPath(path).name).strip(" .")
    return name or file_id


class Conversation:
    """A thread with one assistant, for one user; `ask` runs a prompt to its end."""

    def __init__(self, client: openai.OpenAI, assistant_id: str, thread_id: str, out_dir: Path,
                 functions: dict[str, ClientFunction] | None = None, instructions: str | None = None,
                 on_output_file: Callable[[str], None] = lambda file_id: None):
        self.client = client
        self.assistant_id = assistant_id
        self.thread_id = thread_id
        self.out_dir = out_dir
        self.functions = functions or {}
        self.instructions = instructions
        self.on_output_file = on_output_file  # told of every file the run made, once downloaded

    def ask(self, prompt: str) -> Turn:
        turn = Turn(prompt=prompt)
        runs = self.client.beta.threads.runs
        self.client.beta.threads.messages.create(thread_id=self.thread_id, role="user", content=prompt)
        run = runs.create_and_poll(thread_id=self.thread_id, assistant_id=self.assistant_id,
                                   additional_instructions=self.instructions, poll_interval_ms=200)
        while run.status == "requires_action":
            outputs = []
            for call in run.required_action.submit_tool_outputs.tool_calls:
                arguments, output = call_function(self.functions, call.function.name, call.function.arguments)
                turn.function_calls.append(FunctionCall(call.function.name, arguments, output))
                outputs.append({"tool_call_id": call.id, "output": output})
            run = runs.submit_tool_outputs_and_poll(run_id=run.id, thread_id=self.thread_id, tool_outputs=outputs,
                                                    poll_interval_ms=200)
        turn.status = run.status
        if run.status != "completed":
            error = run.last_error.message if run.last_error else run.status
            turn.answer = f"[run {run.status}: {error}]"
            return turn
        self._collect_steps(run.id, turn)
        self._collect_messages(run.id, turn)
        return turn

    def _collect_steps(self, run_id: str, turn: Turn) -> None:
        steps = self.client.beta.threads.runs.steps.list(run_id=run_id, thread_id=self.thread_id, order="asc")
        for step in steps:
            if step.type != "tool_calls":
                continue
            for call in step.step_details.tool_calls:
                if call.type == "code_interpreter":
                    logs = "".join(out.logs for out in call.code_interpreter.outputs if out.type == "logs")
                    turn.code_runs.append(CodeRun(call.code_interpreter.input, logs))

    def _collect_messages(self, run_id: str, turn: Turn) -> None:
        messages = self.client.beta.threads.messages.list(thread_id=self.thread_id, run_id=run_id, order="asc")
        texts = []
        for message in messages:
            for part in message.content:
                if part.type == "image_file":
                    name = sandbox_file_name(f"{part.image_file.file_id}.png", "image.png")
                    turn.saved.append(self._download(part.image_file.file_id, name))
                elif part.type == "text":
                    texts.append(part.text.value)
                    for annotation in part.text.annotations:
                        if annotation.type == "file_path":
                            name = sandbox_file_name(annotation.text, annotation.file_path.file_id)
                            turn.saved.append(self._download(annotation.file_path.file_id, name))
                        elif annotation.type == "file_citation":
                            turn.citations.append(annotation.text)
        turn.answer = "\n".join(texts)

    def _download(self, file_id: str, name: str) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        target = self.out_dir / name
        target.write_bytes(self.client.files.content(file_id).read())
        self.on_output_file(file_id)
        return target


def show(turn: Turn, who: str = "user") -> str:
    """A turn as the notebooks printed it: the prompt, the code that ran, the answer, saved files."""
    lines = [f"{who}: {turn.prompt}"]
    for call in turn.function_calls:
        lines.append(f"  [function {call.name}({json.dumps(call.arguments)}) -> {call.output}]")
    for run in turn.code_runs:
        lines.append("  [code_interpreter]\n" + _indent(run.code, "    | "))
        if run.logs.strip():
            lines.append(_indent(run.logs.rstrip(), "    > "))
    lines.append(f"assistant: {turn.answer}")
    lines.extend(f"  [cited {citation}]" for citation in turn.citations)
    lines.extend(f"  [saved {path}]" for path in turn.saved)
    return "\n".join(lines) + "\n"


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())
