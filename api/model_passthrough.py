"""Chat completions and embeddings, passed through to the configured model on the caller's key.

The seed's code calls `client.chat.completions.create` and `client.embeddings.create`
on the same client (and key) it uses for assistants, as it did with Azure OpenAI.
These endpoints check the caller like every other, then forward the JSON body
to the model the service is configured with (core/model_client.py). The model
is the body's `model` under /v1, and the deployment under
/openai/deployments/{deployment}/..., exactly as the run engine passes an
assistant's `model` on. Responses flow back as they come: a streamed completion
is relayed chunk by chunk (HTTP streams), never buffered whole.
"""


import asyncio
from typing import Any, Iterator

import azure.durable_functions as df
import httpx2
import openai
from azurefunctions.extensions.http.fastapi import Request, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.errors import from_validation
from api.requests import json_object
from api.routing import bounded_body, endpoint
from core.errors import ApiError, InvalidRequest
from core.model_client import chat_client

bp = df.Blueprint()
TAG = "Model"
RELAYED_HEADERS = ("content-type", "retry-after", "retry-after-ms", "x-request-id")


class ChatCompletionsBody(BaseModel):
    """What we check before forwarding; every other field goes to the model as sent."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    model: str | None = Field(default=None, min_length=1, max_length=256)
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool | None = None


class EmbeddingsBody(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    model: str | None = Field(default=None, min_length=1, max_length=256)
    input: str | list[str] | list[int] | list[list[int]]


class ModelUnavailable(ApiError):
    """502: the configured model could not be reached or failed; the request may be retried."""

    status = 502
    type = "server_error"


async def _read_json(req: Request) -> dict:
    return json_object(await bounded_body(req))


def forwarded_body(data: dict, schema: type[BaseModel], deployment: str | None) -> dict:
    """The body to send the model: validated, with the deployment (Azure shape) as its model."""
    if deployment is not None:
        data = {**data, "model": deployment}
    try:
        schema.model_validate(data)
    except ValidationError as error:
        raise from_validation(error.errors(include_url=False)[0], data) from None
    if not data.get("model"):
        raise InvalidRequest("Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    return data


def _call_model(path: str, body: dict) -> httpx2.Response:
    """POST to the model without reading the body (blocking; run in a thread)."""
    try:
        return chat_client().post(path, body=body, cast_to=httpx2.Response, stream=True)
    except openai.APIStatusError as error:
        if error.status_code >= 500:
            raise ModelUnavailable(f"The model failed with status {error.status_code}.") from None
        return error.response  # a 4xx of the model's, in OpenAI's envelope: the caller's to see
    except openai.APITimeoutError:
        raise ModelUnavailable("The model did not answer in time.", code="timeout") from None
    except openai.APIConnectionError:
        raise ModelUnavailable("The model could not be reached.", code="model_unreachable") from None


def _relay(upstream: httpx2.Response) -> Iterator[bytes]:
    try:
        yield from upstream.iter_bytes()
    finally:
        upstream.close()


async def _forward(req: Request, path: str, schema: type[BaseModel]) -> Response:
    body = forwarded_body(await _read_json(req), schema, req.path_params.get("deployment"))
    upstream = await asyncio.to_thread(_call_model, path, body)
    headers = {name: upstream.headers[name] for name in RELAYED_HEADERS if name in upstream.headers}
    return StreamingResponse(_relay(upstream), status_code=upstream.status_code, headers=headers)


@endpoint(bp, "POST", "chat/completions", azure_route="deployments/{deployment}/chat/completions",
          summary="Create a chat completion with the configured model (streamed with stream=true)", tag=TAG,
          body=ChatCompletionsBody, streaming=True, streams_response=True)
async def chat_completions(req: Request, principal: str) -> Response:
    return await _forward(req, "/chat/completions", ChatCompletionsBody)


@endpoint(bp, "POST", "embeddings", azure_route="deployments/{deployment}/embeddings",
          summary="Create embeddings with the configured model", tag=TAG, body=EmbeddingsBody, streaming=True)
async def embeddings(req: Request, principal: str) -> Response:
    return await _forward(req, "/embeddings", EmbeddingsBody)
