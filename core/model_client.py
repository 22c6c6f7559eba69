"""The chat model client: Azure OpenAI with managed identity, or any OpenAI-compatible server.

Retries are disabled in the client on purpose: the run orchestrator retries model
faults itself, on durable timers, so a restart never loses a wait and a 429's
Retry-After is honoured without holding a worker.
"""

from __future__ import annotations

import threading

import openai

from core import settings

MODEL_TIMEOUT_SECONDS = 120.0
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"

_client: openai.OpenAI | None = None
_lock = threading.Lock()


def chat_client() -> openai.OpenAI:
    """One client per process (it pools connections), built from the settings on first use."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = _build()
    return _client


def _build() -> openai.OpenAI:
    endpoint = settings.get("AZURE_OPENAI_ENDPOINT")
    if endpoint:
        api_version = settings.get("AZURE_OPENAI_API_VERSION")
        key = settings.get("AZURE_OPENAI_API_KEY")
        if key:
            return openai.AzureOpenAI(azure_endpoint=endpoint, api_version=api_version, api_key=key,
                                      max_retries=0, timeout=MODEL_TIMEOUT_SECONDS)
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider

        credential = DefaultAzureCredential(managed_identity_client_id=settings.get("AZURE_CLIENT_ID"))
        return openai.AzureOpenAI(
            azure_endpoint=endpoint, api_version=api_version,
            azure_ad_token_provider=get_bearer_token_provider(credential, COGNITIVE_SERVICES_SCOPE),
            max_retries=0, timeout=MODEL_TIMEOUT_SECONDS)
    base_url = settings.get("OPENAI_BASE_URL")
    if not base_url:
        raise RuntimeError("No model is configured: set AZURE_OPENAI_ENDPOINT or OPENAI_BASE_URL.")
    return openai.OpenAI(base_url=base_url, api_key=settings.get("OPENAI_API_KEY") or "not-needed",
                         max_retries=0, timeout=MODEL_TIMEOUT_SECONDS)


def retry_after_seconds(error: openai.APIStatusError) -> float | None:
    """The wait a 429 asks for, from `retry-after-ms` or `retry-after` (seconds)."""
    headers = error.response.headers if error.response is not None else {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                continue
    return None
