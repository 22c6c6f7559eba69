"""Streaming multipart/form-data uploads: what POST /files and POST /containers/{id}/files share.

The body is read as it arrives and refused with 413 past MAX_UPLOAD_BYTES (plus the form's framing),
declared or not; starlette's parser spools the file part to disk, so an upload is never held whole in
memory; a body cut short before its closing delimiter is refused rather than stored truncated.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from azurefunctions.extensions.http.fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException

from core import filenames, settings
from core.errors import InvalidRequest, TooLarge

# Room for the multipart framing and the small form fields around the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024


def max_bytes() -> int:
    return settings.get_int("MAX_UPLOAD_BYTES")


def too_large(size: int) -> TooLarge:
    return TooLarge(f"File too large: {size} bytes exceeds the maximum upload size of {max_bytes()} bytes.",
                    param="file")


def is_multipart(req: Request) -> bool:
    return (req.headers.get("content-type") or "").lower().startswith("multipart/form-data")


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
            raise too_large(self._seen)
        self.tail = (self.tail + chunk)[-256:]
        return message

    def ends_with_closing_delimiter(self) -> bool:
        _, options = parse_options_header(self._req.headers.get("content-type") or "")
        boundary = options.get(b"boundary", b"")
        return bool(boundary) and self.tail.rstrip(b"\r\n").endswith(b"--" + boundary + b"--")


@asynccontextmanager
async def multipart_form(req: Request, fields: frozenset[str] | set[str]) -> AsyncIterator[FormData]:
    """The request's form (at most one file, only `fields`), its file spooled; 400/413 in OpenAI's words."""
    limit = max_bytes() + FORM_OVERHEAD_BYTES
    declared = req.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared))
    if not is_multipart(req):
        raise InvalidRequest("Invalid Content-Type header: expected multipart/form-data for file uploads.",
                             code="invalid_content_type")
    body = _BoundedBody(req, limit)
    try:
        async with Request(req.scope, body.receive).form(max_files=1, max_fields=len(fields),
                                                         max_part_size=FORM_OVERHEAD_BYTES) as form:
            if not body.ends_with_closing_delimiter():
                raise MultiPartException("the body ends before the closing delimiter")
            for name in form.keys():
                if name not in fields:
                    raise InvalidRequest(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
            yield form
    except MultiPartException as error:
        raise InvalidRequest(f"Invalid multipart/form-data body: {error.message}", code="invalid_multipart") from None


def uploaded_file(form: FormData, name: str = "file") -> tuple[UploadFile, str]:
    """The form's file part (rewound) and its sanitized name: present, a file, not empty, within the limit."""
    if name not in form:
        raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter")
    upload = form[name]
    if not isinstance(upload, UploadFile):
        raise InvalidRequest(f"Invalid '{name}': expected a file upload.", param=name, code="invalid_type")
    assert upload.size is not None  # starlette's multipart parser counts every file's size
    if upload.size > max_bytes():
        raise too_large(upload.size)
    if upload.size == 0:
        raise InvalidRequest("File is empty.", param=name, code="empty_file")
    filename = filenames.sanitize(upload.filename or "upload")
    if filename is None:
        raise InvalidRequest("Invalid file name: nothing is left of it once path and control characters "
                             "are removed.", param=name, code="invalid_file_name")
    upload.file.seek(0)
    return upload, filename
