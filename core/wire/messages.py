"""Message request bodies and the `thread.message` object."""


from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from core.wire.common import Metadata, RequestModel, WireModel, openai_error

MAX_CONTENT_CHARS = 256_000


class TextPart(RequestModel):
    type: Literal["text"]
    text: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)


class ImageFile(RequestModel):
    file_id: str
    detail: Literal["auto", "low", "high"] = "auto"


class ImageFilePart(RequestModel):
    type: Literal["image_file"]
    image_file: ImageFile


class ImageUrl(RequestModel):
    url: str
    detail: Literal["auto", "low", "high"] = "auto"

    @field_validator("url")
    @classmethod
    def _is_web_or_data_url(cls, url: str) -> str:
        if not url.startswith(("https://", "http://", "data:image/")):
            raise openai_error("Expected a valid URL (http, https or a data:image/ URL).", "invalid_url")
        return url


class ImageUrlPart(RequestModel):
    type: Literal["image_url"]
    image_url: ImageUrl


ContentPart = Annotated[Union[TextPart, ImageFilePart, ImageUrlPart], Field(discriminator="type")]


def _content_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "parts"
    return None


Content = Annotated[
    Union[
        Annotated[str, Field(min_length=1, max_length=MAX_CONTENT_CHARS), Tag("text")],
        Annotated[list[ContentPart], Field(min_length=1), Tag("parts")],
    ],
    Discriminator(_content_tag, custom_error_type="invalid_type",
                  custom_error_message="expected a string or an array of content parts"),
]


class CodeInterpreterAttachmentTool(RequestModel):
    type: Literal["code_interpreter"]


class FileSearchAttachmentTool(RequestModel):
    type: Literal["file_search"]


AttachmentTool = Annotated[Union[CodeInterpreterAttachmentTool, FileSearchAttachmentTool], Field(discriminator="type")]


class Attachment(RequestModel):
    file_id: str
    tools: list[AttachmentTool] = Field(default_factory=list)


class MessageCreate(RequestModel):
    role: Literal["user", "assistant"]
    content: Content
    attachments: list[Attachment] | None = None
    metadata: Metadata | None = None

    @model_validator(mode="after")
    def _total_text_within_limit(self) -> "MessageCreate":
        if isinstance(self.content, list):
            total = sum(len(part.text) for part in self.content if isinstance(part, TextPart))
            if total > MAX_CONTENT_CHARS:
                raise openai_error(
                    f"Invalid 'content': string too long. Expected a string with maximum length "
                    f"{MAX_CONTENT_CHARS}, but got a string with length {total} instead.",
                    "string_above_max_length")
        return self

    def referenced_file_ids(self, param: str = "") -> list[tuple[str, str]]:
        """(file id, param path) pairs that must name files the caller owns."""
        prefix = f"{param}." if param else ""
        found = [(attachment.file_id, f"{prefix}attachments[{index}].file_id")
                 for index, attachment in enumerate(self.attachments or [])]
        if isinstance(self.content, list):
            found += [(part.image_file.file_id, f"{prefix}content[{index}].image_file.file_id")
                      for index, part in enumerate(self.content) if isinstance(part, ImageFilePart)]
        return found


class MessageUpdate(RequestModel):
    metadata: Metadata | None = None


MessageStatus = Literal["in_progress", "incomplete", "completed"]


class Message(WireModel):
    id: str
    object: Literal["thread.message"] = "thread.message"
    created_at: int
    thread_id: str
    status: MessageStatus
    incomplete_details: dict[str, Any] | None = None
    completed_at: int | None = None
    incomplete_at: int | None = None
    role: Literal["user", "assistant"]
    content: list[dict[str, Any]]
    assistant_id: str | None = None
    run_id: str | None = None
    attachments: list[dict[str, Any]]
    metadata: dict[str, str]


def content_wire(content: str | list[ContentPart]) -> list[dict[str, Any]]:
    """Input content (a string or parts) as OpenAI's output content blocks."""
    if isinstance(content, str):
        return [{"type": "text", "text": {"value": content, "annotations": []}}]
    blocks = []
    for part in content:
        if isinstance(part, TextPart):
            blocks.append({"type": "text", "text": {"value": part.text, "annotations": []}})
        elif isinstance(part, ImageFilePart):
            blocks.append({"type": "image_file", "image_file": part.image_file.model_dump()})
        else:
            blocks.append({"type": "image_url", "image_url": part.image_url.model_dump()})
    return blocks


def new_message(message_id: str, thread_id: str, created_at: int, body: MessageCreate) -> dict[str, Any]:
    """A completed message as a user (or the API caller on the assistant's behalf) posts it."""
    return message_record(message_id, thread_id, created_at, body.role, content_wire(body.content),
                          attachments=[attachment.model_dump() for attachment in body.attachments or []],
                          metadata=body.metadata or {})


def message_record(message_id: str, thread_id: str, at: int, role: Literal["user", "assistant"],
                   content: list[dict[str, Any]], *, status: MessageStatus = "completed",
                   incomplete_reason: str | None = None, run: dict[str, Any] | None = None,
                   attachments: list[dict[str, Any]] | None = None,
                   metadata: dict[str, str] | None = None) -> dict[str, Any]:
    """A message as stored and shown, posted or written by `run`: the one place its shape is built, so a
    posted message, a run's streamed opening and its stored answer cannot drift apart. `at` is when it was
    created and, once done, when it completed or stopped (for `incomplete_reason`)."""
    return Message(
        id=message_id, created_at=at, thread_id=thread_id, status=status,
        incomplete_details={"reason": incomplete_reason} if status == "incomplete" else None,
        completed_at=at if status == "completed" else None, incomplete_at=at if status == "incomplete" else None,
        role=role, content=content,
        assistant_id=run["assistant_id"] if run is not None else None, run_id=run["id"] if run is not None else None,
        attachments=attachments or [], metadata=metadata or {},
    ).model_dump(mode="json")
