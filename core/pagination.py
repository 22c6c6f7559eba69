"""OpenAI's cursor pagination: what a list request asks for and what a page returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class PageRequest:
    """`after`/`before` are object ids; `order` is by creation time (id order)."""

    limit: int = DEFAULT_LIMIT
    order: Literal["asc", "desc"] = "desc"
    after: str | None = None
    before: str | None = None


@dataclass
class Page:
    """One page of a list as a repository returns it; `wire()` shows it as OpenAI's list object."""

    data: list[dict[str, Any]] = field(default_factory=list)
    has_more: bool = False

    def wire(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": self.data,
            "first_id": self.data[0]["id"] if self.data else None,
            "last_id": self.data[-1]["id"] if self.data else None,
            "has_more": self.has_more,
        }
