"""Assistant request bodies and the `assistant` object."""


from typing import Any, Literal

from pydantic import Field

from core.wire.common import (
    Metadata,
    ReasoningEffort,
    RequestModel,
    ResponseFormat,
    Tool,
    ToolResources,
    WireModel,
    response_format_wire,
    tool_resources_wire,
    tool_wire,
)


class AssistantCreate(RequestModel):
    model: str
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=512)
    instructions: str | None = Field(default=None, max_length=256_000)
    tools: list[Tool] = Field(default_factory=list, max_length=128)
    tool_resources: ToolResources | None = None
    metadata: Metadata | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    response_format: ResponseFormat | None = None
    reasoning_effort: ReasoningEffort | None = None


class AssistantUpdate(RequestModel):
    """Every field optional; a field that is sent replaces the stored value."""

    # sent as null is a type error, as at OpenAI: None only marks "not sent" (read via model_fields_set)
    model: str = Field(default=None)  # type: ignore[assignment]
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=512)
    instructions: str | None = Field(default=None, max_length=256_000)
    tools: list[Tool] = Field(default=None, max_length=128)  # type: ignore[arg-type]  # None: not sent, as model
    tool_resources: ToolResources | None = None
    metadata: Metadata | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    response_format: ResponseFormat | None = None
    reasoning_effort: ReasoningEffort | None = None


class Assistant(WireModel):
    id: str
    object: Literal["assistant"] = "assistant"
    created_at: int
    name: str | None
    description: str | None
    model: str
    instructions: str | None
    tools: list[dict[str, Any]]
    tool_resources: dict[str, Any]
    metadata: dict[str, str]
    temperature: float | None
    top_p: float | None
    response_format: Any
    reasoning_effort: str | None = None


def new_assistant(assistant_id: str, created_at: int, body: AssistantCreate) -> dict[str, Any]:
    return Assistant(
        id=assistant_id,
        created_at=created_at,
        name=body.name,
        description=body.description,
        model=body.model,
        instructions=body.instructions,
        tools=[tool_wire(tool) for tool in body.tools],
        tool_resources=tool_resources_wire(body.tool_resources),
        metadata=body.metadata or {},
        temperature=1.0 if body.temperature is None else body.temperature,
        top_p=1.0 if body.top_p is None else body.top_p,
        response_format=response_format_wire(body.response_format),
        reasoning_effort=body.reasoning_effort,
    ).model_dump(mode="json")


def apply_update(current: dict[str, Any], body: AssistantUpdate) -> dict[str, Any]:
    """`current` with the fields the update sent; null resets a field to OpenAI's default."""
    updated = dict(current)
    sent = body.model_fields_set
    for field in ("name", "description", "instructions", "reasoning_effort"):
        if field in sent:
            updated[field] = getattr(body, field)
    if "model" in sent:
        updated["model"] = body.model
    if "tools" in sent:
        updated["tools"] = [tool_wire(tool) for tool in body.tools]
    if "tool_resources" in sent:
        updated["tool_resources"] = tool_resources_wire(body.tool_resources, current.get("tool_resources")) \
            if body.tool_resources is not None else {}
    if "metadata" in sent:
        updated["metadata"] = body.metadata or {}
    if "temperature" in sent:
        updated["temperature"] = 1.0 if body.temperature is None else body.temperature
    if "top_p" in sent:
        updated["top_p"] = 1.0 if body.top_p is None else body.top_p
    if "response_format" in sent:
        updated["response_format"] = response_format_wire(body.response_format)
    return Assistant.model_validate(updated).model_dump(mode="json")
