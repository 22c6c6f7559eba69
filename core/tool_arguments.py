"""What a model sent as a built-in tool's arguments: models send `{"code": …}`, bare text, or near-misses."""

from __future__ import annotations

import json
from typing import Any


def parsed(arguments: str) -> Any:
    """The arguments as JSON, or None when they are not JSON (a model that sent bare text)."""
    try:
        return json.loads(arguments or "")
    except json.JSONDecodeError:
        return None


def text_argument(arguments: str, key: str) -> str:
    """The string under `key`, or the raw arguments when the model sent no such JSON field."""
    value = parsed(arguments)
    text = value.get(key) if isinstance(value, dict) else None
    if isinstance(text, str):
        return text
    return arguments or ""
