"""Deterministic embeddings for offline runs and tests: hashed word and character-trigram features.

Not a language model, but similarity is meaningful: texts sharing words (or
parts of words, through trigrams, so "ingest" is near "ingestion") get close
vectors, which is enough to exercise vector and hybrid retrieval end to end.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct

DIMENSIONS = 512
TRIGRAM_WEIGHT = 0.5
_WORD = re.compile(r"\w+", re.UNICODE)
# Function words carry no topic; a real embedding model learns to discount them, this one is told.
STOPWORDS = frozenset("""a an and are as at be but by can do does for from had has have he her his how in into is it
its of on or so than that the their them then there these they this to was were what when where which while who
why will with would you your""".split())


def _slot(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSIONS, (1.0 if value >> 63 else -1.0)


def embed(text: str) -> list[float]:
    """A unit-length vector of DIMENSIONS floats (all zeros for a text without words)."""
    counts: dict[str, int] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS:
            counts[word] = counts.get(word, 0) + 1
    vector = [0.0] * DIMENSIONS
    for word, count in counts.items():
        weight = 1.0 + math.log(count)  # sublinear: a repeated word does not drown the rest
        index, sign = _slot("w:" + word)
        vector[index] += sign * weight
        padded = f"#{word}#"
        for start in range(len(padded) - 2):
            index, sign = _slot("t:" + padded[start:start + 3])
            vector[index] += sign * weight * TRIGRAM_WEIGHT
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm else vector


def shortened(vector: list[float], dimensions: int) -> list[float]:
    """The first `dimensions` values, made unit length again (as text-embedding-3 models shorten)."""
    head = vector[:dimensions]
    norm = math.sqrt(sum(value * value for value in head))
    return [value / norm for value in head] if norm else head


def response(body: dict, model: str) -> dict | str:
    """The `list` of `embedding` objects for an /embeddings request, or an error message."""
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(item, str) for item in inputs):
        return "'input' must be a non-empty string or array of strings (scripted model)."
    dimensions = body.get("dimensions", DIMENSIONS)
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 1 <= dimensions <= DIMENSIONS:
        return f"Invalid 'dimensions': expected an integer between 1 and {DIMENSIONS}. (scripted model)"
    encoding = body.get("encoding_format") or "float"
    data = []
    for index, text in enumerate(inputs):
        vector = shortened(embed(text), dimensions)
        if encoding == "base64":
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(len(_WORD.findall(text)) for text in inputs)
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
