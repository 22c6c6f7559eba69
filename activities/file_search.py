"""file_search in a run: offering it to the model, running its searches, citing what it found.

The model sees file_search as a function (`file_search(query)`), so it works
with any chat model. A call searches the vector stores of the assistant and the
thread (core.file_search.search) with the assistant's file_search options. The
step records OpenAI's shape — `ranking_options` and `results` (file_id,
file_name, score, content) — and keeps, under the step's private `_engine` key,
the text the model reads and the sources it was shown. The model cites a source
as 【n†file name】; the final message turns each such marker into a
`file_citation` annotation on that file.
"""

from __future__ import annotations

import json
import re
import time

from core.errors import ApiError, NotFound
from core.file_search.search import DEFAULT_MAX_RESULTS, search
from core.repositories import shared

TOOL_NAME = "file_search"
CONTENT_INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"
DEFAULT_RANKING = {"ranker": "default_2024_08_21", "score_threshold": 0.0}
# A store made from attachments or inline vector_stores may still be ingesting when the model first searches:
# the search waits for it this long at most, as OpenAI's runs do (polling: a durable timer belongs in the engine).
HELPER_WAIT_SECONDS = 60.0
HELPER_POLL_SECONDS = 0.5
_MARKER = re.compile(r"【[^†】]*†([^】]+)】")


def enabled(run: dict) -> bool:
    return any(tool.get("type") == TOOL_NAME for tool in run.get("tools") or [])


def options(run: dict) -> dict:
    """The run's file_search options: max_num_results and ranking_options, OpenAI's defaults filled in."""
    tool = next((tool for tool in run.get("tools") or [] if tool.get("type") == TOOL_NAME), {})
    settings = tool.get("file_search") or {}
    return {"max_num_results": settings.get("max_num_results") or DEFAULT_MAX_RESULTS,
            "ranking_options": {**DEFAULT_RANKING, **(settings.get("ranking_options") or {})}}


def _store_ids(record: dict | None) -> list[str]:
    resources = (record or {}).get("tool_resources") or {}
    return list((resources.get(TOOL_NAME) or {}).get("vector_store_ids") or [])


def vector_store_ids(principal: str, run: dict) -> list[str]:
    """The stores a run searches: its assistant's and its thread's."""
    try:
        assistant = shared.assistants().get(principal, run["assistant_id"])
    except NotFound:
        assistant = None
    thread = shared.threads().get(principal, run["thread_id"])
    return list(dict.fromkeys(_store_ids(assistant) + _store_ids(thread)))


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
    try:
        parsed = json.loads(arguments or "")
    except json.JSONDecodeError:
        return arguments or ""
    if isinstance(parsed, dict) and isinstance(parsed.get("query"), str):
        return parsed["query"]
    if isinstance(parsed, dict) and isinstance(parsed.get("queries"), list):
        return " ".join(str(query) for query in parsed["queries"])
    return arguments or ""


def step_call(call_id: str, run: dict) -> dict:
    """The call as its step records it (the query itself is kept under the step's `_engine`)."""
    return {"id": call_id, "type": TOOL_NAME, TOOL_NAME: {"ranking_options": options(run)["ranking_options"],
                                                         "results": []}}


def await_helper_stores(principal: str, store_ids: list[str], budget_seconds: float = HELPER_WAIT_SECONDS) -> None:
    """Wait (at most the budget) until stores made by thread/assistant helpers finish ingesting."""
    deadline = time.monotonic() + budget_seconds
    repository = shared.vector_stores()
    for store_id in store_ids:
        try:
            if not repository.load_store(principal, store_id).get("_helper"):
                continue
        except NotFound:
            continue  # search reports it
        while repository.ingesting(principal, store_id) and time.monotonic() < deadline:
            time.sleep(HELPER_POLL_SECONDS)


def execute(principal: str, run: dict, query: str) -> dict:
    """Search; returns the step's results, the text the model reads and the sources it was shown."""
    chosen = options(run)
    store_ids = vector_store_ids(principal, run)
    await_helper_stores(principal, store_ids)
    try:
        found = search(principal, store_ids, query, chosen["max_num_results"],
                       chosen["ranking_options"]["score_threshold"])
    except ApiError as error:  # a store deleted or expired since the run began: the model reads why
        return {"results": [], "model_output": json.dumps({"error": error.message}), "sources": []}
    results = [{"file_id": hit.file_id, "file_name": hit.file_name, "score": hit.score,
                "content": [{"type": "text", "text": hit.content}]} for hit in found]
    lines = [f"【{index}†{hit.file_name}】 {hit.content}" for index, hit in enumerate(found)]
    return {"results": results, "model_output": "\n\n".join(lines) or "No results found.",
            "sources": [{"file_id": hit.file_id, "name": hit.file_name} for hit in found]}


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
