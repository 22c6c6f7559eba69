"""The files a message shows the model: image files as data URLs, attached files as their text.

An `image_file` part reaches the model as a data URL of the file's bytes (at most MAX_IMAGE_BYTES,
of a type Chat Completions takes: PNG, JPEG, GIF, WebP, told by the bytes themselves). An attached
file without tools (a Responses `input_file`) reaches it as its text, read as file_search reads
files (core.file_search.parsing: PDF, Word, PowerPoint, HTML, Markdown, text, JSON, code) and cut at
MAX_FILE_TEXT_CHARS with a note saying so. Files never change, so a file's text is read once per
process (a small cache) however many turns show it.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from typing import Any

from core.errors import ApiError
from core.file_search import parsing
from core.repositories.shared import files
from core.wire.response_parts import MAX_FILE_BYTES, MAX_IMAGE_BYTES

MAX_FILE_TEXT_CHARS = 100_000  # about 25,000 tokens of one file's text given to the model
_CACHED_TEXTS = 32

_texts: OrderedDict[tuple[str, str], str] = OrderedDict()
_lock = threading.Lock()


def image_type(data: bytes) -> str | None:
    """The image's media type told by its first bytes, if it is one Chat Completions reads."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def bounded_text(text: str, most: int = MAX_FILE_TEXT_CHARS) -> str:
    """The text, cut at `most` characters with a note of how much was left out."""
    if len(text) <= most:
        return text
    return f"{text[:most]}\n[... {len(text) - most:,} more characters of this file not shown]"


def text_of_file(filename: str, data: bytes) -> str:
    """The file's text for the model, headed by its name, bounded (raises parsing.Unreadable when it has none)."""
    return f"[file {filename}]\n{bounded_text(parsing.text_of(filename, data))}"


def read_bytes(principal: str, file_id: str, most: int) -> tuple[dict[str, Any], bytes | None]:
    """The file object and its bytes; None for the bytes when the file holds more than `most`."""
    record, chunks = files().content(principal, file_id)
    if record["bytes"] > most:
        close = getattr(chunks, "close", None)
        if close:
            close()
        return record, None
    return record, b"".join(chunks)


def data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


class StoredFiles:
    """A principal's files as a message shows them to the model (core.model_context.Attachments)."""

    def __init__(self, principal: str):
        self.principal = principal

    def image_url(self, file_id: str) -> str | None:
        try:
            _, data = read_bytes(self.principal, file_id, MAX_IMAGE_BYTES)
        except ApiError:  # deleted since
            return None
        media_type = image_type(data) if data is not None else None
        return data_url(data, media_type) if data is not None and media_type else None

    def file_text(self, file_id: str) -> str | None:
        key = (self.principal, file_id)
        with _lock:
            if key in _texts:
                _texts.move_to_end(key)
                return _texts[key]
        try:
            record, data = read_bytes(self.principal, file_id, MAX_FILE_BYTES)
            text = text_of_file(record["filename"], data) if data is not None else None
        except (ApiError, parsing.Unreadable):
            return None
        if text is not None:
            with _lock:
                _texts[key] = text
                while len(_texts) > _CACHED_TEXTS:
                    _texts.popitem(last=False)
        return text
