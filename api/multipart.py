"""A multipart/form-data reader that hands out parts as views into the request body.

The Functions worker delivers the body as one bytes object; parts are
`memoryview` slices of it, so a multi-megabyte upload is never copied again
on its way to Blob storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InvalidRequest

_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
MAX_PARTS = 16


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: memoryview

    def text(self) -> str:
        return self.data.tobytes().decode("utf-8", errors="replace")


def header_params(value: str) -> dict[str, str]:
    params = {}
    for key, raw in _PARAM.findall(value):
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"'):
            # Only \" and \\ are escapes in practice; browsers send Windows paths unescaped.
            raw = re.sub(r'\\(["\\])', r"\1", raw[1:-1])
        params[key.lower()] = raw
    return params


def parse(body: bytes, content_type: str) -> dict[str, Part]:
    """The form's parts by field name; 400 when the body is not well-formed multipart."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise InvalidRequest("Invalid Content-Type header: expected multipart/form-data for file uploads.",
                             code="invalid_content_type")
    boundary = header_params(content_type).get("boundary")
    if not boundary:
        raise InvalidRequest("Invalid Content-Type header: multipart/form-data without a boundary.",
                             code="invalid_content_type")
    delimiter = b"--" + boundary.encode("latin-1")
    view = memoryview(body)
    parts: dict[str, Part] = {}
    position = body.find(delimiter)
    if position < 0:
        raise _malformed()
    position += len(delimiter)
    while body[position:position + 2] != b"--":
        if body[position:position + 2] != b"\r\n" or len(parts) >= MAX_PARTS:
            raise _malformed()
        header_end = body.find(b"\r\n\r\n", position + 2)
        if header_end < 0:
            raise _malformed()
        headers = _headers(body[position + 2:header_end])
        content_start = header_end + 4
        content_end = _next_delimiter(body, b"\r\n" + delimiter, content_start)
        disposition = header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            raise _malformed()
        parts[name] = Part(name, disposition.get("filename"), headers.get("content-type"),
                           view[content_start:content_end])
        position = content_end + 2 + len(delimiter)
    return parts


def _next_delimiter(body: bytes, marker: bytes, start: int) -> int:
    """Where the part starting at `start` ends: the marker followed by CRLF or by the closing `--`."""
    while True:
        found = body.find(marker, start)
        if found < 0:
            raise _malformed()
        if body[found + len(marker):found + len(marker) + 2] in (b"\r\n", b"--"):
            return found
        start = found + 1


def _headers(raw: bytes) -> dict[str, str]:
    headers = {}
    for line in raw.decode("utf-8", errors="replace").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def _malformed() -> InvalidRequest:
    return InvalidRequest("Could not parse the multipart/form-data request body.", code="invalid_multipart")
