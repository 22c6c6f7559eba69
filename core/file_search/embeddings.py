"""Embeddings from the configured provider, or none: then file_search is keyword-only and says so.

Azure OpenAI: AZURE_OPENAI_ENDPOINT + AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT (the
client authenticates as core.model_client does: managed identity, or a key).
Any OpenAI-compatible server: OPENAI_BASE_URL + OPENAI_EMBEDDINGS_MODEL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core import model_client, settings

if TYPE_CHECKING:  # numpy is imported where it is used: it costs start-up time
    import numpy as np

BATCH = 64


def model() -> str | None:
    """The embeddings model/deployment to call, or None when none is configured."""
    if settings.get("AZURE_OPENAI_ENDPOINT"):
        return settings.get("AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT")
    if settings.get("OPENAI_BASE_URL"):
        return settings.get("OPENAI_EMBEDDINGS_MODEL")
    return None


def embed(texts: list[str]) -> np.ndarray | None:
    """Unit-length float32 vectors, one row per text; None when no embeddings model is configured."""
    import numpy as np

    name = model()
    if name is None:
        return None
    rows: list[list[float]] = []
    client = model_client.chat_client()
    for start in range(0, len(texts), BATCH):
        response = client.embeddings.create(model=name, input=texts[start:start + BATCH])
        rows.extend(item.embedding for item in sorted(response.data, key=lambda item: item.index))
    return normalized(np.asarray(rows, dtype=np.float32).reshape(len(texts), -1))


def normalized(matrix: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)
