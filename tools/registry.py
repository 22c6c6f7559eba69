"""Server-side function tools: what the server can run itself instead of asking the client.

Secure by default, in two locks that must both open before a call runs here:
- the operator enables a tool by name (setting SERVER_TOOLS_ENABLED); a tool not listed
  does not exist for `server_tool()`, `enabled_tools()` or `execute()`;
- the assistant opts into it by name (metadata key `server_tools`, parsed by `opted_in()`).
Any other function goes back to the client as `requires_action`, exactly as at OpenAI.

A tool's failure becomes its output — the model sees the error and can recover — never a
failed run. A tool that started something asynchronous (202 + Location) returns `Pending`;
`invoke()` hands it to the caller, which polls on durable timers.

Adding a tool is one file in tools/: it calls `register(ServerTool(...))` on import, and
`_load_builtins()` imports every module of the package.
"""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Callable

from core import settings

MAX_OUTPUT_CHARS = 16_000
METADATA_KEY = "server_tools"
# Tools run here so a slow one can be abandoned at its timeout without stalling the activity.
_workers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="tool")
_log = logging.getLogger("tools")


class ToolError(Exception):
    """A failure the tool wants the model to read (bad arguments, unavailable service)."""


@dataclass(frozen=True)
class Pending:
    """An external operation accepted but not finished (asynchronous HTTP pattern).

    `location` is the status URL to poll (it may carry a signature: never show it to the
    model or a log), `retry_after_seconds` the wait before the next poll, and
    `deadline_seconds` how long, from the first call, polling may go on at most."""

    location: str
    retry_after_seconds: float
    deadline_seconds: float = 300.0

    def model_output(self) -> str:
        """What the model may read while the operation is still running."""
        return json.dumps({"status": "accepted", "detail": "the request was accepted and is still being processed"})


@dataclass(frozen=True)
class ServerTool:
    """A function the server runs itself, once the operator enables it and an assistant opts into it."""

    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[dict[str, Any]], Any]
    timeout_seconds: float = 30.0
    # Sends mail, books meetings...: documented as such; every call is logged anyway.
    acts_on_world: bool = False


_REGISTRY: dict[str, ServerTool] = {}


def register(tool: ServerTool) -> ServerTool:
    if tool.name in _REGISTRY:
        raise ValueError(f"server tool {tool.name} registered twice")
    _REGISTRY[tool.name] = tool
    return tool


def parse_names(text: str | None) -> frozenset[str]:
    """Comma-separated names → a set; whitespace, duplicates and empty items ignored."""
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


def enabled_names() -> frozenset[str]:
    """The tools the operator enabled (SERVER_TOOLS_ENABLED), registered or not."""
    return parse_names(settings.get("SERVER_TOOLS_ENABLED"))


def server_tool(name: str) -> ServerTool | None:
    """The registered tool of that name, only if the operator enabled it."""
    _load_builtins()
    return _REGISTRY.get(name) if name in enabled_names() else None


def enabled_tools() -> list[ServerTool]:
    """Registered tools the operator enabled, by name."""
    _load_builtins()
    enabled = enabled_names()
    return [_REGISTRY[name] for name in sorted(_REGISTRY) if name in enabled]


def registered_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def opted_in(metadata: dict | None) -> frozenset[str]:
    """Registered tool names an assistant opted into: metadata {"server_tools": "a,b"}.

    Unknown names, blanks and duplicates are ignored; anything but a string means none."""
    value = (metadata or {}).get(METADATA_KEY) if isinstance(metadata, dict) else None
    if not isinstance(value, str):
        return frozenset()
    _load_builtins()
    return frozenset(name for name in parse_names(value) if name in _REGISTRY)


def chat_tool_definition(name: str) -> dict[str, Any]:
    """The Chat Completions `tools` entry for a registered tool (KeyError if unknown)."""
    _load_builtins()
    tool = _REGISTRY[name]
    return {"type": "function", "function": {
        "name": tool.name, "description": tool.description, "parameters": tool.parameters}}


def invoke(name: str, arguments_json: str) -> str | Pending:
    """Run an enabled tool: the text the model will read, or `Pending` to poll."""
    tool = server_tool(name)
    if tool is None:
        return _error(f"no server-side tool named {name} is enabled")
    try:
        arguments = json.loads(arguments_json or "{}")
        if not isinstance(arguments, dict):
            raise ToolError("arguments must be a JSON object")
    except (json.JSONDecodeError, ToolError) as error:
        _log_call(name, "invalid_arguments", 0.0)
        return _error(f"invalid arguments for {name}: {error}")
    started = time.perf_counter()
    try:
        result = _workers.submit(tool.run, arguments).result(timeout=tool.timeout_seconds)
    except FutureTimeout:
        _log_call(name, "timeout", time.perf_counter() - started)
        return _error(f"{name} did not finish within {tool.timeout_seconds:g} s")
    except ToolError as error:
        _log_call(name, "error", time.perf_counter() - started)
        return _error(str(error))
    except Exception as error:  # a tool that throws is reported to the model, not to the run
        _log_call(name, f"crashed ({type(error).__name__})", time.perf_counter() - started)
        return _error(f"{name} failed: {type(error).__name__}: {error}")
    _log_call(name, "pending" if isinstance(result, Pending) else "ok", time.perf_counter() - started)
    return result if isinstance(result, Pending) else cap_output(result)


def execute(name: str, arguments_json: str) -> str:
    """Run an enabled tool; always the text the model will read (a pending operation says so)."""
    result = invoke(name, arguments_json)
    return result.model_output() if isinstance(result, Pending) else result


def cap_output(result: Any) -> str:
    text = result if isinstance(result, str) else json.dumps(result)
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + f"\n[output truncated: {len(text)} characters in all]"
    return text


def _log_call(name: str, outcome: str, seconds: float) -> None:
    """One line per call: tool and outcome only — arguments and outputs may hold personal data."""
    _log.info("server tool %s: %s in %.2f s", name, outcome, seconds)


def _error(message: str) -> str:
    return json.dumps({"error": message})


_loaded = False
_load_lock = threading.RLock()  # a tool module may look the registry up while it loads


def _load_builtins() -> None:
    """Import every module of the tools package once: each registers its tools on import."""
    global _loaded
    with _load_lock:
        if _loaded:
            return
        package = importlib.import_module("tools")
        for module in pkgutil.iter_modules(package.__path__):
            if not module.ispkg and module.name != "registry":
                importlib.import_module(f"tools.{module.name}")
        _loaded = True
