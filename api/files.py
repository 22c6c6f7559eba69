"""/v1/files: upload (multipart), list, retrieve, delete, download content."""

from __future__ import annotations

import asyncio
import urllib.parse

import azure.durable_functions as df
import azure.functions as func
from azurefunctions.extensions.http.fastapi import JSONResponse, Request, Response, StreamingResponse

from api import requests, services, uploads
from api.routing import QueryParam, endpoint, pagination_params
from core.errors import InvalidRequest
from core.repositories.files import BLOCK_BYTES
from core.repositories.shared import vector_stores
from core.wire.common import DeletedObject
from core.wire.files import UPLOAD_PURPOSES, FileObject, FileUpload

bp = df.Blueprint()
TAG = "Files"
MAX_FILES_LIMIT = 10_000
_FIELDS = {"file", "purpose", "expires_after[anchor]", "expires_after[seconds]"}


def _expires_at(form, created_at: int) -> int | None:
    anchor = form.get("expires_after[anchor]")
    seconds = form.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise InvalidRequest("Invalid value for 'expires_after.anchor': expected 'created_at'.",
                             param="expires_after.anchor", code="invalid_value")
    text = seconds if isinstance(seconds, str) else ""
    if not text.isdigit() or not 3600 <= int(text) <= 2_592_000:
        raise InvalidRequest("Invalid 'expires_after.seconds': expected an integer between 3600 and 2592000.",
                             param="expires_after.seconds", code="invalid_value")
    return created_at + int(text)


@endpoint(bp, "POST", "files", summary="Upload a file", tag=TAG, multipart=FileUpload, response=FileObject,
          streaming=True)
async def files_create(req: Request, principal: str) -> Response:
    """Stream the upload: the form parser spools the file to disk, then it goes to Blob storage in blocks."""
    async with uploads.multipart_form(req, _FIELDS) as form:
        return await _store_upload(principal, form)


async def _store_upload(principal: str, form) -> Response:
    for name in ("file", "purpose"):
        if name not in form:
            raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    purpose = form["purpose"]
    if not isinstance(purpose, str) or purpose not in UPLOAD_PURPOSES:
        supported = ", ".join(f"'{p}'" for p in UPLOAD_PURPOSES)
        raise InvalidRequest(f"Invalid value: '{purpose}'. Supported values are: {supported}.",
                             param="purpose", code="invalid_value")
    upload, filename = uploads.uploaded_file(form)
    created_at = services.now()
    expires_at = _expires_at(form, created_at)
    record = await asyncio.to_thread(
        services.files().create, principal, filename=filename, purpose=purpose,
        chunks=iter(lambda: upload.file.read(BLOCK_BYTES), b""), created_at=created_at,
        expires_at=expires_at, content_type=upload.content_type)
    return JSONResponse(record)


@endpoint(bp, "GET", "files", summary="List files", tag=TAG, list_of=FileObject,
          query=pagination_params(max_limit=MAX_FILES_LIMIT, default_limit=MAX_FILES_LIMIT)
          + (QueryParam("purpose", {"type": "string"}, "Only files with this purpose."),))
def files_list(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    request = requests.page_request(req, "file", default_limit=MAX_FILES_LIMIT, max_limit=MAX_FILES_LIMIT)
    page = services.files().list(principal, request, purpose=req.params.get("purpose") or None)
    return requests.json_response(page.wire())


@endpoint(bp, "GET", "files/{file_id}", summary="Retrieve a file", tag=TAG, response=FileObject)
def files_retrieve(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    return requests.json_response(services.files().get(principal, req.route_params["file_id"]))


@endpoint(bp, "DELETE", "files/{file_id}", summary="Delete a file", tag=TAG, response=DeletedObject)
def files_delete(req: func.HttpRequest, principal: str) -> func.HttpResponse:
    file_id = req.route_params["file_id"]
    services.files().delete(principal, file_id)
    vector_stores().detach_everywhere(principal, file_id)  # its chunks leave every vector store too
    return requests.json_response({"id": file_id, "object": "file", "deleted": True})


@endpoint(bp, "GET", "files/{file_id}/content", summary="Download a file's content", tag=TAG, binary_response=True,
          streaming=True)
async def files_content(req: Request, principal: str) -> Response:
    """Stream the blob's chunks to the client; the file is never held whole."""
    record, chunks = await asyncio.to_thread(
        services.files().content, principal, req.path_params["file_id"])
    disposition = "attachment; filename*=UTF-8''" + urllib.parse.quote(record["filename"], safe="")
    return StreamingResponse(chunks, media_type="application/octet-stream",
                             headers={"Content-Disposition": disposition})
