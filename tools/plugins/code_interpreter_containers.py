"""code_interpreter's container in a response (the Containers API), for its plug-in (code_interpreter.py):
the one a declaration names, checked at create; an auto one, made then with its files; and the answer's
links to files the code made, cited as the container's files. (A part of that plug-in, not a plug-in.)
"""

from __future__ import annotations

from core.errors import InvalidRequest
from core.references import require_files
from core.repositories import shared
from core.run_bookkeeping import Produced
from core.wire.containers import container_status
from core.wire.response_tools import AutoContainer


def check_declared(principal: str, container: str | AutoContainer, param: str, at: int) -> None:
    """A named container is the caller's and running; an auto container's files are the caller's."""
    if isinstance(container, str):
        if container_status(shared.containers().get(principal, container), at) == "expired":
            raise InvalidRequest(f"Container '{container}' has expired.", param=f"{param}.container",
                                 code="container_expired")
        return
    require_files(principal, [(file_id, f"{param}.container.file_ids") for file_id in container.file_ids or []])


def ready_options(principal: str, options: dict, created_at: int) -> dict:
    """The options with the container the calls run in: the one named, or one made now for an auto
    container (with its files), as OpenAI makes one."""
    if options["container_id"] is not None:
        return options
    container = shared.containers().create(principal, name="response code interpreter", created_at=created_at,
                                           file_ids=options["file_ids"], memory_limit=options["memory_limit"])
    return {"container_id": container["id"]}


def container_citations(annotations: list[dict], produced: list[Produced]) -> list[dict]:
    """An answer's links to files the code made (its Assistants `file_path` annotations), on the Responses
    wire: `container_file_citation`s of their container files."""
    by_file = {item.file_id: item for item in produced if item.container_file_id}
    cited = []
    for annotation in annotations:
        made = by_file.get((annotation.get("file_path") or {}).get("file_id", "")) \
            if annotation.get("type") == "file_path" else None
        if made is not None:
            cited.append({"type": "container_file_citation", "container_id": made.container_id,
                          "file_id": made.container_file_id, "filename": made.name,
                          "start_index": annotation["start_index"], "end_index": annotation["end_index"]})
    return cited
