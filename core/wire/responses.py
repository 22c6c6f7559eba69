"""Responses API request bodies (POST /v1/responses), validated as OpenAI validates them.

Only what the service runs is accepted: messages with input_text / output_text parts and image and
file parts (core.wire.response_parts), function calls and their outputs, and the tools of
core.wire.response_tools. Everything else OpenAI accepts but this service does not run yet is refused
with a 400 that says so, never silently ignored.
"""


from typing import Annotated, Any, Literal, Self, Union, get_args

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

from core.wire.common import FUNCTION_NAME, JsonSchemaSpec, Metadata, RequestModel, openai_error
from core.wire.messages import MAX_CONTENT_CHARS
from core.wire.response_parts import InputFile, InputImage
from core.wire.response_tools import (
    UNSUPPORTED,
    CodeInterpreterTool,
    DeclaredTool,
    FileSearchTool,
    FunctionTool,
    ResponseTool,
    Unsupported,
    WebSearchTool,
    run_options,
    tool_family,
)

Text = Annotated[str, Field(max_length=MAX_CONTENT_CHARS)]


class InputText(RequestModel):
    type: Literal["input_text"]
    text: Text


class OutputText(RequestModel):
    """An earlier assistant turn given back as input."""

    type: Literal["output_text"]
    text: Text
    annotations: list[dict[str, Any]] | None = None
    logprobs: list[dict[str, Any]] | None = None


def _part_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if isinstance(kind, str) and kind in ("input_text", "output_text", "input_image", "input_file"):
        return kind
    return UNSUPPORTED if kind in ("input_audio", "refusal") else None


Part = Annotated[Union[Annotated[InputText, Tag("input_text")], Annotated[OutputText, Tag("output_text")],
                       Annotated[InputImage, Tag("input_image")], Annotated[InputFile, Tag("input_file")],
                       Annotated[Unsupported, Tag(UNSUPPORTED)]],
                 Discriminator(_part_tag, custom_error_type="invalid_value",
                               custom_error_message="expected a content part of type 'input_text', 'output_text', "
                                                    "'input_image' or 'input_file'")]


def _input_tag(value: Any) -> str | None:
    return "text" if isinstance(value, str) else "items" if isinstance(value, list) else None


class InputMessage(RequestModel):
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: Annotated[Union[Annotated[Text, Tag("text")], Annotated[list[Part], Field(min_length=1), Tag("items")]],
                       Discriminator(lambda value: _input_tag(value), custom_error_type="invalid_type",
                                     custom_error_message="expected a string or an array of content parts")]
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None
    phase: Literal["commentary", "final_answer"] | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content if isinstance(part, (InputText, OutputText)))

    def media(self) -> list[InputImage | InputFile]:
        """Its image and file parts, in order."""
        return [] if isinstance(self.content, str) else \
            [part for part in self.content if isinstance(part, (InputImage, InputFile))]


ITEM_ID_MAX = 128  # an item id given back (ours are about 55 characters)


class FunctionCallOutput(RequestModel):
    type: Literal["function_call_output"]
    call_id: Annotated[str, Field(min_length=1, max_length=64)]
    output: Annotated[str, Field(max_length=512_000)]
    id: Annotated[str | None, Field(max_length=ITEM_ID_MAX)] = None  # kept in the response's input_items
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class FunctionCall(RequestModel):
    """An earlier output item given back as input (a client keeping its own history)."""

    type: Literal["function_call"]
    call_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(pattern=FUNCTION_NAME)]
    arguments: str
    id: Annotated[str | None, Field(max_length=ITEM_ID_MAX)] = None  # kept in the response's input_items
    status: Literal["in_progress", "completed", "incomplete"] | None = None


