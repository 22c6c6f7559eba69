"""Reading a request: JSON body, list parameters, path ids; writing JSON responses."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Callable, Literal, Sequence, TypeVar

import azure.functions as func
import pydantic_core
from pydantic import BaseModel, ValidationError

from api.errors import from_validation
from core import ids
from core.errors import InvalidRequest, TooLarge
from core.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest

# Large enough for a thread created with dozens of maximal (256,000-character) messages.
MAX_JSON_BYTES = 32 * 1024 * 1024

INVALID_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
    "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. "
    "If you have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)"
)

Model = TypeVar("Model", bound=BaseModel)
_INTEGER = re.compile(r"^[+-]?\d{1,12}$")
_ORDERS: tuple[Literal["asc", "desc"], ...] = ("asc", "desc")


def body(req: func.HttpRequest, model: type[Model]) -> Model:
    """The JSON body validated against `model`; OpenAI-shaped 400/413 otherwise."""
    raw = req.get_body() or b""
    if len(raw) > MAX_JSON_BYTES:
        raise TooLarge(f"Request body too large: {len(raw)} bytes exceeds the limit of {MAX_JSON_BYTES} bytes.")
    if not raw.strip():
        raw = b"{}"
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise InvalidRequest(INVALID_JSON) from None
        raise from_validation(first, json_object(raw)) from None


def json_object(raw: bytes) -> dict:
    """A request body parsed as a JSON object, or OpenAI's 400.

    pydantic's parser, not `json.loads`: it stops at a nesting depth of 200 with an error of its own,
    where `json.loads` would exhaust the interpreter's recursion limit (a RecursionError, a 500).
    """
    try:
        data = pydantic_core.from_json(raw or b"{}")
    except ValueError:
        raise InvalidRequest(INVALID_JSON) from None
    if not isinstance(data, dict):
        raise InvalidRequest(f"Invalid request body: expected a JSON object, but got "
                             f"{type(data).__name__} instead.")
    return data


def page_request(req: func.HttpRequest, cursor_kind: str, *, default_limit: int = DEFAULT_LIMIT,
                 max_limit: int = MAX_LIMIT, is_cursor: Callable[[str], bool] | None = None) -> PageRequest:
    """limit / order / after / before from the query string, validated as OpenAI does (a cursor is an id
    of `cursor_kind`, or what `is_cursor` accepts)."""
    params = req.params
    limit = default_limit
    if params.get("limit") not in (None, ""):
        raw = params["limit"]
        if not _INTEGER.match(raw):
            raise InvalidRequest(f"Invalid type for 'limit': expected an integer, but got a string ('{raw}') instead.",
                                 param="limit", code="invalid_type")
        limit = int(raw)
        if limit < 1:
            raise InvalidRequest(f"Invalid 'limit': integer below minimum value. Expected a value >= 1, "
                                 f"but got {limit} instead.", param="limit", code="integer_below_min_value")
        if limit > max_limit:
            raise InvalidRequest(f"Invalid 'limit': integer above maximum value. Expected a value <= {max_limit}, "
                                 f"but got {limit} instead.", param="limit", code="integer_above_max_value")
    order: str = params.get("order") or "desc"
    if order not in _ORDERS:
        raise InvalidRequest(f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
                             param="order", code="invalid_value")
    cursors = {}
    for name in ("after", "before"):
        value = params.get(name) or None
        if value is not None and not (is_cursor(value) if is_cursor else ids.is_id(cursor_kind, value)):
            raise InvalidRequest(f"Invalid '{name}': '{value}' is not a valid {cursor_kind} id.",
                                 param=name, code="invalid_value")
        cursors[name] = value
    return PageRequest(limit=limit, order=order, **cursors)


def include(query: str, allowed: Sequence[str]) -> frozenset[str] | None:
    """A read's `include` (the SDK sends `include[]=…`), each value one of `allowed`; None when it asks
    for nothing."""
    values = [value for key, value in urllib.parse.parse_qsl(query) if key in ("include[]", "include")]
    for value in values:
        if value not in allowed:
            raise InvalidRequest(f"Invalid value: '{value[:80]}'. Supported values are: "
                                 + ", ".join(f"'{name}'" for name in allowed) + ".",
                                 param="include", code="invalid_value")
    return frozenset(values) if values else None


def json_response(payload: dict, status: int = 200) -> func.HttpResponse:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return func.HttpResponse(data, status_code=status, mimetype="application/json", charset="utf-8")
