"""/v1/files: upload (multipart), list, retrieve, delete, download content."""

from __future__ import annotations

import urllib.parse

import azure.durable_functions as df
import azure.functions as func

from api import multipart, requests, services
from api.routing import QueryParam, endpoint, pagination_params
from core import filenames, settings
from core.errors import InvalidRequest, TooLarge
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


def _expires_at(parts: dict, created_at: int) -> int | None:
    anchor = parts.get("expires_after[anchor]")
    seconds = parts.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    if anchor is None or anchor.text() != "created_at":
        raise InvalidRequest("Invalid value for 'expires_after.anchor': expected 'created_at'.",
                             param="expires_after.anchor", code="invalid_value")
    text = seconds.text() if seconds else ""
    if not text.isdigit() or not 3600 <= int(text) <= 2_592_000:
        raise InvalidRequest("Invalid 'expires_after.seconds': expected an integer between 3600 and 2592000.",
                             param="expires_after.seconds", code="invalid_value")
    return created_at + int(text)


@endpoint(bp, "POST", "files", summary="Upload a file", tag=TAG, multipart=FileUpload, response=FileObject)
def files_create(req: func.HttpRequest) -> func.HttpResponse:
    principal = requests.principal(req)
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > _max_bytes() + FORM_OVERHEAD_BYTES:
        raise _too_large(int(declared))
    body = req.get_body() or b""
    if len(body) > _max_bytes() + FORM_OVERHEAD_BYTES:
        raise _too_large(len(body))
    parts = multipart.parse(body, req.headers.get("content-type") or "")
    for name in parts:
        if name not in _FIELDS:
            raise InvalidRequest(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    for name in ("file", "purpose"):
        if name not in parts:
            raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    purpose = parts["purpose"].text()
    if purpose not in UPLOAD_PURPOSES:
        supported = ", ".join(f"'{p}'" for p in UPLOAD_PURPOSES)
        raise InvalidRequest(f"Invalid value: '{purpose}'. Supported values are: {supported}.",
                             param="purpose", code="invalid_value")
    upload = parts["file"]
    if len(upload.data) > _max_bytes():
        raise _too_large(len(upload.data))
    if len(upload.data) == 0:
        raise InvalidRequest("File is empty.", param="file", code="empty_file")
    filename = filenames.sanitize(upload.filename or "upload")
    if filename is None:
        raise InvalidRequest("Invalid file name: nothing is left of it once path and control characters "
                             "are removed.", param="file", code="invalid_file_name")
    created_at = services.now()
    record = services.files().create(
        principal, filename=filename, purpose=purpose, chunks=[upload.data], created_at=created_at,
        expires_at=_expires_at(parts, created_at), content_type=upload.content_type)
    return requests.json_response(record)


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
    services.files().delete(requests.principal(req), file_id)
    return requests.json_response({"id": file_id, "object": "file", "deleted": True})


@endpoint(bp, "GET", "files/{file_id}/content", summary="Download a file's content", tag=TAG, binary_response=True)
def files_content(req: func.HttpRequest) -> func.HttpResponse:
    principal = requests.principal(req)
    file_id = req.route_params["file_id"]
    record, chunks = services.files().content(principal, file_id)
    content = b"".join(chunks)
    disposition = "attachment; filename*=UTF-8''" + urllib.parse.quote(record["filename"], safe="")
    return func.HttpResponse(content, status_code=200, mimetype="application/octet-stream",
                             headers={"Content-Disposition": disposition})
