"""The settings of the server-side tools (code_interpreter, web search, business tools), declared like
the app's own (settings_catalog.py) and read through core.settings."""

from __future__ import annotations

from core.settings_catalog import Setting

TOOL_SETTINGS: tuple[Setting, ...] = (
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
        "SERVER_TOOLS_ENABLED",
        None,
        "Comma-separated names of the server-side tools this deployment may run (e.g. "
        "'get_stock_price,send_email'); unset: none. An assistant must also opt in through its "
        "metadata key server_tools.",
        azure="optional",
    ),
    Setting(
        "TOOL_EMAIL_ALLOWED_RECIPIENTS",
        None,
        "Comma-separated addresses and domains (ana@contoso.com, contoso.com) send_email and "
        "create_calendar_event may address; '*' allows anyone. Unset: nobody, so nothing is sent.",
        azure="optional",
    ),
    Setting(
        "COUNTRY_INFO_BASE_URL",
        "https://restcountries.com/v3.1",
        "REST Countries v3.1 API that get_country_info queries.",
        azure="optional",
    ),
    Setting(
        "CODE_INTERPRETER_CPU_SECONDS",
        "900",
        "CPU-time limit (RLIMIT_CPU) of each process in a local code_interpreter session, over its "
        "life: a session's Python process that used it up is restarted (variables lost, files kept).",
        azure="optional",
    ),
    Setting(
        "CODE_INTERPRETER_MAX_PROCESSES",
        "64",
        "Processes and threads one local code_interpreter session may run at once (RLIMIT_NPROC in "
        "the session's own user namespace): a fork bomb stops there.",
        azure="optional",
    ),
    Setting(
        "CODE_INTERPRETER_DISK_MB",
        "2048",
        "Disk a local code_interpreter session may fill (its /mnt/data, /tmp and /dev/shm, inputs included). "
        "Under bubblewrap a hard quota: the session's size-limited tmpfs (RAM, swappable), so a write past it "
        "fails at once; unisolated, the code is stopped past it. One file may take half of it (RLIMIT_FSIZE: "
        "the write fails).",
        azure="optional",
    ),
    Setting(
        "CODE_INTERPRETER_MAX_FILES_PER_CALL",
        "20",
        "Most files (figures included) one code_interpreter call returns as file objects; the model is told "
        "the names of the rest, which stay in the session.",
        azure="optional",
    ),
    Setting(
        "CODE_INTERPRETER_ALLOW_UNISOLATED",
        "false",
        "'true' lets the local sandbox run code in a plain subprocess where bubblewrap cannot run "
        "(limits only: the code can read the app's files). Otherwise code_interpreter refuses there.",
        azure="optional",
    ),
    Setting(
        "WEB_SEARCH_BACKEND",
        None,
        "The search engine behind the web search tool (the 'browser' tool): 'searxng' (the SearXNG at "
        "WEB_SEARCH_SEARXNG_URL) or 'brave' (Brave Search API, WEB_SEARCH_BRAVE_API_KEY). Unset: the tool is "
        "accepted and its calls answer the model that web search is not configured.",
    ),
    Setting(
        "WEB_SEARCH_SEARXNG_URL",
        None,
        "Base URL of a SearXNG instance the operator runs (its JSON API /search?format=json enabled); "
        "reached as configured, private addresses included, bounded in time and bytes.",
    ),
    Setting(
        "WEB_SEARCH_BRAVE_API_KEY",
        None,
        "Brave Search API subscription token (WEB_SEARCH_BACKEND 'brave'). In Azure a Key Vault reference "
        "infra sets to the vault's secret 'web-search-brave-api-key', which the operator stores.",
        secret=True,
    ),
    Setting(
        "WEB_SEARCH_MAX_RESULTS",
        "5",
        "Most search results (title, URL, snippet) one web search call shows the model (at most 20).",
        azure="optional",
    ),
    Setting(
        "WEB_SEARCH_READ_PAGES",
        "2",
        "How many of the top results' pages a web search call also reads (their readable text, through the "
        "public-only fetcher of fetch_article); 0 shows snippets only.",
        azure="optional",
    ),
    Setting(
        "WEB_SEARCH_PAGE_CHARS",
        "3000",
        "Most characters of one page's readable text a web search call shows the model.",
        azure="optional",
    ),
    Setting(
        "WEB_SEARCH_TIMEOUT_SECONDS",
        "20",
        "Wall-clock budget of one web search call: the search engine's answer, then the pages read in "
        "parallel; a page not read in time is left out.",
        azure="optional",
    ),
    Setting(
        "WEB_SEARCH_ALLOWED_DOMAINS",
        None,
        "Comma-separated domains (example.com also allows its subdomains) web search results may come from; "
        "others are dropped. Unset: any domain.",
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
)
