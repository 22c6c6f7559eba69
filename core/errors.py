"""Errors in OpenAI's vocabulary, raised anywhere and rendered once by the HTTP layer.

They live in the core (not in `api/`) because repositories and the run engine
decide what went wrong; the HTTP layer only turns an `ApiError` into OpenAI's
envelope `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 400
    type = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        if status is not None:
            self.status = status

    def envelope(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class InvalidRequest(ApiError):
    """400: the request itself is wrong (shape, type, value, state)."""


class TooLargeForOneWrite(InvalidRequest):
    """400: what must be stored together (a run and the messages it adds to its thread) does not fit one
    storage transaction; storing it in parts could leave a part behind."""


class ThreadBusy(InvalidRequest):
    """400: the thread already has an active run (one at a time, as at OpenAI). The message is the
    Assistants API's; a use case on the Responses/Conversations wire says it in that API's words
    (conversation_busy), naming the id its caller used."""

    def __init__(self, message: str, thread_id: str, active_run_id: str):
        super().__init__(message)
        self.thread_id = thread_id
        self.active_run_id = active_run_id


def conversation_busy(conversation_id: str, adding_items: bool = False) -> InvalidRequest:
    """A ThreadBusy as the Responses and Conversations API says it (its `conversation_locked` code)."""
    then = "add items to it" if adding_items else "create another response on it"
    return InvalidRequest(f"Another response is already in progress for conversation {conversation_id}; "
                          f"{then} once that one has finished.", param="conversation" if not adding_items else None,
                          code="conversation_locked")


class NotFound(ApiError):
    """404: unknown id, or an id owned by another principal (never distinguished)."""

    status = 404

    def __init__(self, kind: str, object_id: str, *, param: str | None = None):
        super().__init__(f"No {kind} found with id '{object_id}'.", param=param)


class TooLarge(ApiError):
    """413: the body (or the uploaded file) exceeds what we accept."""

    status = 413

    def __init__(self, message: str, *, param: str | None = None):
        super().__init__(message, param=param, code="request_too_large")


class Conflict(ApiError):
    """409: a concurrent change won; the caller may retry."""

    status = 409

    def __init__(self, message: str):
        super().__init__(message, code="conflict")


class ServerError(ApiError):
    status = 500
    type = "server_error"


class Unauthorized(ApiError):
    """401: no credential, or one this service did not issue (or revoked)."""

    status = 401


class Forbidden(ApiError):
    """403: an authenticated caller the operator has not allowed in."""

    status = 403

    def __init__(self, message: str, code: str = "principal_not_allowed"):
        super().__init__(message, code=code)
