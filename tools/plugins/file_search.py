"""file_search as a plug-in: offering it, recording a call and its results, searching, citing.

The model sees file_search as a function (`file_search(query)`), so it works with
any chat model. The step records OpenAI's shape — `ranking_options` and `results`
(file_id, file_name, score, content) — and the step's bookkeeping keeps the query,
the text the model reads and the sources it was shown. The stores searched are the
run's resources: its assistant's and its thread's vector stores; a store the
thread/assistant helpers made (attachments, inline vector_stores) that is still
ingesting makes the call wait, on the orchestrator's durable timers, as OpenAI's
runs do. The model cites a source as 【n†file name】; the final message turns each
such marker into a `file_citation` annotation on that file. A step shows its results
without their content unless the request's `include[]` asks for it (`public_call`),
and a response's declaration names vector stores the caller must own (`check_declared`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from core import tool_arguments
from core.errors import ApiError, NotFound
from core.references import require_vector_stores
from core.repositories import shared
from core.run_bookkeeping import RunBookkeeping, Source, StepBookkeeping
from core.run_events import payloads
from core.run_events.payloads import Event
from core.tool_plugins import (
    CallContext,
    Finished,
    ItemView,
    Offer,
    StepCall,
    ToolPlugin,
    Waiting,
    Where,
    builtin_run_tool,
    search_call_events,
)
from core.vector_store_search import DEFAULT_MAX_RESULTS, search
from core.wire.response_objects import item_id

# A store made from attachments or inline vector_stores may still be ingesting when the model first searches:
# the search waits for it this long at most, looking again this often (on the orchestrator's durable timers).
HELPER_WAIT_SECONDS = 60.0
HELPER_POLL_SECONDS = 1.0
DEFAULT_RANKING = {"ranker": "default_2024_08_21", "score_threshold": 0.0}
_MARKER = re.compile(r"【[^†】]*†([^】]+)】")
RESULTS_INCLUDE = "file_search_call.results"
TOOL_NAME = "file_search"
CONTENT_INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"


# -- pure: the offer, the call, the citations ----------------------------------------------


def options(run: dict) -> dict:
    """The run's file_search options: max_num_results and ranking_options, OpenAI's defaults filled in."""
    chosen = (builtin_run_tool(run, TOOL_NAME) or {}).get(TOOL_NAME) or {}
    return {"max_num_results": chosen.get("max_num_results") or DEFAULT_MAX_RESULTS,
            "ranking_options": {**DEFAULT_RANKING, **(chosen.get("ranking_options") or {})}}


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


def response_item(call: dict, books: StepBookkeeping | None, done: bool, include: frozenset[str]) -> dict:
    """The call as a Responses `file_search_call` item; its results (with their text) only when
    `include` asks for `file_search_call.results`, as at OpenAI."""
    query = books.queries.get(call["id"]) if books is not None else None
    results = None
    if done and RESULTS_INCLUDE in include:
        results = [{"file_id": hit["file_id"], "filename": hit["file_name"], "score": hit["score"],
                    "text": "".join(part.get("text", "") for part in hit.get("content") or []), "attributes": None}
                   for hit in (call.get(TOOL_NAME) or {}).get("results") or []]
    return {"id": item_id("fs", call["id"]), "type": "file_search_call", "queries": [query] if query else [],
            "status": "completed" if done else "in_progress", "results": results}


def _cited_name(marker: str) -> str:
    match = _MARKER.fullmatch(marker)
    return match.group(1).strip() if match else ""


def response_citations(annotations: list[dict]) -> list[dict]:
    """An answer's file citations on the Responses wire: the file and where in the text it is cited
    (the marker 【n†name】 stays in the text, which both APIs show alike)."""
    return [{"type": "file_citation", "file_id": annotation["file_citation"]["file_id"],
             "filename": _cited_name(annotation["text"]),
             "index": annotation["start_index"]}
            for annotation in annotations if annotation.get("type") == "file_citation"]


def call_delta(step_id: str, index: int, call_id: str | None) -> Event:
    """A search shows no arguments, as at OpenAI: its results come with the step."""
    return payloads.step_delta(step_id, {"index": index, "type": TOOL_NAME, "id": call_id, TOOL_NAME: {}})


# -- I/O: the stores and the search ----------------------------------------------------------


def _store_ids(record: dict | None) -> list[str]:
    resources = (record or {}).get("tool_resources") or {}
    return list((resources.get(TOOL_NAME) or {}).get("vector_store_ids") or [])


def vector_store_ids(principal: str, run: dict, books: RunBookkeeping) -> list[str]:
    """The stores a run searches: its assistant's and its thread's, or those its response declares."""
    declared = books.response_tools.get(TOOL_NAME)
    if declared is not None:
        return list(declared["vector_store_ids"])
    try:
        assistant = shared.assistants().get(principal, run["assistant_id"])
    except NotFound:
        assistant = None
    thread = shared.threads().get(principal, run["thread_id"])
    return list(dict.fromkeys(_store_ids(assistant) + _store_ids(thread)))


def helper_stores_ingesting(principal: str, store_ids: list[str]) -> bool:
    """Whether a store made by the thread/assistant helpers (inline vector_stores, attachments) is still
    ingesting: a search waits for those (on the orchestrator's timers), as OpenAI's runs do."""
    repository = shared.vector_stores()
    for store_id in store_ids:
        try:
            if repository.stored_store(principal, store_id)[1].helper and repository.ingesting(principal, store_id):
                return True
        except NotFound:
            continue  # search reports it
    return False


def execute(principal: str, run: dict, books: RunBookkeeping, query: str) -> dict:
    """Search; returns the step's results, the text the model reads and the sources it was shown."""
    chosen = options(run)
    store_ids = vector_store_ids(principal, run, books)
    filters = (books.response_tools.get(TOOL_NAME) or {}).get("filters")
    try:
        found = search(principal, store_ids, query, chosen["max_num_results"],
                       chosen["ranking_options"]["score_threshold"], filters)
    except ApiError as error:  # a store deleted or expired since the run began: the model reads why
        return {"results": [], "model_output": json.dumps({"error": error.message}), "sources": []}
    results = [{"file_id": hit.file_id, "file_name": hit.file_name, "score": hit.score,
                "content": [{"type": "text", "text": hit.content}]} for hit in found]
    lines = [f"【{index}†{hit.file_name}】 {hit.content}" for index, hit in enumerate(found)]
    return {"results": results, "model_output": "\n\n".join(lines) or "No results found.",
            "sources": [{"file_id": hit.file_id, "name": hit.file_name} for hit in found]}


def _searched(context: CallContext) -> Finished:
    result = execute(context.principal, context.run, context.run_books,
                     context.step_books.queries.get(context.call_id, ""))
    return Finished(fill=lambda call: call[TOOL_NAME].update(results=result["results"]),
                    model_text=result["model_output"], kept={"sources": [Source(**item) for item in result["sources"]]})


class FileSearch(ToolPlugin):
    kind = TOOL_NAME

    def enabled(self, run: dict) -> bool:
        return builtin_run_tool(run, TOOL_NAME) is not None

    def offered(self, run: dict, resources: None) -> list[dict]:
        return [chat_tool()]

    def route(self, name: str, offer: Offer) -> Where | None:
        return "server" if name == TOOL_NAME and self.enabled(offer.run) else None

    def step_call(self, call_id: str, name: str, arguments: str, where: Where, run: dict) -> StepCall:
        return StepCall(step_call(call_id, run), books={"queries": {call_id: query_of(arguments)}})

    def model_output(self, call: dict, books: StepBookkeeping) -> str | None:
        return books.outputs.get(call["id"])

    def chat_call(self, call: dict, books: StepBookkeeping) -> tuple[str, str]:
        return TOOL_NAME, json.dumps({"query": books.queries.get(call["id"], "")})

    def execute(self, context: CallContext) -> Finished | Waiting:
        if helper_stores_ingesting(context.principal, vector_store_ids(context.principal, context.run, context.run_books)):
            return Waiting("", HELPER_POLL_SECONDS, HELPER_WAIT_SECONDS)  # searched once they are ready (poll)
        return _searched(context)

    def poll(self, context: CallContext, location: str, give_up: bool) -> Finished | Waiting:
        if not give_up and helper_stores_ingesting(context.principal, vector_store_ids(context.principal, context.run, context.run_books)):
            return Waiting("", HELPER_POLL_SECONDS, HELPER_WAIT_SECONDS)
        return _searched(context)  # ready, or past the wait: what is there

    def stream_start(self, step_id: str, index: int, call_id: str | None, name: str, arguments: str) -> Event:
        return call_delta(step_id, index, call_id)

    def whole_call_delta(self, step_id: str, index: int, call: dict) -> Event:
        return call_delta(step_id, index, call["id"])

    def annotations(self, text: str, steps: list[tuple[dict, StepBookkeeping]]) -> list[dict]:
        return citations(text, [source.model_dump() for _, books in steps for source in books.sources])

    step_includes = frozenset({CONTENT_INCLUDE})

    def public_call(self, call: dict, include: frozenset[str]) -> dict:
        if CONTENT_INCLUDE in include:
            return call
        results = [{key: value for key, value in result.items() if key != "content"}
                   for result in call[TOOL_NAME].get("results") or []]
        return {**call, TOOL_NAME: {**call[TOOL_NAME], "results": results}}

    def check_declared(self, principal: str, declared: Any, param: str, at: int) -> None:
        require_vector_stores(principal, declared.vector_store_ids, f"{param}.vector_store_ids")

    def response_item(self, call: dict, books: StepBookkeeping | None, done: bool,
                      view: ItemView) -> dict:
        return response_item(call, books, done, view.include)

    def response_events(self, phase: Literal["opened", "done"], item: dict, output_index: int) -> list[dict]:
        return search_call_events("response.file_search_call", phase, item, output_index)

    def response_citations(self, text: str, annotations: list[dict],
                           calls: list[tuple[dict, StepBookkeeping]]) -> list[dict]:
        return response_citations(annotations)


TOOL = FileSearch()
