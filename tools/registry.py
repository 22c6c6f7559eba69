"""Server-side function tools: what the server can run itself instead of asking the client.

A registered tool runs here only for an assistant that opted into it by name
(metadata `server_tools`); every function an assistant declares goes back to the
client as `requires_action`, exactly as at OpenAI, even when a server tool has
the same name (core.chat_turns.route_call decides). A tool's failure becomes its output —
the model sees the error and can recover — never a failed run.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Callable

MAX_OUTPUT_CHARS = 16_000
# An assistant opts into server tools by naming them in this metadata key (see opted_in).
OPT_IN_METADATA_KEY = "server_tools"
# Tools run here so a slow one can be abandoned at its timeout without stalling the activity.
_workers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="tool")


class ToolError(Exception):
    """A failure the tool wants the model to read (bad arguments, unavailable service)."""


@dataclass(frozen=True)
class ServerTool:
    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[dict[str, Any]], Any]
    timeout_seconds: float = 30.0


_REGISTRY: dict[str, ServerTool] = {}


def register(tool: ServerTool) -> ServerTool:
    if tool.name in _REGISTRY:
        raise ValueError(f"server tool {tool.name} registered twice")
    _REGISTRY[tool.name] = tool
    return tool


def server_tool(name: str) -> ServerTool | None:
    _load_builtins()
    return _REGISTRY.get(name)


def registered_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def chat_function(tool: ServerTool) -> dict[str, Any]:
    """The tool as Chat Completions offers a function (name, description, JSON schema)."""
    return {"name": tool.name, "description": tool.description, "parameters": tool.parameters}


def opted_in(metadata: dict[str, str] | None) -> frozenset[str]:
    """The server tools an assistant opted into: its metadata key `server_tools`, comma-separated."""
    listed = (metadata or {}).get(OPT_IN_METADATA_KEY) or ""
    return frozenset(name.strip() for name in listed.split(",") if name.strip())


def execute(name: str, arguments_json: str) -> str:
    """Run a registered tool; always returns the text the model will read."""
    tool = server_tool(name)
    if tool is None:
        return _error(f"no server-side tool named {name}")
    try:
        arguments = json.loads(arguments_json or "{}")
        if not isinstance(arguments, dict):
            raise ToolError("arguments must be a JSON object")
    except (json.JSONDecodeError, ToolError) as error:
        return _error(f"invalid arguments for {name}: {error}")
    try:
        result = _workers.submit(tool.run, arguments).result(timeout=tool.timeout_seconds)
    except FutureTimeout:
        return _error(f"{name} did not finish within {tool.timeout_seconds:g} s")
    except ToolError as error:
        return _error(str(error))
    except Exception as error:  # a tool that throws is reported to the model, not to the run
        return _error(f"{name} failed: {type(error).__name__}: {error}")
    text = result if isinstance(result, str) else json.dumps(result)
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + f"\n[output truncated: {len(text)} characters in all]"
    return text


def _error(message: str) -> str:
    return json.dumps({"error": message})


def _load_builtins() -> None:
    """Import the modules that register the built-in business tools (once)."""
    from tools import business  # noqa: F401  (registers on import)