def _item_tag(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    kind = value.get("type", "message" if "role" in value else None)
    if isinstance(kind, str) and kind in ("message", "function_call_output", "function_call"):
        return kind
    return UNSUPPORTED if isinstance(kind, str) else None


Item = Annotated[Union[Annotated[InputMessage, Tag("message")],
                       Annotated[FunctionCallOutput, Tag("function_call_output")],
                       Annotated[FunctionCall, Tag("function_call")], Annotated[Unsupported, Tag(UNSUPPORTED)]],
                 Discriminator(_item_tag, custom_error_type="invalid_value",
                               custom_error_message="expected an input item (a message, function_call or "
                                                    "function_call_output)")]


Input = Annotated[Union[Annotated[Text, Tag("text")], Annotated[list[Item], Field(max_length=2048), Tag("items")]],
                  Discriminator(_input_tag, custom_error_type="invalid_type",
                                custom_error_message="expected a string or an array of input items")]


# What `include` may name (OpenAI's list). Each adds detail to the items this service shows; one that
# names items it never makes (computer calls, encrypted reasoning) is accepted and adds nothing.
Includable = Literal["file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
                     "message.input_image.image_url", "computer_call_output.output.image_url",
                     "code_interpreter_call.outputs", "reasoning.encrypted_content", "message.output_text.logprobs"]
INCLUDABLE = get_args(Includable)


class ToolChoiceFunction(RequestModel):
    type: Literal["function"]
    name: Annotated[str, Field(pattern=FUNCTION_NAME)]

    def names(self, tool: DeclaredTool) -> bool:
        return isinstance(tool, FunctionTool) and tool.name == self.name


class ToolChoiceHosted(RequestModel):
    """A built-in tool the model must call (the SDK's ToolChoiceTypes; those this service has no tool for
    are never declared, so choosing them is refused like any undeclared choice)."""

    type: Literal["file_search", "web_search_preview", "web_search_preview_2025_03_11", "code_interpreter",
                  "computer", "computer_use", "computer_use_preview", "image_generation"]

    def names(self, tool: DeclaredTool) -> bool:
        return not isinstance(tool, FunctionTool) and tool_family(tool.type) == tool_family(self.type)


ToolChoiceTool = Union[ToolChoiceFunction, ToolChoiceHosted]


class FormatText(RequestModel):
    type: Literal["text"]


class FormatJsonObject(RequestModel):
    type: Literal["json_object"]


class FormatJsonSchema(RequestModel):
    type: Literal["json_schema"]
    name: Annotated[str, Field(pattern=FUNCTION_NAME)]
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema_is_usable(self) -> "FormatJsonSchema":
        JsonSchemaSpec.model_validate({"name": self.name, "schema": self.schema_, "strict": self.strict})
        return self


TextFormat = Annotated[Union[FormatText, FormatJsonObject, FormatJsonSchema], Field(discriminator="type")]


class TextConfig(RequestModel):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ConversationRef(RequestModel):
    id: str


def refused_option(top_logprobs: int | None, max_tool_calls: int | None, tool_types: list[str]) -> tuple[str, str] | None:
    """(message, code) when the request asks what this service cannot do and would otherwise do wrong."""
    if top_logprobs:
        return ("Invalid 'top_logprobs': log probabilities are not returned by this service; omit it or send 0.",
                "unsupported_parameter")
    if max_tool_calls is not None and any(kind != "function" for kind in tool_types):
        return ("Invalid 'max_tool_calls': this service does not limit built-in tool calls yet; omit it with "
                "built-in tools.", "unsupported_parameter")
    return None


class ReasoningConfig(RequestModel):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None  # deprecated: summary

    def wire(self) -> dict[str, Any]:
        """As the response shows it (OpenAI answers the deprecated generate_summary as summary)."""
        return {"effort": self.effort, "summary": self.summary or self.generate_summary}


def _chosen(choice: ToolChoiceTool, tools: list[ResponseTool] | None) -> DeclaredTool | None:
    """The declared tool a tool_choice names (None: it names none of them)."""
    return next((tool for tool in tools or [] if not isinstance(tool, Unsupported) and choice.names(tool)), None)


class ResponsePrompt(RequestModel):
    """What a response's model call is built from: the fields create and input_tokens share, and their checks."""

    model: str | None = Field(default=None, min_length=1, max_length=256)
    input: Input | None = None
    instructions: str | None = Field(default=None, max_length=256_000)
    tools: list[ResponseTool] | None = Field(default=None, max_length=128)
    tool_choice: Union[Literal["none", "auto", "required"], ToolChoiceTool] | None = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    conversation: Union[str, ConversationRef] | None = None
    reasoning: ReasoningConfig | None = None
    text: TextConfig | None = None
    truncation: Literal["auto", "disabled"] | None = None

    @model_validator(mode="after")
    def _placed_once(self) -> Self:
        if self.previous_response_id is not None and self.conversation is not None:
            raise openai_error("Mutually exclusive parameters: Ensure you are only providing one of: "
                               "'previous_response_id' or 'conversation'.", "mutually_exclusive_parameters")
        run_options(self.tools or [])  # one declaration per built-in kind
        return self

    @field_validator("tool_choice")
    @classmethod
    def _chosen_tool_declared(cls, choice: Any, info: ValidationInfo) -> Any:
        if isinstance(choice, (ToolChoiceFunction, ToolChoiceHosted)) and _chosen(choice, info.data.get("tools")) is None:
            named = choice.name if isinstance(choice, ToolChoiceFunction) else choice.type
            raise openai_error(f"Tool choice '{named}' not found in 'tools' parameter.", "invalid_value")
        return choice


class ResponseCreate(ResponsePrompt):
    model: str = Field(min_length=1, max_length=256)
    store: bool | None = None
    background: bool | None = None
    stream: bool | None = None
    max_output_tokens: int | None = Field(default=None, ge=16)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    metadata: Metadata | None = None
    user: str | None = Field(default=None, max_length=512)
    include: list[Includable] | None = Field(default=None, max_length=len(INCLUDABLE))
    stream_options: dict[str, Any] | None = None
    max_tool_calls: int | None = Field(default=None, ge=1)
    prompt_cache_key: str | None = Field(default=None, max_length=64)
    safety_identifier: str | None = Field(default=None, max_length=64)
    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)

    @model_validator(mode="after")
    def _stored_if_background(self) -> "ResponseCreate":
        if self.background and self.store is False:
            raise openai_error("Background responses must be stored: 'store' cannot be false with 'background'.",
                               "invalid_value")
        return self

    @field_validator("top_logprobs")
    @classmethod
    def _logprobs_servable(cls, value: int | None) -> int | None:
        refused = refused_option(value, None, [])
        if refused:
            raise openai_error(*refused)
        return value

    @model_validator(mode="after")
    def _servable(self) -> "ResponseCreate":
        refused = refused_option(None, self.max_tool_calls,
                                 [tool.type for tool in self.tools or [] if hasattr(tool, "type")])
        if refused:
            raise openai_error(*refused)
        return self

    @property
    def declared_tools(self) -> list[DeclaredTool]:
        """The tools, typed as what they can be once validated (an unsupported type never validates)."""
        return [tool for tool in self.tools or []
                if isinstance(tool, (FunctionTool, FileSearchTool, CodeInterpreterTool, WebSearchTool))]

    @property
    def conversation_id(self) -> str | None:
        return self.conversation.id if isinstance(self.conversation, ConversationRef) else self.conversation

    # `list[Any]`: the items as validated, which are never the `Unsupported` member of `Item` (it refuses to validate).
    def items(self) -> list[Any]:
        if self.input is None:
            return []
        if isinstance(self.input, str):
            return [InputMessage(role="user", content=self.input)]
        return list(self.input)

    def text_format(self) -> dict[str, Any]:
        chosen = self.text.format if self.text and self.text.format else FormatText(type="text")
        return chosen.model_dump(by_alias=True, exclude_none=True)

    def response_format(self) -> dict[str, Any] | None:
        """text.format as a run's response_format (the Assistants shape the engine passes to the model)."""
        chosen = self.text.format if self.text else None
        if isinstance(chosen, FormatJsonObject):
            return {"type": "json_object"}
        if isinstance(chosen, FormatJsonSchema):
            spec = {"name": chosen.name, "schema": chosen.schema_, "description": chosen.description,
                    "strict": chosen.strict}
            return {"type": "json_schema", "json_schema": {key: value for key, value in spec.items() if value is not None}}
        return None

    def run_tool_choice(self) -> Any:
        """tool_choice as a run's (Assistants) tool_choice: a chosen tool as the run tool it declared."""
        if not isinstance(self.tool_choice, (ToolChoiceFunction, ToolChoiceHosted)):
            return self.tool_choice
        tool = _chosen(self.tool_choice, self.tools)
        if isinstance(tool, FunctionTool):
            return {"type": "function", "function": {"name": tool.name}}
        return {"type": tool.run_tool()["type"]} if tool else "auto"

    def tool_choice_wire(self) -> Any:
        """tool_choice as the response shows it."""
        choice = self.tool_choice
        return choice.model_dump() if isinstance(choice, (ToolChoiceFunction, ToolChoiceHosted)) else choice or "auto"


class InputTokensCount(ResponsePrompt):
    """POST /v1/responses/input_tokens: what a response would be created with, counted, not run."""

    def as_create(self) -> ResponseCreate:
        """The create request it counts (`model` only names the tokenizer: any name stands in for none)."""
        given = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return ResponseCreate.model_validate({**given, "model": self.model or "unnamed"})


class ConversationItemsCreate(RequestModel):
    items: list[Item] = Field(max_length=20)
    include: list[Includable] | None = Field(default=None, max_length=len(INCLUDABLE))


class ConversationCreate(RequestModel):
    items: list[Item] | None = Field(default=None, max_length=20)
    metadata: Metadata | None = None


class ConversationUpdate(RequestModel):
    metadata: Metadata
