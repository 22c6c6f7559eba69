"""/v1/files: upload (multipart), list, retrieve, delete, download content."""

from __future__ import annotations

import asyncio
import urllib.parse

import azure.durable_functions as df
import azure.functions as func
from azurefunctions.extensions.http.fastapi import JSONResponse, Request, Response, StreamingResponse
from python_multipart.multipart import parse_options_header
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from api import requests, services
from api.routing import QueryParam, endpoint, pagination_params
from core import filenames, settings
from core.errors import InvalidRequest, TooLarge
from core.repositories.files import BLOCK_BYTES
from core.repositories.shared import vector_stores
from core.wire.common import DeletedObject
from core.wire.files import UPLOAD_PURPOSES, FileObject, FileUpload

bp = df.Blueprint()
TAG = "Files"
# Room for the multipart framing and the small form fields around the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
MAX_FILES_LIMIT = 10_000
_FIELDS = {"file", "purpose", "expires_after[anchor]", "expires_after[seconds]"}


def _max_bytes() -> int:
    return settings.get_int("MAX_UPLOAD_BYTES")


def _too_large(size: int) -> TooLarge:
    return TooLarge(f"File too large: {size} bytes exceeds the maximum upload size of {_max_bytes()} bytes.",
                    param="file")


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


class _BoundedBody:
    """The request's body, refused (413) past `limit` bytes, remembering how it ended.

    The form parser accepts a body that stops before the closing delimiter; the
    tail kept here lets the handler tell a truncated upload from a complete one.
    """

    def __init__(self, req: Request, limit: int):
        self._req = req
        self._limit = limit
        self._seen = 0
        self.tail = b""

    async def receive(self):
        message = await self._req.receive()
        chunk = message.get("body", b"")
        self._seen += len(chunk)
        if self._seen > self._limit:
            raise _too_large(self._seen)
        self.tail = (self.tail + chunk)[-256:]
        return message

    def ends_with_closing_delimiter(self) -> bool:
        _, options = parse_options_header(self._req.headers.get("content-type") or "")
        boundary = options.get(b"boundary", b"")
        return bool(boundary) and self.tail.rstrip(b"\r\n").endswith(b"--" + boundary + b"--")


@endpoint(bp, "POST", "files", summary="Upload a file", tag=TAG, multipart=FileUpload, response=FileObject,
          streaming=True)
async def files_create(req: Request) -> Response:
    """Stream the upload: the form parser spools the file to disk, then it goes to Blob storage in blocks."""
    principal = requests.principal(req)
    limit = _max_bytes() + FORM_OVERHEAD_BYTES
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared))
    if not (req.headers.get("content-type") or "").lower().startswith("multipart/form-data"):
        raise InvalidRequest("Invalid Content-Type header: expected multipart/form-data for file uploads.",
                             code="invalid_content_type")
    body = _BoundedBody(req, limit)
    try:
        async with Request(req.scope, body.receive).form(max_files=1, max_fields=len(_FIELDS),
                                                         max_part_size=FORM_OVERHEAD_BYTES) as form:
            if not body.ends_with_closing_delimiter():
                raise MultiPartException("the body ends before the closing delimiter")
            return await _store_upload(principal, form)
    except MultiPartException as error:
        raise InvalidRequest(f"Invalid multipart/form-data body: {error.message}", code="invalid_multipart") from None


async def _store_upload(principal: str, form) -> Response:
    for name in form.keys():
        if name not in _FIELDS:
            raise InvalidRequest(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    for name in ("file", "purpose"):
        if name not in form:
            raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    purpose = form["purpose"]
    if not isinstance(purpose, str) or purpose not in UPLOAD_PURPOSES:
        supported = ", ".join(f"'{p}'" for p in UPLOAD_PURPOSES)
        raise InvalidRequest(f"Invalid value: '{purpose}'. Supported values are: {supported}.",
                             param="purpose", code="invalid_value")
    upload = form["file"]
    if not isinstance(upload, UploadFile):
        raise InvalidRequest("Invalid 'file': expected a file upload.", param="file", code="invalid_type")
    assert upload.size is not None  # starlette's multipart parser counts every file's size
    if upload.size > _max_bytes():
        raise _too_large(upload.size)
    if upload.size == 0:
        raise InvalidRequest("File is empty.", param="file", code="empty_file")
    filename = filenames.sanitize(upload.filename or "upload")
    if filename is None:
        raise InvalidRequest("Invalid file name: nothing is left of it once path and control characters "
                             "are removed.", param="file", code="invalid_file_name")
    created_at = services.now()
    expires_at = _expires_at(form, created_at)
    upload.file.seek(0)
    record = await asyncio.to_thread(
        services.files().create, principal, filename=filename, purpose=purpose,
        chunks=iter(lambda: upload.file.read(BLOCK_BYTES), b""), created_at=created_at,
        expires_at=expires_at, content_type=upload.content_type)
    return JSONResponse(record)


@endpoint(bp, "GET", "files", summary="List files", tag=TAG, list_of=FileObject,
          query=pagination_params(max_limit=MAX_FILES_LIMIT, default_limit=MAX_FILES_LIMIT)
          + (QueryParam("purpose", {"type": "string"}, "Only files with this purpose."),))
def files_list(req: func.HttpRequest) -> func.HttpResponse:
    request = requests.page_request(req, "file", default_limit=MAX_FILES_LIMIT, max_limit=MAX_FILES_LIMIT)
    page = services.files().list(requests.principal(req), request, purpose=req.params.get("purpose") or None)
    return requests.json_response(page.wire())


@endpoint(bp, "GET", "files/{file_id}", summary="Retrieve a file", tag=TAG, response=FileObject)
def files_retrieve(req: func.HttpRequest) -> func.HttpResponse:
    return requests.json_response(services.files().get(requests.principal(req), req.route_params["file_id"]))


@endpoint(bp, "DELETE", "files/{file_id}", summary="Delete a file", tag=TAG, response=DeletedObject)
def files_delete(req: func.HttpRequest) -> func.HttpResponse:
    file_id = req.route_params["file_id"]
    principal = requests.principal(req)
    services.files().delete(principal, file_id)
    vector_stores().detach_everywhere(principal, file_id)  # its chunks leave every vector store too
    return requests.json_response({"id": file_id, "object": "file", "deleted": True})


@endpoint(bp, "GET", "files/{file_id}/content", summary="Download a file's content", tag=TAG, binary_response=True,
          streaming=True)
async def files_content(req: Request) -> Response:
    """Stream the blob's chunks to the client; the file is never held whole."""
    record, chunks = await asyncio.to_thread(
        services.files().content, requests.principal(req), req.path_params["file_id"])
    disposition = "attachment; filename*=UTF-8''" + urllib.parse.quote(record["filename"], safe="")
    return StreamingResponse(chunks, media_type="application/octet-stream",
                             headers={"Content-Disposition": disposition})
