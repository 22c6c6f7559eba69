"""file_search's wire in the HTTP layer: its tool type name, and how a run step is shown without
its results' content unless `include` asks for it. (Everything else about file_search in a run —
offering, routing, searching, citing — is its plug-in: tools/plugins/file_search.py.)
"""

from __future__ import annotations

from typing import Any

TOOL_NAME = "file_search"
CONTENT_INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"


def public_step(step: dict[str, Any], include: list[str]) -> dict[str, Any]:
    """A run step as the client sees it: search results' content only when asked for by `include`."""
    if CONTENT_INCLUDE in include or step["step_details"].get("type") != "tool_calls":
        return step
    calls = []
    for call in step["step_details"]["tool_calls"]:
        if call.get("type") == TOOL_NAME:
            results = [{key: value for key, value in result.items() if key != "content"}
                       for result in call[TOOL_NAME].get("results") or []]
            call = {**call, TOOL_NAME: {**call[TOOL_NAME], "results": results}}
        calls.append(call)
    return {**step, "step_details": {**step["step_details"], "tool_calls": calls}}
