"""Run and run-step request bodies and objects (Assistants v2)."""


from typing import Annotated, Any, Literal, Union

from pydantic import Field, model_validator

from core import run_machine
from core.errors import InvalidRequest
from core.model_context import instructions_for
from core.wire.common import (
    FUNCTION_NAME,
    Metadata,
    RequestModel,
    ResponseFormat,
    Tool,
    ToolResources,
    WireModel,
    openai_error,
    response_format_wire,
    tool_wire,
)
from core.wire.messages import MessageCreate
from core.wire.threads import ThreadCreate

# The statuses are core.run_machine's (the one place they are defined), spelled out for the schema and
# for the type checker (tests/core/test_run_machine.py checks they are the same, in the same order).
RunStatus = Literal["queued", "in_progress", "requires_action", "cancelling", "cancelled", "failed", "completed",
                    "incomplete", "expired"]
StepStatus = Literal["in_progress", "cancelled", "failed", "completed", "expired"]


class TruncationStrategy(RequestModel):
    type: Literal["auto", "last_messages"]
    last_messages: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _last_messages_goes_with_its_type(self) -> "TruncationStrategy":
        if self.type == "last_messages" and self.last_messages is None:
            raise openai_error("Invalid 'truncation_strategy.last_messages': required when type is "
                               "'last_messages'.", "missing_required_parameter")
        return self


class FunctionName(RequestModel):
    name: Annotated[str, Field(pattern=FUNCTION_NAME)]


class ToolChoiceFunction(RequestModel):
    type: Literal["function"]
    function: FunctionName


class ToolChoiceBuiltin(RequestModel):
    type: Literal["code_interpreter", "file_search"]


ToolChoice = Union[Literal["none", "auto", "required"], ToolChoiceFunction, ToolChoiceBuiltin]


class RunSettings(RequestModel):
    """What a run may override of its assistant (shared by create-run and create-thread-and-run)."""

    assistant_id: str
    model: str | None = None
    instructions: str | None = Field(default=None, max_length=256_000)
    tools: list[Tool] | None = Field(default=None, max_length=128)
    metadata: Metadata | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_prompt_tokens: int | None = Field(default=None, ge=256)
    max_completion_tokens: int | None = Field(default=None, ge=16)
    truncation_strategy: TruncationStrategy | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    stream: bool | None = None


class RunCreate(RunSettings):
    additional_instructions: str | None = Field(default=None, max_length=256_000)
    additional_messages: list[MessageCreate] | None = None


class ThreadAndRunCreate(RunSettings):
    thread: ThreadCreate | None = None
    tool_resources: ToolResources | None = None


class RunUpdate(RequestModel):
    metadata: Metadata | None = None


class ToolOutput(RequestModel):
    tool_call_id: str
    output: str = Field(max_length=512_000)


class SubmitToolOutputs(RequestModel):
    tool_outputs: list[ToolOutput] = Field(min_length=1, max_length=128)
    stream: bool | None = None


class Run(WireModel):
    id: str
    object: Literal["thread.run"] = "thread.run"
    created_at: int
    thread_id: str
    assistant_id: str
    status: RunStatus
    required_action: dict[str, Any] | None
    last_error: dict[str, Any] | None
    expires_at: int | None
    started_at: int | None
    cancelled_at: int | None
    failed_at: int | None
    completed_at: int | None
    incomplete_details: dict[str, Any] | None
    model: str
    instructions: str
    tools: list[dict[str, Any]]
    metadata: dict[str, str]
    usage: dict[str, int] | None
    temperature: float | None
    top_p: float | None
    max_prompt_tokens: int | None
    max_completion_tokens: int | None
    truncation_strategy: dict[str, Any]
    response_format: Any
    tool_choice: Any
    parallel_tool_calls: bool


