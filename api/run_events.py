"""`GET /threads/{thread_id}/runs/{run_id}/events?after=N`: a run's events as server-sent events (the stream
itself, shared with the run endpoints' `stream=True`, is api.event_streams)."""

from __future__ import annotations

import asyncio

import azure.durable_functions as df
from azurefunctions.extensions.http.fastapi import Request, Response

from api.event_streams import check_after, parse_after, sse_response
from api.routing import QueryParam, endpoint
from core.repositories.shared import events
from core.run_events.log import Head
from usecases import services

bp = df.Blueprint()
TAG = "Runs"


@endpoint(bp, "GET", "threads/{thread_id}/runs/{run_id}/events", summary="Stream a run's events", tag=TAG,
          event_stream=True, streaming=True,
          query=(QueryParam("after", {"type": "integer", "minimum": 0},
                            "Continue after this event number (Last-Event-ID wins when sent)."),))
async def run_events(req: Request, principal: str) -> Response:
    """Replay and tail a run's numbered events as server-sent events; the run is not affected."""
    thread_id, run_id = req.path_params["thread_id"], req.path_params["run_id"]
    after = parse_after(req.query_params.get("after"), req.headers.get("last-event-id"))

    def read_head() -> Head:
        services.runs().load(principal, thread_id, run_id)
        return events().head(thread_id, run_id)

    head = await asyncio.to_thread(read_head)
    check_after(head, after)
    return sse_response(thread_id, run_id, after, head)
