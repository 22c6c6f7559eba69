"""file_search in a run, the pure part: how the model is offered it, how a call and its results are
recorded, and how the answer's citations are found (the search itself: activities/file_search.py).

The model sees file_search as a function (`file_search(query)`), so it works with any
chat model. The step records OpenAI's shape — `ranking_options` and `results`
(file_id, file_name, score, content) — and the step's bookkeeping keeps the query,
the text the model reads and the sources it was shown. The model cites a source as
【n†file name】; the final message turns each such marker into a `file_citation`
annotation on that file.
"""

from __future__ import annotations

import re

from core import tool_arguments
from core.file_search.search import DEFAULT_MAX_RESULTS

TOOL_NAME = "file_search"
CONTENT_INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"
DEFAULT_RANKING = {"ranker": "default_2024_08_21", "score_threshold": 0.0}
_MARKER = re.compile(r"【[^†】]*†([^】]+)】")


def enabled(run: dict) -> bool:
    return any(tool.get("type") == TOOL_NAME for tool in run.get("tools") or [])


def options(run: dict) -> dict:
    """The run's file_search options: max_num_results and ranking_options, OpenAI's defaults filled in."""
    tool = next((tool for tool in run.get("tools") or [] if tool.get("type") == TOOL_NAME), {})
    settings = tool.get("file_search") or {}
    return {"max_num_results": settings.get("max_num_results") or DEFAULT_MAX_RESULTS,
            "ranking_options": {**DEFAULT_RANKING, **(settings.get("ranking_options") or {})}}


def chat_tool() -> dict:
    return {"type": "function", "function": {
        "name": TOOL_NAME,
        "description": ("Search the user's uploaded files for passages relevant to a query. Each result starts with "
                        "a marker such as 【0†report.pdf】; when you use a result, cite it by copying its marker "
                        "into your answer right after the statement it supports."),
        "parameters": {"type": "object", "properties": {"query": {
            "type": "string", "description": "What to look for, in the words the files likely use."}},
            "required": ["query"]},
    }}


def query_of(arguments: str) -> str:
    """The search query of a call: `{"query": …}`, a `queries` list joined, or the raw text."""
    value = tool_arguments.parsed(arguments)
    if isinstance(value, dict) and not isinstance(value.get("query"), str) and isinstance(value.get("queries"), list):
        return " ".join(str(query) for query in value["queries"])
    return tool_arguments.text_argument(arguments, "query")


def step_call(call_id: str, run: dict) -> dict:
    """The call as its step records it (the query itself is kept in the step's bookkeeping)."""
    return {"id": call_id, "type": TOOL_NAME, TOOL_NAME: {"ranking_options": options(run)["ranking_options"],
                                                         "results": []}}


def citations(text: str, sources: list[dict]) -> list[dict]:
    """file_citation annotations for the markers in `text` that name a source the run was shown."""
    by_name = {source["name"]: source["file_id"] for source in sources}
    return [{"type": "file_citation", "text": match.group(0), "start_index": match.start(),
             "end_index": match.end(), "file_citation": {"file_id": by_name[match.group(1).strip()]}}
            for match in _MARKER.finditer(text) if match.group(1).strip() in by_name]


def public_step(step: dict, include: list[str]) -> dict:
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
