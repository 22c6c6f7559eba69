"""Image and file input parts of Responses messages (`input_image`, `input_file`), validated as OpenAI
validates them, and what they become in a thread message.

An input_image is an Assistants content part: `image_url` (an https URL, passed to the model as
given, or a data URL) → an `image_url` part; `file_id` → an `image_file` part (the model is sent the
file's bytes). The Assistants wire knows no `original` detail: such an image is stored at `high`.
An input_file is an attachment without tools (`file_id`, or `file_data` stored first as a
`user_data` file); the model is given its text (core.message_files). `file_url` would make this
server fetch the URL; it is refused.
"""


import base64
import binascii
import re
from typing import Any, Literal

from pydantic import Field, model_validator

from core.wire.common import RequestModel, openai_error

MAX_IMAGE_BYTES = 20 * 2**20  # OpenAI's limit for one input image
MAX_FILE_BYTES = 50 * 2**20  # OpenAI's limit for one input file
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[^;,]*)*;base64,(?P<data>.*)$", re.DOTALL)
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def decode_base64(value: str, what: str) -> bytes:
    """Base64 as OpenAI takes it (padding required, no stray characters); a 400 otherwise."""
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise openai_error(f"Invalid {what}: expected base64-encoded data.", "invalid_value") from None


def _too_large(what: str, size: int, most: int) -> Exception:
    return openai_error(f"Invalid {what}: the data is {size:,} bytes; at most {most:,} bytes are accepted.",
                        "invalid_value")


class InputImage(RequestModel):
    type: Literal["input_image"]
    image_url: str | None = Field(default=None, max_length=4 * MAX_IMAGE_BYTES // 3 + 256)
    file_id: str | None = Field(default=None, max_length=256)
    detail: Literal["low", "high", "auto", "original"] = "auto"

    @model_validator(mode="after")
    def _one_source(self) -> "InputImage":
        if (self.image_url is None) == (self.file_id is None):
            raise openai_error("Invalid input_image: provide exactly one of 'image_url' or 'file_id'.",
                               "invalid_value")
        url = self.image_url
        if url is not None and not url.startswith(("https://", "http://")):
            match = _DATA_URL.match(url)
            if match is None or match.group("type") not in _IMAGE_TYPES:
                raise openai_error("Invalid 'image_url': expected a URL (https) or a base64 data URL of a PNG, "
                                   "JPEG, GIF or WebP image.", "invalid_image_url")
            size = len(decode_base64(match.group("data"), "'image_url'"))
            if size > MAX_IMAGE_BYTES:
                raise _too_large("'image_url'", size, MAX_IMAGE_BYTES)
        return self

    @property
    def stored_detail(self) -> Literal["low", "high", "auto"]:
        return "high" if self.detail == "original" else self.detail

    def content_part(self) -> dict[str, Any]:
        """As a thread message's content part."""
        if self.file_id is not None:
            return {"type": "image_file", "image_file": {"file_id": self.file_id, "detail": self.stored_detail}}
        return {"type": "image_url", "image_url": {"url": self.image_url, "detail": self.stored_detail}}

    def wire(self) -> dict[str, Any]:
        """As input_items show it."""
        return {"type": "input_image", "detail": self.detail, "file_id": self.file_id, "image_url": self.image_url}


class InputFile(RequestModel):
    type: Literal["input_file"]
    file_id: str | None = Field(default=None, max_length=256)
    file_data: str | None = Field(default=None, max_length=4 * MAX_FILE_BYTES // 3 + 256)
    file_url: str | None = Field(default=None, max_length=8192)
    filename: str | None = Field(default=None, min_length=1, max_length=256)
    detail: Literal["auto", "low", "high"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "InputFile":
        given = [name for name in ("file_id", "file_data", "file_url") if getattr(self, name) is not None]
        if len(given) != 1:
            raise openai_error("Invalid input_file: provide exactly one of 'file_id', 'file_data' or 'file_url'.",
                               "invalid_value")
        if self.file_url is not None:
            raise openai_error("Invalid input_file: 'file_url' is not supported by this service (it does not "
                               "fetch URLs); send the file as 'file_data' or upload it and send its 'file_id'.",
                               "unsupported_value")
        if self.file_data is not None and self.filename is None:
            raise openai_error("Invalid input_file: 'filename' is required with 'file_data'.",
                               "missing_required_parameter")
        if self.file_data is not None:
            size = len(self.data())
            if size > MAX_FILE_BYTES:
                raise _too_large("'file_data'", size, MAX_FILE_BYTES)
        return self

    def data(self) -> bytes:
        """The bytes of `file_data` (base64, bare or as a data URL)."""
        value = self.file_data or ""
        match = _DATA_URL.match(value) if value.startswith("data:") else None
        return decode_base64(match.group("data") if match else value, "'file_data'")

    def wire(self, file_id: str | None = None) -> dict[str, Any]:
        """As input_items show it (`file_id`: the file its data was stored as)."""
        return {"type": "input_file", "file_id": self.file_id or file_id, "filename": self.filename}
