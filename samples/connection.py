"""Which service the samples talk to: the seed's `.env` names, defaulting to `make run` on this machine.

The seed's notebooks read `OPENAI_URI`, `OPENAI_KEY`, `OPENAI_VERSION` and
`OPENAI_GPT_DEPLOYMENT` (and `EMAIL_URI` for their e-mail Logic App) from a `.env`
file and built an `AzureOpenAI` client; the samples do the same, so the `.env` a
seed user already has points them at this service by changing only `OPENAI_URI`.
With nothing set they reach `make run` on loopback, which needs no key — but the
SDK insists on some api_key string, so a placeholder is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import openai

LOCAL_ENDPOINT = "http://127.0.0.1:7071"
LOCAL_KEY = "local"  # make run on loopback accepts any key as the local principal
DEFAULT_VERSION = "2024-05-01-preview"  # the first Azure api-version with Assistants v2
DEFAULT_DEPLOYMENT = "gpt-4.1-mini"  # infra/main.bicep's default chat deployment (chatModelName)


@dataclass(frozen=True)
class Connection:
    endpoint: str
    api_key: str
    api_version: str
    deployment: str

    def describe(self) -> str:
        """Where the samples go, for the first line they print (never the key)."""
        return f"{self.endpoint} (api-version {self.api_version}, deployment {self.deployment})"


def connection_from(env: Mapping[str, str]) -> Connection:
    """The seed's names, blanks counting as unset, with `make run`'s defaults."""

    def value(name: str, default: str) -> str:
        return (env.get(name) or "").strip() or default

    return Connection(endpoint=value("OPENAI_URI", LOCAL_ENDPOINT).rstrip("/"),
                      api_key=value("OPENAI_KEY", LOCAL_KEY),
                      api_version=value("OPENAI_VERSION", DEFAULT_VERSION),
                      deployment=value("OPENAI_GPT_DEPLOYMENT", DEFAULT_DEPLOYMENT))


def azure_client(connection: Connection) -> openai.AzureOpenAI:
    """The client the seed's users hold: AzureOpenAI with azure_endpoint at the service's root."""
    return openai.AzureOpenAI(azure_endpoint=connection.endpoint, api_key=connection.api_key,
                              api_version=connection.api_version, timeout=120)
