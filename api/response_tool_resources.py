"""The resources a response's built-in tools name, checked and readied before its run is stored: by each
declared tool's plug-in (core.tool_plugins: `check_declared`, `ready_options`).

Why apart from api.response_runs: these are the tool-specific reads and writes of a create (vector
stores and containers are the caller's; an auto container is made with its files), kept out of the
placement and storage of the response itself.
"""

from __future__ import annotations

from core.wire.response_tools import run_options
from core.wire.responses import ResponseCreate
from tools.plugins import TOOLS


def check_tools(principal: str, body: ResponseCreate, at: int) -> None:
    """Every resource a declared tool names is the caller's and usable (its vector stores; its container,
    running, or an auto container's files), as for a run's resources."""
    for position, tool in enumerate(body.tools or []):
        chosen = tool.run_options()
        if chosen is not None:
            TOOLS.of_kind(chosen[0]).check_declared(principal, tool, f"tools[{position}]", at)


def tool_options(principal: str, body: ResponseCreate, created_at: int) -> dict[str, dict]:
    """The tools' Responses options by plug-in kind, as each plug-in readies them: code_interpreter's names
    the container it runs in, the one declared or one made now for an auto container, as OpenAI makes one."""
    return {kind: TOOLS.of_kind(kind).ready_options(principal, options, created_at)
            for kind, options in run_options(body.tools or []).items()}
