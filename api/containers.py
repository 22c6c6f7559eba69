"""/v1/containers: OpenAI's Containers API (create, list, retrieve, delete) and a container's files.

A container is where the Responses API's code interpreter keeps its files (`/mnt/data/<name>`);
storage and the rules of names, paths, replacement and expiry are core/repositories/containers.py and
core/wire/containers.py. Every container is its creator's: another principal gets 404 on every route.
"""

from __future__ import annotations

import asyncio
import posixpath
import urllib.parse

import azure.durable_functions as df
import azure.functions as func
from azurefunctions.extensions.http.fastapi import JSONResponse, Request, Response, StreamingResponse

from api import requests, routing, services, uploads
from api.routing import QueryParam, endpoint, pagination_params
from core import request_origin
from core.errors import InvalidRequest
from core.repositories.blobs import BLOCK_BYTES
from core.repositories.shared import containers
from core.wire.common import DeletedObject
from core.wire.containers import (
    DEFAULT_EXPIRY_MINUTES,
    ContainerCreate,
    ContainerFileCreate,
    ContainerFileObject,
    ContainerFileUpload,
    ContainerObject,
)

bp = df.Blueprint()
TAG = "Containers"
CONTAINER = "containers/{container_id}"
FILES = CONTAINER + "/files"
FILE = FILES + "/{file_id}"


@endpoint(bp, "POST", "containers", summary="Create a container", tag=TAG, body=ContainerCreate,
          response=ContainerObject, openai_v1=True)
def containers_create(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    """The container, with a copy of each of `file_ids` (the caller's files; 404 for any other)."""
    body = requests.body(req, ContainerCreate)
    minutes = body.expires_after.minutes if body.expires_after else DEFAULT_EXPIRY_MINUTES
    record = containers().create(principal, name=body.name, created_at=services.now(),
                                 file_ids=body.file_ids, expires_after_minutes=minutes,
                                 memory_limit=body.memory_limit)
    return requests.json_response(record)


@endpoint(bp, "GET", "containers", summary="List containers", tag=TAG, list_of=ContainerObject, openai_v1=True,
          query=pagination_params() + (QueryParam("name", {"type": "string"}, "Only containers with this name."),))
def containers_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    page = containers().list_containers(principal, requests.page_request(req, "container"),
                             name=req.params.get("name") or None)
    return requests.json_response(page.wire())


@endpoint(bp, "GET", CONTAINER, summary="Retrieve a container", tag=TAG, response=ContainerObject, openai_v1=True)
def containers_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    return requests.json_response(containers().get(principal, req.route_params["container_id"]))


@endpoint(bp, "DELETE", CONTAINER, summary="Delete a container", tag=TAG, response=DeletedObject, openai_v1=True)
def containers_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    container_id = req.route_params["container_id"]
    containers().delete(principal, container_id)
    return requests.json_response({"id": container_id, "object": "container.deleted", "deleted": True})


# ---- a container's files --------------------------------------------------------------------------

@endpoint(bp, "POST", FILES, summary="Create a container file", tag=TAG, multipart=ContainerFileUpload,
          body=ContainerFileCreate, response=ContainerFileObject, streaming=True, openai_v1=True)
async def container_files_create(req: Request, principal: str) -> Response:
    """A multipart upload (`file`) streamed into the container, or JSON `{"file_id"}` copying one of the
    caller's files. The container must exist and be running; adding a file is activity that keeps it so."""
    container_id = req.path_params["container_id"]
    await asyncio.to_thread(_running, principal, container_id)
    if uploads.is_multipart(req):
        async with uploads.multipart_form(req, {"file"}) as form:
            upload, filename = uploads.uploaded_file(form)
            record = await asyncio.to_thread(
                containers().add_file, principal, container_id, name=filename,
                chunks=iter(lambda: upload.file.read(BLOCK_BYTES), b""), source="user", created_at=services.now())
    else:
        if request_origin.has_body(req.headers) and not request_origin.is_json_content_type(
                req.headers.get("content-type")):
            raise InvalidRequest(f"Invalid Content-Type header ({req.headers.get('content-type') or 'none'}): "
                                 f"send multipart/form-data with a 'file', or application/json with a 'file_id'.",
                                 code="invalid_content_type")
        body = requests.body(await routing.to_http_request(req), ContainerFileCreate)
        record = await asyncio.to_thread(containers().copy_file, principal, container_id, body.file_id,
                                         services.now())
    await asyncio.to_thread(containers().touch, principal, container_id, services.now())
    return JSONResponse(record)


def _running(principal: str, container_id: str) -> None:
    """The caller's container, refused (400) once expired: an expired container takes no more files."""
    if containers().get(principal, container_id)["status"] == "expired":
        raise InvalidRequest(f"Container {container_id} has expired; create a new container.",
                             param="container_id", code="container_expired")


@endpoint(bp, "GET", FILES, summary="List container files", tag=TAG, list_of=ContainerFileObject,
          query=pagination_params(), openai_v1=True)
def container_files_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    page = containers().list_files(principal, req.route_params["container_id"],
                                   requests.page_request(req, "container_file"))
    return requests.json_response(page.wire())


@endpoint(bp, "GET", FILE, summary="Retrieve a container file", tag=TAG, response=ContainerFileObject,
          openai_v1=True)
def container_files_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    return requests.json_response(containers().get_file(
        principal, req.route_params["container_id"], req.route_params["file_id"]))


@endpoint(bp, "DELETE", FILE, summary="Delete a container file", tag=TAG, response=DeletedObject, openai_v1=True)
def container_files_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    file_id = req.route_params["file_id"]
    containers().delete_file(principal, req.route_params["container_id"], file_id)
    return requests.json_response({"id": file_id, "object": "container.file.deleted", "deleted": True})


@endpoint(bp, "GET", FILE + "/content", summary="Retrieve a container file's content", tag=TAG,
          binary_response=True, streaming=True, openai_v1=True)
async def container_files_content(req: Request, principal: str) -> Response:
    """Stream the file's bytes; never held whole."""
    record, chunks = await asyncio.to_thread(containers().file_content, principal,
                                             req.path_params["container_id"], req.path_params["file_id"])
    name = posixpath.basename(record["path"])
    disposition = "attachment; filename*=UTF-8''" + urllib.parse.quote(name, safe="")
    return StreamingResponse(chunks, media_type="application/octet-stream",
                             headers={"Content-Disposition": disposition})
