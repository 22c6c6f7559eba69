"""The resources a response's built-in tools name, checked and readied before its run is stored.

Why apart from api.response_runs: these are the tool-specific reads and writes of a create (vector
stores and containers are the caller's; an auto container is made with its files), kept out of the
placement and storage of the response itself.
"""

from __future__ import annotations

from api import services
from api.file_search_resources import check_owned_stores
from core.errors import InvalidRequest
from core.repositories import shared
from core.wire.containers import container_status
from core.wire.response_tools import CODE_INTERPRETER, CodeInterpreterTool, run_options
from core.wire.responses import ResponseCreate


def check_stores(principal: str, body: ResponseCreate) -> None:
    """Every vector store a file_search tool names is the caller's, as for a run's resources."""
    for position, tool in enumerate(body.tools or []):
        check_owned_stores(principal, getattr(tool, "vector_store_ids", None) or [], f"tools[{position}].vector_store_ids")


def check_containers(principal: str, body: ResponseCreate, at: int) -> None:
    """A code_interpreter's container is the caller's and running; an auto container's files are the caller's."""
    for position, tool in enumerate(body.tools or []):
        if not isinstance(tool, CodeInterpreterTool):
            continue
        if isinstance(tool.container, str):
            if container_status(shared.containers().get(principal, tool.container), at) == "expired":
                raise InvalidRequest(f"Container '{tool.container}' has expired.", param=f"tools[{position}].container",
                                     code="container_expired")
        else:
            services.require_files(principal, [(file_id, f"tools[{position}].container.file_ids")
                                               for file_id in tool.container.file_ids or []])


def tool_options(principal: str, body: ResponseCreate, created_at: int) -> dict[str, dict]:
    """The tools' Responses options, with the container code_interpreter runs in: the one named, or one
    made now for an auto container (with its files), as OpenAI makes one."""
    options = run_options(body.tools or [])
    chosen = options.get(CODE_INTERPRETER)
    if chosen is None or chosen["container_id"] is not None:
        return options
    container = shared.containers().create(principal, name="response code interpreter", created_at=created_at,
                                           file_ids=chosen["file_ids"], memory_limit=chosen["memory_limit"])
    return {**options, CODE_INTERPRETER: {"container_id": container["id"]}}
