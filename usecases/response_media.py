"""A Responses message's image and file parts as a thread message's content and attachments.

Each part is checked when the response is created, so a bad one is a 400 (or 404) then, never a
failed run later: an image file must be the caller's and an image (PNG, JPEG, GIF, WebP) of at most
20 MB; an input file — the caller's (`file_id`) or given inline (`file_data` + `filename`) — must
hold text this service can read (core.file_search.parsing). Inline file data is stored as a
`user_data` file of the caller's, under an id chosen here, once the request is valid (`store`);
counting input tokens stores nothing and reads the pending files' text from here instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core import ids
from core.errors import InvalidRequest, NotFound
from core.file_search import parsing
from core.message_files import StoredFiles, image_type, read_bytes, text_of_file
from core.wire.messages import Attachment, ImageFilePart, ImageUrlPart, MessageCreate, TextPart
from core.wire.response_parts import MAX_FILE_BYTES, MAX_IMAGE_BYTES, InputFile, InputImage
from core.wire.responses import InputMessage, InputText, OutputText
from usecases import services

USER_DATA = "user_data"


@dataclass
class Pending:
    """An inline file part, checked at create and stored as a user_data file only once the request is valid."""

    file_id: str
    filename: str
    data: bytes
    text: str


@dataclass
class MediaReader:
    """Reads a request's media parts for one principal; keeps the inline files to store."""

    principal: str
    pending: dict[str, Pending] = field(default_factory=dict)

    def _owned(self, file_id: str, most: int, param: str) -> tuple[dict, bytes]:
        try:
            record, data = read_bytes(self.principal, file_id, most)
        except NotFound:
            raise NotFound("file", file_id, param=param) from None
        if data is None:
            raise InvalidRequest(f"Invalid '{param}': file '{file_id}' is {record['bytes']:,} bytes; at most "
                                 f"{most:,} bytes are accepted.", param=param, code="file_too_large")
        return record, data

    def _text(self, filename: str, data: bytes, param: str) -> str:
        try:
            return text_of_file(filename, data)
        except parsing.Unreadable as error:
            raise InvalidRequest(f"Invalid '{param}': {error.message}", param=param, code=error.code) from None

    def image(self, part: InputImage, param: str) -> ImageFilePart | ImageUrlPart:
        if part.file_id is not None:
            _, data = self._owned(part.file_id, MAX_IMAGE_BYTES, f"{param}.file_id")
            if image_type(data) is None:
                raise InvalidRequest(f"Invalid '{param}.file_id': file '{part.file_id}' is not a PNG, JPEG, GIF or "
                                     "WebP image.", param=f"{param}.file_id", code="invalid_image_format")
        return (ImageFilePart if part.file_id else ImageUrlPart).model_validate(part.content_part())

    def file(self, part: InputFile, param: str) -> tuple[str, str | None]:
        """(the file id it is attached as, the id a stored copy of its data will have, if any)."""
        if part.file_id is not None:
            record, data = self._owned(part.file_id, MAX_FILE_BYTES, f"{param}.file_id")
            self._text(record["filename"], data, f"{param}.file_id")
            return part.file_id, None
        filename = part.filename or ""
        data = part.data()
        pending = Pending(ids.new_id("file"), filename, data, self._text(filename, data, f"{param}.file_data"))
        self.pending[pending.file_id] = pending
        return pending.file_id, pending.file_id

    def message(self, item: InputMessage, param: str) -> tuple[MessageCreate, list[dict]]:
        """A user message with media as a thread message, and its parts as input_items show them."""
        parts: list[TextPart | ImageFilePart | ImageUrlPart] = []
        attachments, shown = [], []
        for index, part in enumerate(item.content if isinstance(item.content, list) else []):
            where = f"{param}.content[{index}]"
            if isinstance(part, InputImage):
                parts.append(self.image(part, where))
                shown.append(part.wire())
            elif isinstance(part, InputFile):
                file_id, stored_as = self.file(part, where)
                attachments.append(Attachment(file_id=file_id, tools=[]))
                shown.append(part.wire(stored_as))
            elif isinstance(part, (InputText, OutputText)):
                if part.text:
                    parts.append(TextPart(type="text", text=part.text))
                shown.append({"type": "input_text", "text": part.text})
        if parts:
            return MessageCreate(role="user", content=parts, attachments=attachments or None), shown
        # files only: a thread message may hold no content part, only its attachments
        return MessageCreate.model_construct(role="user", content=[], attachments=attachments, metadata=None), shown

    def store(self, created_at: int) -> None:
        """Store the inline files (once the request is known to be valid)."""
        for pending in self.pending.values():
            services.files().create(self.principal, filename=pending.filename, purpose=USER_DATA,
                                    chunks=[pending.data], created_at=created_at, file_id=pending.file_id)


class CountedFiles(StoredFiles):
    """The principal's stored files, and the request's inline ones not stored (counting tokens)."""

    def __init__(self, reader: MediaReader):
        super().__init__(reader.principal)
        self.pending = reader.pending

    def file_text(self, file_id: str) -> str | None:
        if file_id in self.pending:
            return self.pending[file_id].text
        return super().file_text(file_id)


__all__ = ["CountedFiles", "MediaReader", "Pending", "USER_DATA"]
