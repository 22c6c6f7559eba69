"""Thread request bodies and the `thread` object."""


from typing import Any, Literal

from pydantic import Field

from core.wire.common import Metadata, RequestModel, ToolResources, WireModel, tool_resources_wire
from core.wire.messages import MessageCreate


class ThreadCreate(RequestModel):
    messages: list[MessageCreate] = Field(default_factory=list)
    tool_resources: ToolResources | None = None
    metadata: Metadata | None = None


class ThreadUpdate(RequestModel):
    tool_resources: ToolResources | None = None
    metadata: Metadata | None = None


class Thread(WireModel):
    id: str
    object: Literal["thread"] = "thread"
    created_at: int
    metadata: dict[str, str]
    tool_resources: dict[str, Any]


def new_thread(thread_id: str, created_at: int, body: ThreadCreate | None) -> dict[str, Any]:
    return Thread(
        id=thread_id,
        created_at=created_at,
        metadata=(body.metadata if body else None) or {},
        tool_resources=tool_resources_wire(body.tool_resources if body else None),
    ).model_dump(mode="json")


def apply_update(current: dict[str, Any], body: ThreadUpdate) -> dict[str, Any]:
    updated = dict(current)
    if "metadata" in body.model_fields_set:
        updated["metadata"] = body.metadata or {}
    if "tool_resources" in body.model_fields_set:
        updated["tool_resources"] = tool_resources_wire(body.tool_resources, current.get("tool_resources")) \
            if body.tool_resources is not None else {}
    return updated
