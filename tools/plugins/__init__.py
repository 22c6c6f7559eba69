"""The tool plug-ins this deployment runs: the registry, one line per tool (see core/tool_plugins.py).

The functions plug-in owns every call name no built-in claims; built-ins are offered
to the model, and claim their names, in the order listed. A new tool is a module in
this package whose `TOOL` implements core.tool_plugins.ToolPlugin, plus its line here.
(A subpackage, so tools/registry.py's scan of tools/ for server functions skips it.)
"""

from __future__ import annotations

from core.tool_plugins import Tools
from tools.plugins import code_interpreter, file_search, functions, web_search

TOOLS = Tools(functions.TOOL, builtins=[
    code_interpreter.TOOL,
    file_search.TOOL,
    web_search.TOOL,
])

__all__ = ["TOOLS"]
