"""ASP.NET-style route templates, as the Functions host matches HTTP triggers.

Supports literal segments (case-insensitive), `{name}`, `{name?}`, `{name:constraint}`
and catch-all `{*name}`. When several routes match, the most specific wins
(literal beats constrained parameter beats parameter beats catch-all), as in ASP.NET.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PARAM = re.compile(r"^\{(?P<star>\*)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<constraint>[^}?=]+))?(?P<optional>\?)?\}$")

_CONSTRAINTS = {
    "int": re.compile(r"^-?\d+$"),
    "long": re.compile(r"^-?\d+$"),
    "alpha": re.compile(r"^[A-Za-z]+$"),
    "bool": re.compile(r"^(?i:true|false)$"),
    "guid": re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$"),
}


@dataclass(frozen=True)
class Segment:
    literal: str | None = None
    name: str | None = None
    constraint: str | None = None
    optional: bool = False
    catch_all: bool = False

    @property
    def rank(self) -> int:
        if self.literal is not None:
            return 0
        if self.catch_all:
            return 3
        return 1 if self.constraint else 2

    def accepts(self, value: str) -> bool:
        if self.literal is not None:
            return value.lower() == self.literal.lower()
        if self.constraint:
            pattern = _CONSTRAINTS.get(self.constraint.split("(")[0].lower())
            return bool(pattern.match(value)) if pattern else True
        return True


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    segments: tuple[Segment, ...] = field(default=())

    @classmethod
    def parse(cls, template: str) -> "RouteTemplate":
        segments = []
        for part in [p for p in template.strip("/").split("/") if p]:
            match = _PARAM.match(part)
            if match:
                segments.append(Segment(
                    name=match["name"], constraint=match["constraint"],
                    optional=bool(match["optional"]), catch_all=bool(match["star"])))
            elif "{" in part or "}" in part:
                raise ValueError(f"unsupported route segment {part!r} in {template!r}")
            else:
                segments.append(Segment(literal=part))
        return cls(template, tuple(segments))

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(segment.rank for segment in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        """Route parameters when `path` (already decoded, no prefix) matches, else None."""
        parts = [p for p in path.strip("/").split("/") if p] if path.strip("/") else []
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.catch_all:
                params[segment.name] = "/".join(parts[index:])
                return params
            if index >= len(parts):
                if segment.optional:
                    continue
                return None
            if not segment.accepts(parts[index]):
                return None
            if segment.name:
                params[segment.name] = parts[index]
        return params if len(parts) <= len(self.segments) else None
