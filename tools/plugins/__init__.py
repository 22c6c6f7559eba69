"""The tool plug-ins this deployment runs: the registry, one line per tool (see core/tool_plugins.py).

The functions plug-in owns every call name no built-in claims; built-ins are offered
to the model, and claim their names, in the order listed. A new tool is a module in
this package whose `TOOL` implements core.tool_plugins.ToolPlugin, plus its line here.
(A subpackage, so tools/registry.py's scan of tools/ for server functions skips it.)

TOOLS is built on first use, not at import: the plug-ins bring their tools' stacks (the sandbox
client, web search, the business functions), which the host's start-up need not load.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from core.tool_plugins import Tools
from tools.web_search import log_configuration_once

log_configuration_once()  # at start-up (the app imports this registry): once, whether search works


@cache
def _tools() -> Tools:
    from tools.plugins import code_interpreter, file_search, functions, web_search

    return Tools(functions.TOOL, builtins=[
        code_interpreter.TOOL,
        file_search.TOOL,
        web_search.TOOL,
    ])


class _OnFirstUse:
    """Stands for the Tools `_tools()` builds, building them when an attribute is first read."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_tools(), name)


TOOLS = cast(Tools, _OnFirstUse())

__all__ = ["TOOLS"]
