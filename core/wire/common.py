"""Pieces shared by several resources: strict request base, metadata, tools, tool resources."""


from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.wire import json_schema


class RequestModel(BaseModel):
    """A request body: unknown fields and type coercion are rejected, as OpenAI does."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, defer_build=True)


class WireModel(BaseModel):
    """A response object (also the source of the OpenAPI document)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)


def openai_error(message: str, code: str | None = None) -> PydanticCustomError:
    """A validation error whose message is already in OpenAI's words."""
    return PydanticCustomError("openai", "{message}", {"message": message, "code": code})


def _printable_key(key: str) -> str:
    """Metadata keys name things in queries, logs and storage: control characters (NUL above all,
    which storage layers truncate or refuse) have no place in them."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        raise openai_error(f"Invalid metadata key {key!r}: keys cannot contain control characters.")
    return key


Metadata = Annotated[
    dict[Annotated[str, StringConstraints(max_length=64), AfterValidator(_printable_key)],
         Annotated[str, StringConstraints(max_length=512)]],
    Field(max_length=16, description="Up to 16 key-value pairs; keys ≤ 64 chars, values ≤ 512 chars."),
]

FUNCTION_NAME = r"^[a-zA-Z0-9_-]{1,64}$"


# ---- tools -------------------------------------------------------------------------------

class CodeInterpreterTool(RequestModel):
    type: Literal["code_interpreter"]


class RankingOptions(RequestModel):
    ranker: Literal["auto", "default_2024_08_21"] | None = None
    score_threshold: float = Field(ge=0, le=1)


class FileSearchOptions(RequestModel):
    max_num_results: int | None = Field(default=None, ge=1, le=50)
    ranking_options: RankingOptions | None = None


class FileSearchTool(RequestModel):
    type: Literal["file_search"]
    file_search: FileSearchOptions | None = None


class FunctionDefinition(RequestModel):
    name: str = Field(pattern=FUNCTION_NAME)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema_is_usable(self) -> "FunctionDefinition":
        if self.parameters is not None:
            problem = json_schema.problem(self.parameters, strict=bool(self.strict))
            if problem:
                raise openai_error(f"Invalid schema for function '{self.name}': {problem}", "invalid_function_parameters")
        return self


class FunctionTool(RequestModel):
    type: Literal["function"]
    function: FunctionDefinition


class BrowserOptions(RequestModel):
    """Azure OpenAI's Assistants preview kept the Bing resource here; this service searches with its own
    backend (WEB_SEARCH_BACKEND), so the id is only kept, as given, for the client that sent it."""

    bing_resource_id: str | None = Field(default=None, max_length=1024)


class BrowserTool(RequestModel):
    """Web search, as Azure OpenAI's Assistants preview named it (tools/plugins/web_search.py)."""

    type: Literal["browser"]
    browser: BrowserOptions | None = None


Tool = Annotated[Union[CodeInterpreterTool, FileSearchTool, FunctionTool, BrowserTool], Field(discriminator="type")]


def tool_wire(tool: CodeInterpreterTool | FileSearchTool | FunctionTool | BrowserTool) -> dict[str, Any]:
    """A tool as OpenAI echoes it back, with OpenAI's defaults filled in (a browser tool as it was given)."""
    if isinstance(tool, BrowserTool):
        return tool.model_dump(exclude_unset=True)
    if isinstance(tool, FunctionTool):
        function = tool.function.model_dump(exclude_none=True)
        function["strict"] = bool(tool.function.strict)
        return {"type": "function", "function": function}
    if isinstance(tool, FileSearchTool):
        options = tool.file_search.model_dump(exclude_none=True) if tool.file_search else {}
        options.setdefault("ranking_options", {"ranker": "default_2024_08_21", "score_threshold": 0.0})
        options["ranking_options"].setdefault("ranker", "default_2024_08_21")
        return {"type": "file_search", "file_search": options}
    return {"type": "code_interpreter"}


# ---- tool resources ------------------------------------------------------------------------

