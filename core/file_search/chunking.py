"""Cutting text into overlapping chunks measured in tokens, per a vector store's chunking_strategy.

OpenAI's `auto` strategy is 800-token chunks overlapping by 400; `static` names
both numbers (100 ≤ size ≤ 4096, overlap ≤ size / 2). Tokens are counted with
the embeddings model's tiktoken encoding when it is available, else with the
conservative estimate of core.tokens, which makes chunks smaller, never larger.
Chunks are cut at word boundaries, so no word is split between two chunks.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from core import tokens

_AUTO_STATIC = {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}
AUTO = {"type": "static", "static": _AUTO_STATIC}
EMBEDDINGS_TOKENIZER_MODEL = "text-embedding-3-small"
# A word with the whitespace that follows it: the unit chunks are made of.
_PIECE = re.compile(r"\S+\s*|\s+")


def resolved(strategy: dict[str, Any] | None) -> dict[str, Any]:
    """The strategy as a file reports it: `auto` (or none) becomes the static 800/400 it stands for."""
    if not strategy or strategy.get("type") == "auto":
        return {"type": "static", "static": dict(_AUTO_STATIC)}
    return {"type": "static", "static": dict(strategy["static"])}


def chunk(text: str, strategy: dict[str, Any] | None, count: Callable[[str], int] | None = None) -> list[str]:
    """The chunks of `text` (whitespace-only chunks dropped); `count` counts a piece's tokens."""
    static = resolved(strategy)["static"]
    size, overlap = static["max_chunk_size_tokens"], static["chunk_overlap_tokens"]
    count = count or tokenizer()
    pieces = _PIECE.findall(text)
    costs = [max(1, count(piece)) for piece in pieces]
    chunks: list[str] = []
    start = 0
    while start < len(pieces):
        end, used = start, 0
        while end < len(pieces) and (used + costs[end] <= size or end == start):
            used += costs[end]
            end += 1
        body = "".join(pieces[start:end]).strip()
        if body:
            chunks.append(body)
        if end >= len(pieces):
            break
        # Step back over at most `overlap` tokens, always moving forward by at least one piece.
        next_start, carried = end, 0
        while next_start - 1 > start and carried + costs[next_start - 1] <= overlap:
            next_start -= 1
            carried += costs[next_start]
        start = next_start
    return chunks


def tokenizer() -> Callable[[str], int]:
    return tokens.counter_for(EMBEDDINGS_TOKENIZER_MODEL)
