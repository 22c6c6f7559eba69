"""The one list of settings the app reads, with defaults and meaning.

Every environment variable the code reads is declared here and read through
`get()`, so that README's settings table, `local.settings.sample.json` and the
infra check (every setting the app reads is set by `infra/`) all derive from a
single source of truth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    description: str
    # Where the value comes from in Azure: "infra" (set by Bicep), "platform"
    # (set by the Functions platform itself) or "optional" (unset means default).
    azure: str = "infra"
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    # Flex Consumption sets the language from the site's functionAppConfig.runtime and
    # rejects this as an app setting; it only belongs in local.settings.json.
    Setting("FUNCTIONS_WORKER_RUNTIME", "python", "Functions language worker.", azure="platform"),
    Setting(
        "AzureWebJobsStorage",
        "UseDevelopmentStorage=true",
        "Storage for the Functions host, Durable Functions and the app's tables and blobs. "
        "A connection string locally (Azurite); in Azure the identity-based form "
        "AzureWebJobsStorage__accountName (+ __credential, __clientId) is used instead.",
        azure="optional",
        secret=True,
    ),
    Setting(
        "AzureWebJobsStorage__accountName",
        None,
        "Storage account name for identity-based connections (Azure).",
    ),
    Setting(
        "AzureWebJobsStorage__clientId",
        None,
        "Client id of the user-assigned managed identity used for storage (Azure).",
    ),
    Setting(
        "AzureWebJobsStorage__credential",
        None,
        "'managedidentity' for identity-based storage connections (Azure).",
    ),
    Setting("DURABLE_TASK_HUB", "assistantshub", "Durable Functions task hub name (host.json)."),
    Setting(
        "AZURE_OPENAI_ENDPOINT",
        None,
        "Azure OpenAI endpoint; when set the model client uses Azure OpenAI with managed identity.",
    ),
    Setting(
        "AZURE_OPENAI_API_VERSION", "2024-10-21", "Azure OpenAI data-plane API version."
    ),
    Setting(
        "AZURE_OPENAI_API_KEY",
        None,
        "Azure OpenAI key; only when managed identity cannot be used.",
        azure="optional",
        secret=True,
    ),
    Setting(
        "AZURE_CLIENT_ID",
        None,
        "Client id of the user-assigned managed identity (DefaultAzureCredential).",
    ),
    Setting(
        "OPENAI_BASE_URL",
        None,
        "Any OpenAI-compatible Chat Completions server (OpenAI, Ollama, vLLM, the scripted "
        "model) when AZURE_OPENAI_ENDPOINT is unset.",
        azure="optional",
    ),
    Setting(
        "OPENAI_API_KEY",
        None,
        "Key for OPENAI_BASE_URL.",
        azure="optional",
        secret=True,
    ),
    Setting(
        "OPENAI_EMBEDDINGS_MODEL",
        None,
        "Embeddings model on OPENAI_BASE_URL for file_search (e.g. text-embedding-3-small). Unset (and no "
        "Azure embeddings deployment): file_search ranks by keywords only.",
        azure="optional",
    ),
    Setting(
        "FILE_SEARCH_BACKEND",
        "local",
        "Where file_search ranks chunks: 'local' (this app's own index over the chunks in its storage "
        "account) or 'azure_ai_search' (an Azure AI Search index at AZURE_SEARCH_ENDPOINT).",
        azure="optional",
    ),
    Setting(
        "AZURE_SEARCH_ENDPOINT",
        None,
        "Azure AI Search service endpoint (FILE_SEARCH_BACKEND 'azure_ai_search'); reached with the managed "
        "identity unless AZURE_SEARCH_API_KEY is set.",
        azure="optional",
    ),
    Setting(
        "AZURE_SEARCH_INDEX",
        "file-search-chunks",
        "Name of the Azure AI Search index holding every vector store's chunks (created on first use).",
        azure="optional",
    ),
    Setting(
        "AZURE_SEARCH_API_KEY",
        None,
        "Azure AI Search admin key; only when managed identity cannot be used.",
        azure="optional",
        secret=True,
    ),
    Setting(
        "RUN_EXPIRY_SECONDS",
        "600",
        "Seconds after creation when a run expires (its expires_at) if it is still waiting for tool outputs.",
        azure="optional",
    ),
    Setting(
        "PYTHON_ENABLE_INIT_INDEXING",
        "1",
        "Read by the Python worker, not by our code: required for HTTP streams "
        "(azurefunctions-extensions-http-fastapi), which let file bytes flow in chunks.",
    ),
    Setting(
        "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT",
        str(512 * 1024 * 1024 + 1024 * 1024),
        "Read by the Functions host (and devhost), not by our code: the largest request body in bytes "
        "(the host's default is 100 MB); must exceed MAX_UPLOAD_BYTES plus the form's framing.",
    ),
    Setting(
        "MAX_UPLOAD_BYTES",
        str(512 * 1024 * 1024),
        "Largest file accepted by POST /v1/files (bytes); larger uploads get 413.",
        azure="optional",
    ),
    # Set by infra/ (infra/app/function.bicep); tests/test_infra.py keeps both lists in step.
    Setting(
        "AZURE_OPENAI_CHAT_DEPLOYMENT",
        None,
        "Name of the Azure OpenAI chat deployment infra creates (an assistant's `model` names a "
        "deployment; this is the one that exists).",
    ),
    Setting(
        "AZURE_OPENAI_EMBEDDINGS_DEPLOYMENT",
        None,
        "Name of the Azure OpenAI embeddings deployment (file_search).",
    ),
    Setting(
        "CODE_INTERPRETER_SANDBOX",
        "local",
        "Where code_interpreter runs Python: 'local' (an isolated process on this machine) or "
        "'aca' (Azure Container Apps dynamic sessions at ACA_SESSION_POOL_ENDPOINT).",
    ),
    Setting(
        "ACA_SESSION_POOL_ENDPOINT",
        None,
        "Pool management endpoint of the Container Apps dynamic sessions pool (sandbox 'aca'); "
        "called with an Entra token for https://dynamicsessions.io.",
    ),
    Setting(
        "CODE_INTERPRETER_TIMEOUT_SECONDS",
        "60",
        "Wall-clock limit of one code_interpreter call; code still running is stopped (the local "
        "sandbox restarts the session's Python process: variables are lost, files kept).",
        azure="optional",
    ),
    Setting(
        "CODE_INTERPRETER_MEMORY_MB",
        "1024",
        "Address-space limit (RLIMIT_AS) of a local code_interpreter session's Python process.",
        azure="optional",
    ),
    Setting(
        "CODE_INTERPRETER_IDLE_SECONDS",
        "3600",
        "A local code_interpreter session (its Python state and /mnt/data files) is discarded after "
        "this many idle seconds. For 'aca' the session pool's cooldown period decides.",
        azure="optional",
    ),
    Setting(
        "SEND_EMAIL_LOGIC_APP_URL",
        None,
        "HTTP trigger URL of the send-email Logic App (a Key Vault reference in Azure). "
        "Unset: the send-email tool is not configured.",
        secret=True,
    ),
    Setting(
        "CREATE_CALENDAR_EVENT_LOGIC_APP_URL",
        None,
        "HTTP trigger URL of the create-calendar-event Logic App (a Key Vault reference in "
        "Azure). Unset: the calendar tool is not configured.",
        secret=True,
    ),
    Setting(
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        None,
        "Application Insights resource the host and worker send telemetry to. Not a credential: "
        "the resource accepts only Entra-authenticated telemetry.",
    ),
    Setting(
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        None,
        "'ClientId=<identity client id>;Authorization=AAD': send telemetry with the managed identity.",
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def get(name: str) -> str | None:
    """Read a declared setting from the environment, falling back to its default."""
    setting = _BY_NAME[name]  # KeyError for an undeclared setting is deliberate
    value = os.environ.get(name)
    return value if value not in (None, "") else setting.default


def get_int(name: str) -> int:
    value = get(name)
    if value is None:
        raise KeyError(f"setting {name} has no value and no default")
    return int(value)
