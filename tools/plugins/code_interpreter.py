"""code_interpreter as a plug-in: offering it to the model, running its calls, shaping what comes back.

The model sees code_interpreter as a function (`code_interpreter(code)`) whose
description lists the files at /mnt/data, so it works with any chat model. A
call runs in the thread's sandbox session (tools/code_interpreter). Its run step
records OpenAI's shape — `input` and `outputs` (`logs`, `image`) — and keeps,
in the step's bookkeeping (core.run_bookkeeping), the text the model reads back and the
files the call produced, which the run's final message cites: images as
`image_file` parts, files as `file_path` annotations on `sandbox:/mnt/data/<name>`.
The files a turn offers are kept in the run's bookkeeping (`code_files`): the
calls of that turn get exactly those.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from core import filenames, settings, tool_arguments
from core.errors import NotFound
from core.repositories import shared
from core.run_bookkeeping import Produced, StepBookkeeping
from core.run_events import payloads
from core.run_events.payloads import Event
from core.tool_plugins import CallContext, Finished, Offer, StepCall, ToolPlugin, TurnContext, Where, builtin_run_tool
from tools.code_interpreter import DATA_DIR, Execution, InputFile, InputUnavailable, SandboxFile, sandbox_from_settings

TOOL_NAME = "code_interpreter"
OUTPUT_PURPOSE = "assistants_output"
_SANDBOX_LINK = re.compile(r"sandbox:" + re.escape(DATA_DIR) + r"/([^\s)\]\"'`]+)")


def _resource_file_ids(record: dict | None) -> list[str]:
    resources = (record or {}).get("tool_resources") or {}
    return list((resources.get(TOOL_NAME) or {}).get("file_ids") or [])


def input_files(principal: str, run: dict, thread: dict, messages: list[dict]) -> list[dict]:
    """The files the sandbox holds for this turn: assistant's, thread's and attached ones, by name."""
    try:
        assistant = shared.assistants().get(principal, run["assistant_id"])
    except NotFound:
        assistant = None
    file_ids = _resource_file_ids(assistant) + _resource_file_ids(thread)
    for message in messages:
        for attachment in message.get("attachments") or []:
            if any(tool.get("type") == TOOL_NAME for tool in attachment.get("tools") or []):
                file_ids.append(attachment["file_id"])
    found, names = [], set()
    for file_id in dict.fromkeys(file_ids):
        try:
            record = shared.files().get(principal, file_id)
        except NotFound:
            continue  # deleted since it was attached: the model is simply not offered it
        name = filenames.sanitize(record["filename"], default="file")
        if name in names:
            name = f"{file_id}-{name}"
        names.add(name)
        found.append({"file_id": file_id, "name": name})
    return found


def chat_tool(files: list[dict]) -> dict:
    listing = "\n".join(f"- {DATA_DIR}/{f['name']}" for f in files) or "(none yet)"
    return {"type": "function", "function": {
        "name": TOOL_NAME,
        "description": (
            "Run Python code in a stateful sandbox (like a Jupyter notebook: variables, imports and files "
            "persist between calls in this conversation; the last expression's value is printed). "
            "numpy, pandas, matplotlib, scipy, sympy and openpyxl are installed; there is no internet. "
            f"Files uploaded by the user are at:\n{listing}\n"
            f"Save files for the user under {DATA_DIR}/ and cite them as sandbox:{DATA_DIR}/<name>. "
            "Figures left open or shown with plt.show() are returned to the user as images."),
        "parameters": {"type": "object", "properties": {"code": {
            "type": "string", "description": "The Python code to run."}}, "required": ["code"]},
    }}


def code_of(arguments: str) -> str:
    """The code of a call: `{"code": ...}`, or the raw text when a model sends bare code."""
    return tool_arguments.text_argument(arguments, "code")


def step_call(call_id: str, arguments: str) -> dict:
    return {"id": call_id, "type": TOOL_NAME, TOOL_NAME: {"input": code_of(arguments), "outputs": []}}


def execute(principal: str, thread_id: str, code: str, files: list[dict]) -> dict:
    """Run the code in the thread's session; store what it produced as files. Returns the step's record of it."""
    inputs = [_streamed(principal, entry["file_id"], entry["name"]) for entry in files]
    result = sandbox_from_settings().execute(thread_id, code, inputs)
    images, created_files, withheld = returned_files(result, int(settings.get_str("CODE_INTERPRETER_MAX_FILES_PER_CALL")))
    produced: list[dict] = []
    outputs: list[dict] = []
    if result.logs or result.error:
        outputs.append({"type": "logs", "logs": "\n".join(part for part in (result.logs, result.error) if part)})
    try:
        for image in images:
            file_id = _store(principal, image)
            produced.append({"kind": "image", "name": image.name, "file_id": file_id})
            outputs.append({"type": "image", "image": {"file_id": file_id}})
        for created in created_files:
            produced.append({"kind": "file", "name": created.name, "file_id": _store(principal, created)})
    except BaseException:
        discard(principal, produced)
        raise
    return {"outputs": outputs, "model_output": _model_text(result, produced, withheld), "produced": produced}


def returned_files(result: Execution, limit: int) -> tuple[list[SandboxFile], list[SandboxFile], list[str]]:
    """The figures and files one call returns (figures first, `limit` in all) and the names of the rest:
    a call that writes thousands of files must not make thousands of file objects, nor a step record
    past what storage holds."""
    images = result.images[:limit]
    files = result.files[:max(0, limit - len(images))]
    withheld = [item.name for item in result.images[len(images):]] + [item.name for item in result.files[len(files):]]
    return images, files, withheld


def discard(principal: str, produced: list[dict]) -> None:
    """Delete file objects a call made whose step could not be stored: nothing would ever reference them."""
    for item in produced:
        try:
            shared.files().delete(principal, item["file_id"])
        except Exception:  # best effort: the step's failure is what the caller must hear about
            continue


def _streamed(principal: str, file_id: str, name: str) -> InputFile:
    """An input the sandbox downloads only if its session lacks it, chunk by chunk from Blob storage."""

    def open_stream():
        try:
            record, chunks = shared.files().content(principal, file_id)
        except NotFound:
            raise InputUnavailable(f"file {file_id} was deleted") from None
        return record["bytes"], chunks

    return InputFile(name, file_id, open_stream)


def _store(principal: str, produced: SandboxFile) -> str:
    record = shared.files().create(principal, filename=produced.name, purpose=OUTPUT_PURPOSE, chunks=produced.chunks(),
                             created_at=int(time.time()))
    return record["id"]


WITHHELD_NAMES_SHOWN = 50


def _model_text(result: Execution, produced: list[dict], withheld: list[str]) -> str:
    lines = [result.logs.rstrip()] if result.logs.strip() else []
    if result.error:
        lines.append(result.error.rstrip())
    for item in produced:
        if item["kind"] == "image":
            lines.append(f"[an image was produced and shown to the user: {item['name']}]")
        else:
            lines.append(f"[file saved: sandbox:{DATA_DIR}/{item['name']}]")
    if withheld:
        names = ", ".join(withheld[:WITHHELD_NAMES_SHOWN]) + (", ..." if len(withheld) > WITHHELD_NAMES_SHOWN else "")
        lines.append(f"[{len(withheld)} more files were written but not returned to the user (at most "
                     f"{len(produced)} per call); they stay in {DATA_DIR}: {names}]")
    return "\n".join(lines) or "(no output)"


def _produced(steps: list[tuple[dict, StepBookkeeping]]) -> list[dict]:
    return [item.model_dump() for _, books in steps for item in books.produced]


def image_parts(produced: list[dict]) -> list[dict]:
    """The run's figures, as the `image_file` parts its answer shows before the text."""
    return [{"type": "image_file", "image_file": {"file_id": item["file_id"], "detail": "auto"}}
            for item in produced if item["kind"] == "image"]


