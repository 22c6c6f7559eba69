"""Who is calling: the one rule that turns a request's headers into a principal, or refuses it.

A caller is identified by exactly one of, in this order:

1. an API key issued by the service (core.api_keys), sent as `api-key: KEY`
   (AzureOpenAI) or `Authorization: Bearer KEY` (OpenAI): the key's principal;
2. App Service Authentication, only when the platform's auth is on
   (`WEBSITE_AUTH_ENABLED`, set by the platform): the platform validated the
   caller's Entra token or session, stripped whatever the caller sent and set
   `X-MS-CLIENT-PRINCIPAL-ID` itself. Optionally limited to listed principals
   or to callers holding an app role. With platform auth off the header is a
   caller's claim, and is ignored;
3. the one local principal, only when `make run` serves on loopback
   (`AUTH_LOCAL_ANONYMOUS`), never in Azure.

Anything else is refused with 401 in OpenAI's envelope. The decision is a pure
function of the headers, the configuration and a key lookup, so tests cover it
exhaustively; routing (api/routing.py) applies it to every request.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Callable, Mapping

from core import settings
from core.api_keys import looks_like_key
from core.errors import Forbidden, Unauthorized

PRINCIPAL_ID_HEADER = "x-ms-client-principal-id"
PRINCIPAL_HEADER = "x-ms-client-principal"  # base64 JSON with the token's claims (roles among them)
LOCAL_PRINCIPAL = "local"

NO_KEY = ("You didn't provide an API key. You need to provide your API key in an Authorization header using "
          "Bearer auth (i.e. Authorization: Bearer YOUR_KEY) or in an api-key header. Keys are issued by the "
          "service's operator (python -m core.api_keys create).")


@dataclass(frozen=True)
class AuthConfig:
    """Which ways in the settings open (`config_from_settings`): a plain value, so `authenticate` stays pure."""

    platform_auth: bool = False
    local_anonymous: bool = False
    allowed_principals: frozenset[str] = frozenset()
    required_role: str | None = None


@dataclass(frozen=True)
class Caller:
    """Who a request is from and how it proved it: the cross-site rules (core.request_origin) depend on the way."""

    principal: str
    via: str  # "key", "platform" or "local"


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def config_from_settings() -> AuthConfig:
    in_azure = bool(settings.get("WEBSITE_SITE_NAME"))
    allowed = frozenset(p.strip().lower() for p in (settings.get("AUTH_ALLOWED_PRINCIPALS") or "").split(",")
                        if p.strip())
    return AuthConfig(platform_auth=_true(settings.get("WEBSITE_AUTH_ENABLED")),
                      local_anonymous=_true(settings.get("AUTH_LOCAL_ANONYMOUS")) and not in_azure,
                      allowed_principals=allowed, required_role=(settings.get("AUTH_REQUIRED_ROLE") or None))


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The credential the caller sent: `api-key`, else the Bearer token of `Authorization`."""
    key = (headers.get("api-key") or "").strip()
    if key:
        return key
    scheme, _, token = (headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def roles(encoded_principal: str | None) -> frozenset[str]:
    """App roles in the platform's `X-MS-CLIENT-PRINCIPAL` (base64 JSON); empty when absent or unreadable."""
    if not encoded_principal:
        return frozenset()
    try:
        claims_doc = json.loads(base64.b64decode(encoded_principal + "=" * (-len(encoded_principal) % 4)))
        role_type = claims_doc.get("role_typ") or "roles"
        return frozenset(c["val"] for c in claims_doc.get("claims", [])
                         if isinstance(c, dict) and c.get("typ") in (role_type, "roles") and isinstance(c.get("val"), str))
    except (ValueError, binascii.Error, TypeError, AttributeError, KeyError):
        return frozenset()


def _hidden(key: str) -> str:
    return f"{key[:6]}***" if len(key) > 10 else "***"


def authenticate(headers: Mapping[str, str], config: AuthConfig, principal_for_key: Callable[[str], str | None]) -> Caller:
    """The caller of a request with these (lower-case keyed) headers, or Unauthorized / Forbidden."""
    key = presented_key(headers)
    if key and looks_like_key(key):
        principal = principal_for_key(key)
        if principal is None:
            raise Unauthorized(f"Incorrect API key provided: {_hidden(key)}. The key is unknown or was revoked.",
                               code="invalid_api_key")
        return Caller(principal, "key")
    platform_principal = (headers.get(PRINCIPAL_ID_HEADER) or "").strip() if config.platform_auth else ""
    if platform_principal:
        if config.allowed_principals and platform_principal.lower() not in config.allowed_principals:
            raise Forbidden("Your identity is not among the principals allowed to use this service.")
        if config.required_role and config.required_role not in roles(headers.get(PRINCIPAL_HEADER)):
            raise Forbidden(f"Your identity lacks the app role '{config.required_role}' this service requires.")
        return Caller(platform_principal, "platform")
    if config.local_anonymous:
        return Caller(LOCAL_PRINCIPAL, "local")  # any placeholder key the SDK insists on, e.g. "local"
    if key:
        raise Unauthorized(f"Incorrect API key provided: {_hidden(key)}. Use a key issued by this service.",
                           code="invalid_api_key")
    raise Unauthorized(NO_KEY)
