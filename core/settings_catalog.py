"""The settings of the app itself (host, storage, model, callers, runs, file_search), with defaults and
meaning; the tools' settings are in settings_tools.py, and core.settings reads both.

README's settings table and `local.settings.sample.json` repeat each entry word for word, and
`tests/test_readme.py` holds them to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One app setting, declared here once: README's settings table and local.settings.sample.json repeat it."""

    name: str
    default: str | None
    description: str
    # Where the value comes from in Azure: "infra" (set by Bicep), "platform"
    # (set by the Functions platform itself) or "optional" (unset means default).
    azure: str = "infra"
    secret: bool = False


APP_SETTINGS: tuple[Setting, ...] = (
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
    # Read by the Functions host, not by our code: they override host.json's storageProvider so
    # one deploy package runs on either Durable backend (infra parameter durableBackend).
    Setting(
        "AzureFunctionsJobHost__extensions__durableTask__storageProvider__type",
        "AzureStorage",
        "Read by the Functions host: the Durable Functions backend, 'AzureStorage' (queues and tables "
        "in AzureWebJobsStorage) or 'azureManaged' (Durable Task Scheduler).",
    ),
    Setting(
        "AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName",
        "AzureWebJobsStorage",
        "Read by the Functions host: the setting that names the backend's connection "
        "('AzureWebJobsStorage', or 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING' for the scheduler).",
    ),
    Setting(
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
        None,
        "Read by the Functions host with the Durable Task Scheduler backend: "
        "'Endpoint=<scheduler endpoint>;Authentication=ManagedIdentity;ClientID=<identity client id>' "
        "(no key). Empty with the AzureStorage backend.",
    ),
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
    # Who may call (core/identity.py).
    Setting(
        "WEBSITE_AUTH_ENABLED",
        None,
        "Set by the platform, not by us: 'True' when App Service Authentication is on. Only then is "
        "X-MS-CLIENT-PRINCIPAL-ID trusted (the platform sets it and strips a caller's own).",
        azure="platform",
    ),
    Setting(
        "WEBSITE_SITE_NAME",
        None,
        "Set by the platform, not by us: the app's name. When present the app is in Azure and "
        "AUTH_LOCAL_ANONYMOUS is ignored.",
        azure="platform",
    ),
    Setting(
        "AUTH_LOCAL_ANONYMOUS",
        "false",
        "'true' lets requests without a key act as the one local principal. `make run` sets it when it "
        "serves on loopback only; ignored in Azure. Keys issued by the service still act as their principal.",
        azure="optional",
    ),
    Setting(
        "AUTH_ALLOWED_PRINCIPALS",
        None,
        "Comma-separated Entra object ids allowed in through App Service Authentication; empty: any "
        "principal the platform authenticated (limit it there, or with AUTH_REQUIRED_ROLE).",
        azure="optional",
    ),
    Setting(
        "AUTH_REQUIRED_ROLE",
        None,
        "An app role (e.g. 'Assistants.User') a caller authenticated by the platform must hold; "
        "empty: no role required.",
        azure="optional",
    ),
    Setting(
        "OPENAI_EMBEDDINGS_MODEL",
        None,
        "Embeddings model on OPENAI_BASE_URL for file_search (e.g. text-embedding-3-small). Unset (and no "
        "Azure embeddings deployment): file_search ranks by keywords only.",
        azure="optional",
    ),
    Setting(
        "TIKTOKEN_CACHE_DIR",
        None,
        "Folder tiktoken reads its encoding files from. Unset: the app's own copies in core/tokenizer_files/ "
        "(o200k_base, cl100k_base), so counting tokens never downloads.",
        azure="optional",
    ),
    Setting(
        "INGESTION_MAX_PARTS",
        "1000",
        "Most parts an Office document (.docx, .pptx: a zip) may hold for file_search to read it.",
        azure="optional",
    ),
    Setting(
        "INGESTION_MAX_EXPANDED_MB",
        "200",
        "Most megabytes an Office document may expand to, all parts unpacked, for file_search to read it.",
        azure="optional",
    ),
    Setting(
        "INGESTION_MAX_XML_MB",
        "8",
        "Most megabytes of unpacked XML an Office document may hold for file_search to parse it (parsing "
        "costs memory many times that).",
        azure="optional",
    ),
    Setting(
        "INGESTION_MAX_XML_ELEMENTS",
        "1000000",
        "Most XML elements an Office document may hold for file_search to parse it (counted by a streaming "
        "pass first: each becomes an object in memory).",
        azure="optional",
    ),
    Setting(
        "INGESTION_MAX_PDF_PAGES",
        "2000",
        "Most pages a PDF may have for file_search to read it.",
        azure="optional",
    ),
    Setting(
        "INGESTION_MAX_TEXT_MB",
        "20",
        "Most megabytes of text file_search reads out of one file (about OpenAI's 5,000,000 tokens per file); "
        "a file with more is refused as invalid_file.",
        azure="optional",
    ),
    Setting(
        "FILE_SEARCH_BACKEND",
        "local",
        "Where file_search ranks chunks: 'local' (this app's own index over the chunks in its storage "
        "account) or 'azure_ai_search' (an Azure AI Search index at AZURE_SEARCH_ENDPOINT).",
    ),
    Setting(
        "AZURE_SEARCH_ENDPOINT",
        None,
        "Azure AI Search service endpoint (FILE_SEARCH_BACKEND 'azure_ai_search'); reached with the managed "
        "identity unless AZURE_SEARCH_API_KEY is set.",
    ),
    Setting(
        "AZURE_SEARCH_INDEX",
        "file-search-chunks",
        "Name of the Azure AI Search index holding every vector store's chunks (created by the postprovision "
        "step, never by the app).",
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
        "MODEL_CONTEXT_TOKENS",
        "120000",
        "Tokens of the model's context window the run engine assumes: without max_prompt_tokens a run's "
        "history is read back until about this many, and a response with truncation 'disabled' (the default) "
        "whose input and history need more fails with context_length_exceeded instead of being trimmed.",
        azure="optional",
    ),
    Setting(
        "RUN_EXPIRY_SECONDS",
        "600",
        "Seconds after creation when a run expires (its expires_at) if it is still waiting for tool outputs.",
        azure="optional",
    ),
    Setting(
        "RUN_SWEEP_SCHEDULE",
        "0 */2 * * * *",
        "When the run sweeper looks for runs no orchestration will move (six-field NCRONTAB, seconds first) "
        "and ends them: cancelled, expired, or failed saying why.",
        azure="optional",
    ),
    Setting(
        "RUN_SWEEP_GRACE_SECONDS",
        "60",
        "How long the sweeper leaves a new run, or one just past its expires_at, to its orchestration.",
        azure="optional",
    ),
    Setting(
        "RUN_RETRY_WINDOW_SECONDS",
        "600",
        "How long a retried run create or create_and_run (marked by the SDK's retry count or an Idempotency-Key) "
        "gets the run its first attempt made; past it, the run sweeper deletes what create_and_run recorded for "
        "its retries.",
        azure="optional",
    ),
    Setting(
        "RUN_EVENTS_POLL_MS",
        "50",
        "How often a streaming response looks for a run's new events in storage (milliseconds), when no "
        "wake-up from a writer in the same process came first.",
        azure="optional",
    ),
    Setting(
        "RUN_EVENTS_FAST_PATH",
        "1",
        "'1': a run's events written in this process wake its streaming responses at once; '0': they are "
        "found by polling only (as across instances).",
        azure="optional",
    ),
    Setting(
        "RUN_EVENTS_KEEPALIVE_SECONDS",
        "15",
        "An idle streaming response sends a keep-alive comment this often (seconds).",
        azure="optional",
    ),
    Setting(
        "RESPONSE_HOLD_SECONDS",
        "200",
        "How long a non-background POST /v1/responses holds its request waiting for the answer (seconds), kept under the 230 s after which Azure's front end cuts an HTTP request. Past it the response is returned as it is then (queued or in_progress) and goes on running: poll GET /v1/responses/{id} (client.responses.retrieve) until it is completed.",
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