def file_path_annotations(text: str, produced: list[dict]) -> list[dict]:
    """`file_path` annotations for the sandbox:/mnt/data links in `text` that name a file the run made."""
    latest = {item["name"]: item["file_id"] for item in produced if item["kind"] == "file"}
    return [{"type": "file_path", "text": match.group(0), "start_index": match.start(), "end_index": match.end(),
             "file_path": {"file_id": latest[match.group(1)]}}
            for match in _SANDBOX_LINK.finditer(text) if match.group(1) in latest]


def call_delta(step_id: str, index: int, *, call_id: str | None = None, code: str | None = None,
               outputs: list[dict] | None = None, first_output: int = 0) -> Event:
    """Input pieces and outputs of a code_interpreter call; outputs are numbered from `first_output`."""
    body: dict[str, Any] = {}
    if code is not None:
        body["input"] = code
    if outputs:
        body["outputs"] = [{"index": first_output + offset, **output} for offset, output in enumerate(outputs)]
    call: dict[str, Any] = {"index": index, "type": TOOL_NAME, TOOL_NAME: body}
    if call_id is not None:
        call["id"] = call_id
    return payloads.step_delta(step_id, call)


class CodeInterpreter(ToolPlugin):
    kind = TOOL_NAME

    def enabled(self, run: dict) -> bool:
        return builtin_run_tool(run, TOOL_NAME) is not None

    def resources(self, turn: TurnContext) -> list[dict]:
        """The files the sandbox holds for this turn (they are listed in the offered function)."""
        thread = shared.runs().threads.get(turn.principal, turn.run["thread_id"])
        return input_files(turn.principal, turn.run, thread, turn.history)

    def offered(self, run: dict, resources: list[dict]) -> list[dict]:
        return [chat_tool(resources)]

    def run_books(self, resources: list[dict]) -> dict:
        return {"code_files": resources}

    def route(self, name: str, offer: Offer) -> Where | None:
        return "server" if name == TOOL_NAME and self.enabled(offer.run) else None

    def step_call(self, call_id: str, name: str, arguments: str, where: Where, run: dict) -> StepCall:
        return StepCall(step_call(call_id, arguments))

    def model_output(self, call: dict, books: StepBookkeeping) -> str | None:
        return books.outputs.get(call["id"])

    def chat_call(self, call: dict, books: StepBookkeeping) -> tuple[str, str]:
        return TOOL_NAME, json.dumps({"code": call[TOOL_NAME]["input"]})

    def execute(self, context: CallContext) -> Finished:
        result = execute(context.principal, context.thread_id, context.call[TOOL_NAME]["input"],
                         [item.model_dump() for item in context.run_books.code_files])
        return Finished(fill=lambda call: call[TOOL_NAME].update(outputs=result["outputs"]),
                        model_text=result["model_output"], kept={"produced": [Produced(**item) for item in result["produced"]]},
                        undo=lambda: discard(context.principal, result["produced"]))

    def stream_start(self, step_id: str, index: int, call_id: str | None, name: str, arguments: str) -> Event:
        return call_delta(step_id, index, call_id=call_id, code="")

    def stream_end(self, step_id: str, index: int, arguments: str) -> Event:
        return call_delta(step_id, index, code=code_of(arguments))  # the code is shown whole, once the model is done

    def whole_call_delta(self, step_id: str, index: int, call: dict) -> Event:
        return call_delta(step_id, index, call_id=call["id"], code=call[TOOL_NAME]["input"])

    def result_deltas(self, step_id: str, index: int, before: dict | None, after: dict) -> list[Event]:
        outputs = after[TOOL_NAME].get("outputs") or []
        shown = len(before[TOOL_NAME].get("outputs") or []) if before else 0
        return [call_delta(step_id, index, outputs=outputs[shown:], first_output=shown)] if len(outputs) > shown else []

    def leading_parts(self, steps: list[tuple[dict, StepBookkeeping]]) -> list[dict]:
        return image_parts(_produced(steps))

    def annotations(self, text: str, steps: list[tuple[dict, StepBookkeeping]]) -> list[dict]:
        return file_path_annotations(text, _produced(steps))


TOOL = CodeInterpreter()
