"""file_search in a run, the I/O part: which stores a run searches, and the search itself (the
shapes it records: core/file_search/in_runs.py)."""

from __future__ import annotations

import json

from core.errors import ApiError, NotFound
from core.file_search.in_runs import TOOL_NAME, options
from core.file_search.search import search
from core.repositories import shared

# A store made from attachments or inline vector_stores may still be ingesting when the model first searches:
# the search waits for it this long at most, looking again this often (on the orchestrator's durable timers).
HELPER_WAIT_SECONDS = 60.0
HELPER_POLL_SECONDS = 1.0


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


def helper_stores_ingesting(principal: str, store_ids: list[str]) -> bool:
    """Whether a store made by the thread/assistant helpers (inline vector_stores, attachments) is still
    ingesting: a search waits for those (on the orchestrator's timers), as OpenAI's runs do."""
    repository = shared.vector_stores()
    for store_id in store_ids:
        try:
            if repository.load_store(principal, store_id).get("_helper") and repository.ingesting(principal, store_id):
                return True
        except NotFound:
            continue  # search reports it
    return False


def execute(principal: str, run: dict, query: str) -> dict:
    """Search; returns the step's results, the text the model reads and the sources it was shown."""
    chosen = options(run)
    store_ids = vector_store_ids(principal, run)
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


