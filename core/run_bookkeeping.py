"""The run engine's own records, kept beside a run and its steps, never inside their public objects.

A run's bookkeeping says which model turns are done (so a retried activity
returns the recorded outcome instead of asking the model again), which
requires_action round is open, the usage so far, the files the sandbox holds and
the server tools the assistant opted into. A step's bookkeeping keeps what the
model reads back for its built-in tool calls and the files they produced. Both
are stored as their own property of the same table row as the public record, so
they change atomically with it and are never sent to a client.
"""


from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

OutcomeKind = Literal["message", "tool_calls", "incomplete", "rate_limited", "server_error", "failed", "cancelled"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    def dump(self) -> bytes:
        return self.model_dump_json(exclude_defaults=True).encode("utf-8")

    @classmethod
    def load(cls, data: bytes | None) -> Self:
        return cls.model_validate_json(data) if data else cls()


class TurnOutcome(Record):
    """What one model turn came to; the orchestrator decides on it (orchestrators/run_lifecycle)."""

    kind: OutcomeKind
    step_id: str | None = None
    server_calls: list[str] = Field(default_factory=list)  # run here, in activities
    client_calls: list[str] = Field(default_factory=list)  # handed to the client (requires_action)
    reason: str | None = None  # incomplete: max_completion_tokens | max_prompt_tokens
    retry_after: float | None = None  # rate_limited: seconds the model asked us to wait
    code: str | None = None  # failed: the run's last_error code
    message: str | None = None


class Usage(Record):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def plus(self, other: dict[str, Any] | None) -> "Usage":
        other = other or {}
        return Usage(**{name: getattr(self, name) + (other.get(name) or 0) for name in Usage.model_fields})


class SandboxFile(Record):
    file_id: str
    name: str


class RunBookkeeping(Record):
    turns: dict[str, TurnOutcome] = Field(default_factory=dict)
    round: int = 0
    action_step: str | None = None
    usage: Usage | None = None
    code_files: list[SandboxFile] = Field(default_factory=list)
    server_tools: list[str] = Field(default_factory=list)  # opted in by the assistant at run creation
    # The identity of the create request (api.runs.request_key): its retry finds this run, not a conflict.
    request_key: str | None = None
    # The run starts with steps of its own (a response answering earlier function calls): turn 0 reads them.
    seeded_steps: bool = False
    # A response's tool options the Assistants tool shape has no place for (file_search's vector stores
    # and filters, web search's domains), by plug-in kind (core.wire.response_tools).
    response_tools: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Chat Completions' reasoning_effort for every model turn (a response's `reasoning.effort`).
    reasoning_effort: str | None = None
    # A response's `truncation` (core.turn_prompt.context_overflow); None for an Assistants run, which
    # always trims its history to fit.
    truncation: Literal["auto", "disabled"] | None = None
    # A response's model reads the tool calls of the earlier responses in its history (as at OpenAI, where
    # previous_response_id and conversations carry every item); an Assistants run reads their messages only.
    replays_tool_calls: bool = False
    # A held or streamed response whose first prompt does not fit the model's window is withdrawn, not
    # failed: its create answers 400 (core.response_withdrawal). What that removes: its run with its input
    # ("run", from a thread that was there before) or the whole thread made for it ("thread").
    withdraws: Literal["run", "thread"] | None = None


class Produced(Record):
    kind: Literal["image", "file"]
    name: str
    file_id: str
    # In a response's container (the Containers API), the produced file is also a container file.
    container_id: str | None = None
    container_file_id: str | None = None


class Source(Record):
    """A file file_search showed the model, which its answer may cite by name."""

    file_id: str
    name: str


class StepBookkeeping(Record):
    # What the model reads back for calls whose output is not in the public step (code_interpreter,
    # file_search), the files code produced, a search call's query and the sources it showed.
    outputs: dict[str, str] = Field(default_factory=dict)
    produced: list[Produced] = Field(default_factory=list)
    queries: dict[str, str] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)
    # The plug-in (its kind) of a call stored in another kind's shape: web search is recorded as a
    # `function` call (the SDK's step types know no other), and is still run by its own plug-in.
    owners: dict[str, str] = Field(default_factory=dict)
