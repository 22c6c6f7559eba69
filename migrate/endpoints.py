"""SDK clients for the source and the target, built from command-line options and the environment.

Keys are read from environment variables only (named by --source-key-env /
--target-key-env), so they never land in shell history or in a report. Azure
OpenAI without a key authenticates with Entra ID (DefaultAzureCredential).
"""

from __future__ import annotations

import os
from typing import Callable

import openai

COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
DEFAULT_AZURE_API_VERSION = "2024-05-01-preview"  # the first Assistants v2 version; every later one works too
READ_RETRIES = 8  # reads retry in the SDK, which backs off and honours Retry-After
TIMEOUT_SECONDS = 120


class UsageError(Exception):
    """The command line or the environment does not describe a usable endpoint."""


def key_from_env(variable: str, environ=os.environ) -> str | None:
    value = environ.get(variable, "").strip()
    return value or None


def _http_client(on_throttle: Callable[[], None]):
    def hook(response) -> None:
        if response.status_code == 429:
            on_throttle()
    return openai.DefaultHttpxClient(event_hooks={"response": [hook]})


def source_client(args, on_throttle: Callable[[], None], environ=os.environ) -> tuple[openai.OpenAI, str]:
    """The source's client and a label for reports (the endpoint, never a key)."""
    common = {"max_retries": READ_RETRIES, "timeout": TIMEOUT_SECONDS, "http_client": _http_client(on_throttle)}
    if args.azure_endpoint:
        key = key_from_env(args.source_key_env or "AZURE_OPENAI_API_KEY", environ)
        if key:
            auth = {"api_key": key}
        else:
            from azure.identity import DefaultAzureCredential, get_bearer_token_provider
            auth = {"azure_ad_token_provider": get_bearer_token_provider(DefaultAzureCredential(),
                                                                        COGNITIVE_SERVICES_SCOPE)}
        client = openai.AzureOpenAI(azure_endpoint=args.azure_endpoint, api_version=args.api_version, **auth, **common)
        return client, args.azure_endpoint
    if args.source_base_url:
        variable = args.source_key_env or "MIGRATE_SOURCE_KEY"
        key = key_from_env(variable, environ)
        if key is None:
            raise UsageError(f"set the source's API key in ${variable} (or name another variable with --source-key-env)")
        return openai.OpenAI(base_url=args.source_base_url, api_key=key, **common), args.source_base_url
    raise UsageError("name the source: --azure-endpoint URL or --source-base-url URL")


def target_client(args, on_throttle: Callable[[], None], environ=os.environ) -> tuple[openai.OpenAI, str]:
    if not args.target_base_url:
        raise UsageError("name the target: --target-base-url URL (e.g. https://<app>.azurewebsites.net/v1)")
    variable = args.target_key_env
    key = key_from_env(variable, environ)
    if key is None:
        raise UsageError(f"set the target's API key in ${variable} (or name another variable with --target-key-env)")
    client = openai.OpenAI(base_url=args.target_base_url, api_key=key, max_retries=READ_RETRIES,
                           timeout=TIMEOUT_SECONDS, http_client=_http_client(on_throttle))
    return client, args.target_base_url
