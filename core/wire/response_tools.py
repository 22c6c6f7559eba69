"""The tools a response declares (its `tools`), validated as OpenAI validates them, and what each is on the engine.

A response runs on the run engine, whose tool plug-ins read a run's Assistants-shaped `tools`.
Each declaration here therefore says three things: how the response object shows it (`wire`,
OpenAI's defaults filled in), the run tool the engine offers (`run_tool`), and the options the
Responses shape carries beside it that the Assistants shape keeps elsewhere (`run_options`: a
file search's vector stores and filters, a web search's domains) — kept in the run's bookkeeping
under the plug-in's kind (core.run_bookkeeping.RunBookkeeping.response_tools), where the plug-in
reads them.
"""


from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from core.wire import json_schema
from core.wire.common import FUNCTION_NAME, FunctionDefinition, RequestModel, openai_error
from core.wire.vector_stores import Filter

UNSUPPORTED = "unsupported"
FILE_SEARCH = "file_search"  # the plug-in kinds (tools/plugins) these declarations run on
CODE_INTERPRETER = "code_interpreter"
WEB_SEARCH = "browser"
WebSearchType = Literal["web_search", "web_search_2025_08_26", "web_search_preview", "web_search_preview_2025_03_11"]
WEB_SEARCH_TYPES = get_args(WebSearchType)


class Unsupported(BaseModel):
    """What OpenAI accepts and this service does not run yet: refused with a 400 that names its type."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    REFUSAL: ClassVar[str] = ("Items, content parts and tools of type '{kind}' are not supported by this service "
                              "yet (this release runs text input and function tools).")

    @model_validator(mode="before")
    @classmethod
    def _refuse(cls, value: Any) -> Any:
        kind = value.get("type") if isinstance(value, dict) else None
        raise openai_error(cls.REFUSAL.format(kind=kind), "unsupported_value")


class UnsupportedTool(Unsupported):
    """A tool type OpenAI has and this service does not run."""

    REFUSAL = ("Tools of type '{kind}' are not supported by this service (it runs function, file_search, "
               "code_interpreter and web_search tools).")

    def run_options(self) -> None:
        """None, as a function's: never asked in fact, since a request declaring this type is refused."""
        return None


class FunctionTool(RequestModel):
    type: Literal["function"]
    name: Annotated[str, Field(pattern=FUNCTION_NAME)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema_is_usable(self) -> "FunctionTool":
        FunctionDefinition(name=self.name, parameters=self.parameters, strict=self.strict)
        return self

    @property
    def applied_strict(self) -> bool:
        """Strict as the model gets it: as given, else (the Responses default) strict where the schema
        allows strict mode, so what the response shows is what the model was held to."""
        if self.strict is not None:
            return self.strict
        return self.parameters is None or json_schema.problem(self.parameters, strict=True) is None

    def wire(self) -> dict[str, Any]:
        """As the response shows it (OpenAI fills strict and parameters)."""
        return {"type": "function", "name": self.name, "description": self.description,
                "parameters": self.parameters, "strict": self.applied_strict}

    def run_tool(self) -> dict[str, Any]:
        function = {"name": self.name, "description": self.description, "parameters": self.parameters,
                    "strict": self.applied_strict}
        return {"type": "function", "function": {key: value for key, value in function.items() if value is not None}}

    def run_options(self) -> tuple[str, dict[str, Any]] | None:
        return None


class RankingOptions(RequestModel):
    ranker: Literal["auto", "default-2024-11-15"] | None = None
    score_threshold: float | None = Field(default=None, ge=0, le=1)
    hybrid_search: dict[str, float] | None = None


class FileSearchTool(RequestModel):
    type: Literal["file_search"]
    vector_store_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(min_length=1, max_length=2)
    max_num_results: int | None = Field(default=None, ge=1, le=50)
    filters: Filter | None = None
    ranking_options: RankingOptions | None = None

    def wire(self) -> dict[str, Any]:
        ranking = self.ranking_options or RankingOptions()
        return {"type": "file_search", "vector_store_ids": list(self.vector_store_ids),
                "filters": self.filters.model_dump(exclude_none=True) if self.filters else None,
                "max_num_results": self.max_num_results or 20,
                "ranking_options": {"ranker": ranking.ranker or "auto",
                                    "score_threshold": ranking.score_threshold or 0.0}}

    def run_tool(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.max_num_results is not None:
            options["max_num_results"] = self.max_num_results
        if self.ranking_options is not None and self.ranking_options.score_threshold is not None:
            options["ranking_options"] = {"ranker": "auto", "score_threshold": self.ranking_options.score_threshold}
        return {"type": "file_search", "file_search": options} if options else {"type": "file_search"}

    def run_options(self) -> tuple[str, dict[str, Any]]:
        return FILE_SEARCH, {"vector_store_ids": list(dict.fromkeys(self.vector_store_ids)),
                             "filters": self.filters.model_dump(exclude_none=True) if self.filters else None}


class WebSearchFilters(RequestModel):
    allowed_domains: list[Annotated[str, Field(min_length=1, max_length=253)]] | None = Field(default=None,
                                                                                             max_length=100)


class UserLocation(RequestModel):
    type: Literal["approximate"] | None = "approximate"
    city: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=2)
    region: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=100)


