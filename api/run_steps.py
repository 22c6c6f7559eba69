"""/v1/threads/{thread_id}/runs/{run_id}/steps: a run's steps, each call as its tool plug-in shows it (file_search
results' content only on request: `include[]`)."""

from __future__ import annotations

import urllib.parse

import azure.durable_functions as df
import azure.functions as func

from api import requests
from api.routing import QueryParam, endpoint, pagination_params
from core.errors import InvalidRequest
from core.wire.runs import RunStep
from tools.plugins import TOOLS
from usecases import services

bp = df.Blueprint()
TAG = "Runs"


INCLUDE_PARAM = QueryParam("include[]", lambda: {"type": "array", "items": {"type": "string", "enum": TOOLS.step_includes}},
                           "Extra fields: file_search results' content.")


@endpoint(bp, "GET", "threads/{thread_id}/runs/{run_id}/steps", summary="List run steps", tag=TAG,
          list_of=RunStep, query=pagination_params() + (INCLUDE_PARAM,))
def run_steps_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    include = _include(req)
    page = services.runs().list_steps(principal, req.route_params["thread_id"], req.route_params["run_id"],
                                      requests.page_request(req, "step"))
    page.data = [TOOLS.public_step(step, include) for step in page.data]
    return requests.json_response(page.wire())


@endpoint(bp, "GET", "threads/{thread_id}/runs/{run_id}/steps/{step_id}", summary="Retrieve a run step", tag=TAG,
          response=RunStep, query=(INCLUDE_PARAM,))
def run_steps_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    include = _include(req)
    step = services.runs().load_step(principal, req.route_params["thread_id"], req.route_params["run_id"],
                                     req.route_params["step_id"])
    return requests.json_response(TOOLS.public_step(step.record, include))


def _include(req: func.HttpRequest) -> list[str]:
    """`include[]` of a steps request (the values OpenAI accepts are the plug-ins': file_search results' content)."""
    values = [value for key, value in urllib.parse.parse_qsl(urllib.parse.urlsplit(req.url).query)
              if key in ("include[]", "include")]
    for value in values:
        if value not in TOOLS.step_includes:
            supported = "', '".join(TOOLS.step_includes)
            raise InvalidRequest(f"Invalid value: '{value}'. Supported values are: '{supported}'.",
                                 param="include", code="invalid_value")
    return values
