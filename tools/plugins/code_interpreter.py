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

In a response, the sandbox is the response's container (the Containers API; which
one is decided at create and kept in its tool options): its session, its files
at /mnt/data, and the files the code produces, which become container files
too (cited as `container_file_citation`). The call is a `code_interpreter_call`
item, its outputs shown under `include=["code_interpreter_call.outputs"]`.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Literal

from core import filenames, settings, tool_arguments
from core.errors import NotFound
from core.repositories import shared
from core.run_bookkeeping import Produced, StepBookkeeping
from core.run_events import payloads
from core.run_events.payloads import Event
from core.tool_plugins import (
    CallContext,
    Finished,
    ItemView,
    Offer,
    StepCall,
    ToolPlugin,
    TurnContext,
    Where,
    builtin_run_tool,
)
from core.wire.response_objects import item_id
from tools.code_interpreter import DATA_DIR, Execution, InputFile, InputUnavailable, SandboxFile, sandbox_from_settings
from tools.plugins import code_interpreter_containers as containers

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
    return named_files(principal, file_ids)


def container_files(principal: str, options: dict) -> list[dict]:
    """The files a response's container holds (by their container file ids), or — while no container is
    made yet (a count of input tokens) — the files its auto container would be given."""
    if options.get("container_id") is None:
        return named_files(principal, options.get("file_ids") or [])
    try:
        stored = shared.containers().all_files(principal, options["container_id"])
    except NotFound:
        return []  # deleted since the response began: its calls say so
    return [{"file_id": item["id"], "name": item["path"].rsplit("/", 1)[-1]} for item in stored]


def named_files(principal: str, file_ids: list[str]) -> list[dict]:
    """Files by the names they get at /mnt/data (sanitized; a repeated name is prefixed with its id)."""
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


def execute(principal: str, session_id: str, code: str, files: list[dict], container_id: str | None = None) -> dict:
    """Run the code in the session (the thread's, or a response's container); store what it produced as
    files (and container files). Returns the step's record of it."""
    if container_id is not None:
        try:
            shared.containers().touch(principal, container_id, int(time.time()))
        except NotFound:
            return {"outputs": [], "produced": [],
                    "model_output": f"The container {container_id} was deleted: code cannot run in it any more."}
    inputs = [_streamed(principal, entry["file_id"], entry["name"], container_id) for entry in files]
    result = sandbox_from_settings().execute(session_id, code, inputs)
    images, created_files, withheld = returned_files(result, int(settings.get_str("CODE_INTERPRETER_MAX_FILES_PER_CALL")))
    produced: list[dict] = []
    outputs: list[dict] = []
    if result.logs or result.error:
        outputs.append({"type": "logs", "logs": "\n".join(part for part in (result.logs, result.error) if part)})
    try:
        for image in images:
            produced.append(_store(principal, image, "image", container_id))
            outputs.append({"type": "image", "image": {"file_id": produced[-1]["file_id"]}})
        for created in created_files:
            produced.append(_store(principal, created, "file", container_id))
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
    """Delete file objects (and container files) a call made whose step could not be stored: nothing
    would ever reference them."""
    for item in produced:
        try:
            shared.files().delete(principal, item["file_id"])
            if item.get("container_file_id"):
                shared.containers().delete_file(principal, item["container_id"], item["container_file_id"])
        except Exception:  # best effort: the step's failure is what the caller must hear about
            continue


def _streamed(principal: str, file_id: str, name: str, container_id: str | None) -> InputFile:
    """An input the sandbox downloads only if its session lacks it, chunk by chunk from Blob storage (a
    file object's, or in a container its container file's)."""

    def open_stream():
        try:
            if container_id is not None:
                record, chunks = shared.containers().file_content(principal, container_id, file_id)
            else:
                record, chunks = shared.files().content(principal, file_id)
        except NotFound:
            raise InputUnavailable(f"file {file_id} was deleted") from None
        return record["bytes"], chunks

    return InputFile(name, file_id, open_stream)