class CodeInterpreterResources(RequestModel):
    file_ids: list[str] = Field(default_factory=list, max_length=20)


class InlineVectorStore(RequestModel):
    """A vector store created along with an assistant or thread (usecases/file_search_resources.py)."""

    file_ids: list[str] = Field(default_factory=list, max_length=10_000)
    chunking_strategy: dict[str, Any] | None = None
    metadata: Metadata | None = None


class FileSearchResources(RequestModel):
    vector_store_ids: list[str] = Field(default_factory=list, max_length=1)
    vector_stores: list[InlineVectorStore] | None = Field(default=None, max_length=1)

    @model_validator(mode="after")
    def _one_store(self) -> "FileSearchResources":
        if self.vector_store_ids and self.vector_stores:
            raise openai_error("Only one of 'vector_store_ids' or 'vector_stores' may be given: a thread or "
                               "assistant uses at most one vector store.", "invalid_value")
        return self


class ToolResources(RequestModel):
    code_interpreter: CodeInterpreterResources | None = None
    file_search: FileSearchResources | None = None


def tool_resources_wire(resources: ToolResources | None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Tool resources as OpenAI echoes them; given tools replace those in `base` (an update)."""
    merged = dict(base or {})
    if resources is not None:
        if resources.code_interpreter is not None:
            merged["code_interpreter"] = {"file_ids": list(resources.code_interpreter.file_ids)}
        if resources.file_search is not None:
            merged["file_search"] = {"vector_store_ids": list(resources.file_search.vector_store_ids)}
    return merged


def referenced_file_ids(resources: ToolResources | None, param: str) -> list[tuple[str, str]]:
    """(file id, param path) pairs that must name files the caller owns."""
    if resources is None or resources.code_interpreter is None:
        return []
    return [(file_id, f"{param}.code_interpreter.file_ids[{index}]")
            for index, file_id in enumerate(resources.code_interpreter.file_ids)]


# ---- response format -------------------------------------------------------------------------

class ResponseFormatText(RequestModel):
    type: Literal["text"]


class ResponseFormatJsonObject(RequestModel):
    type: Literal["json_object"]


class JsonSchemaSpec(RequestModel):
    name: str = Field(pattern=FUNCTION_NAME)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema_is_usable(self) -> "JsonSchemaSpec":
        if self.schema_ is not None:
            problem = json_schema.problem(self.schema_, strict=bool(self.strict))
            if problem:
                raise openai_error(f"Invalid schema for response_format '{self.name}': {problem}", "invalid_json_schema")
        return self


class ResponseFormatJsonSchema(RequestModel):
    type: Literal["json_schema"]
    json_schema: JsonSchemaSpec


def _response_format_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "auto" if value == "auto" else None
    if isinstance(value, dict):
        return value.get("type") if value.get("type") in ("text", "json_object", "json_schema") else None
    if isinstance(value, BaseModel):
        return getattr(value, "type", None)
    return None


ResponseFormat = Annotated[
    Union[
        Annotated[Literal["auto"], Tag("auto")],
        Annotated[ResponseFormatText, Tag("text")],
        Annotated[ResponseFormatJsonObject, Tag("json_object")],
        Annotated[ResponseFormatJsonSchema, Tag("json_schema")],
    ],
    Discriminator(
        _response_format_tag,
        custom_error_type="invalid_value",
        custom_error_message="expected 'auto' or an object with type 'text', 'json_object' or 'json_schema'",
    ),
]


def response_format_wire(value: Any) -> Any:
    if value is None or value == "auto":
        return "auto"
    return value.model_dump(by_alias=True, exclude_none=True)


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


# ---- response objects shared by resources ---------------------------------------------------------

class DeletedObject(WireModel):
    id: str
    object: str
    deleted: bool


class ListObject(WireModel):
    object: Literal["list"]
    data: list[dict[str, Any]]
    first_id: str | None
    last_id: str | None
    has_more: bool


class ErrorBody(WireModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorEnvelope(WireModel):
    error: ErrorBody