class WebSearchTool(RequestModel):
    """`web_search` and `web_search_preview` (and their dated names): one search tool on the engine the
    operator chose (tools/web_search). The user location and context size are accepted and shown;
    the self-hosted engines take no location, and the context size is the operator's page limits."""

    type: WebSearchType
    filters: WebSearchFilters | None = None
    search_context_size: Literal["low", "medium", "high"] | None = None
    user_location: UserLocation | None = None
    search_content_types: list[Literal["text", "image"]] | None = None
    external_web_access: bool | None = None

    @model_validator(mode="after")
    def _filters_only_on_web_search(self) -> "WebSearchTool":
        if self.filters is not None and self.type.startswith("web_search_preview"):
            raise openai_error(f"Unknown parameter: 'tools[].filters' is not supported with '{self.type}'.",
                               "unknown_parameter")
        return self

    def wire(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"type": self.type, "search_context_size": self.search_context_size or "medium",
                                 "user_location": self.user_location.model_dump() if self.user_location else None}
        if not self.type.startswith("web_search_preview"):
            shown["filters"] = self.filters.model_dump() if self.filters else None
        return shown

    def run_tool(self) -> dict[str, Any]:
        return {"type": WEB_SEARCH}

    def run_options(self) -> tuple[str, dict[str, Any]]:
        domains = list(self.filters.allowed_domains or []) if self.filters else []
        return WEB_SEARCH, {"allowed_domains": domains}


MemoryLimit = Literal["1g", "4g", "16g", "64g"]


class NetworkDisabled(RequestModel):
    """The only network policy the sandbox has: none (it runs without network access)."""

    type: Literal["disabled"]


class AutoContainer(RequestModel):
    """`container: {"type": "auto"}`: a new container for this response, holding `file_ids`."""

    type: Literal["auto"]
    file_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = Field(default=None, max_length=50)
    memory_limit: MemoryLimit | None = None
    network_policy: NetworkDisabled | None = None


class CodeInterpreterTool(RequestModel):
    """Python in a container (the Containers API): one named by id, or a new one made for the response.
    Which container a response's calls run in is decided when it is created (usecases.response_runs), and
    kept in its options (`container_id`), which the code_interpreter plug-in reads."""

    type: Literal["code_interpreter"]
    container: Union[Annotated[str, Field(min_length=1, max_length=128)], AutoContainer]

    def wire(self) -> dict[str, Any]:
        if isinstance(self.container, str):
            return {"type": CODE_INTERPRETER, "container": self.container}
        return {"type": CODE_INTERPRETER, "container": {"type": "auto", "file_ids": list(self.container.file_ids or []),
                                                       "memory_limit": self.container.memory_limit}}

    def run_tool(self) -> dict[str, Any]:
        return {"type": CODE_INTERPRETER}

    def run_options(self) -> tuple[str, dict[str, Any]]:
        if isinstance(self.container, str):
            return CODE_INTERPRETER, {"container_id": self.container}
        return CODE_INTERPRETER, {"container_id": None, "file_ids": list(dict.fromkeys(self.container.file_ids or [])),
                                  "memory_limit": self.container.memory_limit or "1g"}


DeclaredTool = Union[FunctionTool, FileSearchTool, CodeInterpreterTool, WebSearchTool]


def tool_family(kind: str) -> str:
    """The tool a declared (or chosen) type names: every web search type is the one web search tool."""
    return "web_search" if kind in WEB_SEARCH_TYPES else kind


def _tool_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in ("function", "file_search", "code_interpreter"):
        return str(kind)
    if kind in WEB_SEARCH_TYPES:
        return "web_search"
    return UNSUPPORTED if isinstance(kind, str) else None


ResponseTool = Annotated[Union[Annotated[FunctionTool, Tag("function")], Annotated[FileSearchTool, Tag("file_search")],
                               Annotated[CodeInterpreterTool, Tag("code_interpreter")],
                               Annotated[WebSearchTool, Tag("web_search")], Annotated[UnsupportedTool, Tag(UNSUPPORTED)]],
                         Discriminator(_tool_tag, custom_error_type="invalid_value",
                                       custom_error_message="expected a tool object with a 'type'")]


# `list[Any]`: a validated `ResponseTool` is never the `UnsupportedTool` its union names (that refuses to validate).
def run_options(tools: list[Any]) -> dict[str, dict[str, Any]]:
    """The Responses-only options of a response's tools, by plug-in kind (one declaration per kind)."""
    chosen: dict[str, dict[str, Any]] = {}
    for tool in tools:
        options = tool.run_options()
        if options is None:
            continue
        kind, values = options
        if kind in chosen:
            raise openai_error(f"Invalid 'tools': a response may declare one '{tool.type}' tool.", "invalid_value")
        chosen[kind] = values
    return chosen