def _store(principal: str, produced: SandboxFile, kind: str, container_id: str | None) -> dict:
    """A produced file as a file object (which the thread's message cites) and, in a container, as a
    container file too (which the response's answer cites)."""
    at = int(time.time())
    record = shared.files().create(principal, filename=produced.name, purpose=OUTPUT_PURPOSE, chunks=produced.chunks(),
                                   created_at=at)
    made = {"kind": kind, "name": produced.name, "file_id": record["id"]}
    if container_id is not None:
        try:
            copied = shared.containers().add_file(principal, container_id, name=produced.name, chunks=produced.chunks(),
                                                  source="assistant", created_at=at)
        except BaseException:
            discard(principal, [made])
            raise
        made.update(container_id=container_id, container_file_id=copied["id"])
    return made


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
        options = turn.books.response_tools.get(TOOL_NAME)
        if options is not None:
            return container_files(turn.principal, options)
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
        container_id = (context.run_books.response_tools.get(TOOL_NAME) or {}).get("container_id")
        result = execute(context.principal, container_id or context.thread_id, context.call[TOOL_NAME]["input"],
                         [item.model_dump() for item in context.run_books.code_files], container_id)
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

    def response_item(self, call: dict, books: StepBookkeeping | None, done: bool, view: ItemView) -> dict:
        return response_item(call, books, done, view)

    def response_events(self, phase: Literal["opened", "done"], item: dict, output_index: int) -> list[dict]:
        kind = "in_progress" if phase == "opened" else "completed"
        return [{"type": f"{EVENTS}.{kind}", "item_id": item["id"], "output_index": output_index}]

    def response_delta_events(self, item: dict, output_index: int, delta: dict) -> list[dict]:
        return code_events(item, output_index, delta)

    def check_declared(self, principal: str, declared: Any, param: str, at: int) -> None:
        containers.check_declared(principal, declared.container, param, at)

    def ready_options(self, principal: str, options: dict, created_at: int) -> dict:
        return containers.ready_options(principal, options, created_at)

    def response_citations(self, text: str, annotations: list[dict],
                           calls: list[tuple[dict, StepBookkeeping]]) -> list[dict]:
        produced = [item for call, books in calls if call.get("type") == TOOL_NAME for item in books.produced]
        return containers.container_citations(annotations, produced)

    def cites_calls(self, text: str, annotations: list[dict]) -> bool:
        return any(annotation.get("type") == "file_path" for annotation in annotations)


TOOL = CodeInterpreter()


# -- the Responses wire ----------------------------------------------------------------------

OUTPUTS_INCLUDE = "code_interpreter_call.outputs"
EVENTS = "response.code_interpreter_call"


def content_path(container_id: str, container_file_id: str) -> str:
    """Where a container file's bytes are served, from the API's root (an image output's `url`)."""
    return f"/v1/containers/{container_id}/files/{container_file_id}/content"


def response_item(call: dict, books: StepBookkeeping | None, done: bool, view: ItemView) -> dict:
    """The call as a `code_interpreter_call` item. While the model writes it (`books` None, from its first
    delta) its code is still to come (code_events adds it); its outputs only under `include`, images as
    the content path of their container files."""
    container_id = (view.options.get(TOOL_NAME) or {}).get("container_id") or ""
    code = call[TOOL_NAME].get("input") if books is not None else ""
    outputs = None
    if done and books is not None and OUTPUTS_INCLUDE in view.include:
        in_container = {item.file_id: item.container_file_id for item in books.produced if item.container_file_id}
        outputs = []
        for output in call[TOOL_NAME].get("outputs") or []:
            if output["type"] == "logs":
                outputs.append({"type": "logs", "logs": output["logs"]})
            elif output["image"]["file_id"] in in_container:
                outputs.append({"type": "image", "url": content_path(container_id, in_container[output["image"]["file_id"]])})
    status = "completed" if done else "interpreting" if code else "in_progress"
    return {"id": item_id("ci", call["id"]), "type": "code_interpreter_call", "code": code,
            "container_id": container_id, "outputs": outputs, "status": status}


def code_events(item: dict, output_index: int, delta: dict) -> list[dict]:
    """A call's code as the stream shows it, once the model has written it (the run's step delta carries
    it whole): the code's delta and done, then interpreting. Extends `item` with the code."""
    code = (delta.get(TOOL_NAME) or {}).get("input")
    if not code or item.get("code"):
        return []
    item.update(code=code, status="interpreting")
    where = {"item_id": item["id"], "output_index": output_index}
    return [{"type": f"{EVENTS}_code.delta", **where, "delta": code},
            {"type": f"{EVENTS}_code.done", **where, "code": code},
            {"type": f"{EVENTS}.interpreting", **where}]
