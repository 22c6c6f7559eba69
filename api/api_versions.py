"""The `api-version` values accepted under `/openai/...`, the AzureOpenAI client's URL shape.

Every data-plane version Azure OpenAI published with the Assistants API
(2024-02-15-preview on), and the GA versions the same client uses for chat
completions and embeddings. They all get the same (v2) behaviour: the versions
differ in features Azure added over time, which this service serves from one
implementation. Anything else gets Azure's answer: 400, code `BadRequest`,
"API version not supported" (in OpenAI's envelope, so both SDKs parse it).
"""

from __future__ import annotations

from core.errors import InvalidRequest

ASSISTANTS_VERSIONS = (
    "2024-02-15-preview", "2024-03-01-preview", "2024-04-01-preview", "2024-05-01-preview",
    "2024-07-01-preview", "2024-08-01-preview", "2024-09-01-preview", "2024-10-01-preview",
    "2024-12-01-preview", "2025-01-01-preview", "2025-02-01-preview", "2025-03-01-preview",
    "2025-04-01-preview",
)
MODEL_ONLY_VERSIONS = ("2024-02-01", "2024-06-01", "2024-10-21")
SUPPORTED = frozenset(ASSISTANTS_VERSIONS + MODEL_ONLY_VERSIONS)
PARAM = "api-version"


def check(version: str | None) -> None:
    """Accept a published version; Azure's 400 for a missing, malformed or unknown one."""
    if version not in SUPPORTED:
        raise InvalidRequest("API version not supported", param=PARAM, code="BadRequest")
