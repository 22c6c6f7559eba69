"""The `file` object and the purposes an upload may declare."""


from typing import Literal

from core.wire.common import WireModel

FilePurpose = Literal["assistants", "assistants_output", "vision", "user_data", "batch", "batch_output",
                      "fine-tune", "fine-tune-results", "evals"]

# What OpenAI accepts on upload, plus `assistants_output` (which code interpreter
# produces and which this server also accepts from callers).
UPLOAD_PURPOSES: tuple[FilePurpose, ...] = ("assistants", "assistants_output", "vision", "user_data", "batch",
                                            "fine-tune", "evals")


class FileObject(WireModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    expires_at: int | None = None
    filename: str
    purpose: FilePurpose
    status: Literal["uploaded", "processed", "error"] = "processed"
    status_details: str | None = None


class FileUpload(WireModel):
    """The multipart/form-data fields of POST /files (documentation only)."""

    file: bytes
    purpose: FilePurpose
    expires_after_anchor: Literal["created_at"] | None = None
    expires_after_seconds: int | None = None