class RunStep(WireModel):
    id: str
    object: Literal["thread.run.step"] = "thread.run.step"
    created_at: int
    run_id: str
    assistant_id: str
    thread_id: str
    type: Literal["message_creation", "tool_calls"]
    status: StepStatus
    cancelled_at: int | None
    completed_at: int | None
    expired_at: int | None
    failed_at: int | None
    last_error: dict[str, Any] | None
    step_details: dict[str, Any]
    usage: dict[str, int] | None
    metadata: dict[str, str]


def message_creation(message_id: str) -> dict[str, Any]:
    """A message_creation step's details: the step that shows the message `message_id` being written."""
    return {"type": "message_creation", "message_creation": {"message_id": message_id}}


def new_step(run: dict[str, Any], step_id: str, at: int, status: StepStatus, details: dict[str, Any],
             usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """A step of `run` as stored and shown, born in progress (it streams) or completed (whole at once);
    a later status change is core.run_machine's."""
    return RunStep(
        id=step_id, created_at=at, run_id=run["id"], assistant_id=run["assistant_id"], thread_id=run["thread_id"],
        type=details["type"], status=status, cancelled_at=None,
        completed_at=at if status == run_machine.COMPLETED else None, expired_at=None, failed_at=None,
        last_error=None, step_details=details, usage=usage, metadata={},
    ).model_dump(mode="json")


def unmatched_tool_choice(choice: Any, tools: list[dict[str, Any]]) -> str | None:
    """What a run's tool_choice names that is not among its tools (None: it names one of them, or none):
    a choice the model could not follow is refused at create rather than ignored."""
    if not isinstance(choice, dict):
        return None
    if choice.get("type") == "function":
        name = choice["function"]["name"]
        declared = any(tool.get("type") == "function" and tool["function"]["name"] == name for tool in tools)
        return None if declared else name
    return None if any(tool.get("type") == choice.get("type") for tool in tools) else str(choice.get("type"))


def new_run(run_id: str, thread_id: str, created_at: int, expires_at: int, assistant: dict[str, Any],
            body: RunSettings) -> dict[str, Any]:
    """A queued run with its effective settings: the run's overrides, else the assistant's."""
    tools = [tool_wire(tool) for tool in body.tools] if body.tools is not None else assistant["tools"]
    overrides = {"instructions": body.instructions,
                 "additional_instructions": getattr(body, "additional_instructions", None)}
    truncation = body.truncation_strategy.model_dump(mode="json") if body.truncation_strategy \
        else {"type": "auto", "last_messages": None}
    tool_choice = body.tool_choice if isinstance(body.tool_choice, str) or body.tool_choice is None \
        else body.tool_choice.model_dump(mode="json")
    unmatched = unmatched_tool_choice(tool_choice, tools)
    if unmatched is not None:
        raise InvalidRequest(f"Tool choice '{unmatched}' not found in the run's tools (its own, or its assistant's).",
                             param="tool_choice", code="invalid_value")
    return Run(
        id=run_id, created_at=created_at, thread_id=thread_id, assistant_id=assistant["id"], status=run_machine.QUEUED,
        required_action=None, last_error=None, expires_at=expires_at, started_at=None, cancelled_at=None,
        failed_at=None, completed_at=None, incomplete_details=None,
        model=body.model or assistant["model"], instructions=instructions_for(assistant, overrides),
        tools=tools, metadata=body.metadata or {}, usage=None,
        temperature=body.temperature if body.temperature is not None else assistant.get("temperature"),
        top_p=body.top_p if body.top_p is not None else assistant.get("top_p"),
        max_prompt_tokens=body.max_prompt_tokens, max_completion_tokens=body.max_completion_tokens,
        truncation_strategy=truncation,
        response_format=response_format_wire(body.response_format) if body.response_format is not None
        else assistant.get("response_format", "auto"),
        tool_choice=tool_choice if tool_choice is not None else "auto",
        parallel_tool_calls=body.parallel_tool_calls if body.parallel_tool_calls is not None else True,
    ).model_dump(mode="json")
