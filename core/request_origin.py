"""Whether a request may act with credentials the browser attaches by itself (cross-site request forgery).

An issued API key is sent only by code that holds it, so a keyed call is whoever holds the key. Two
kinds of caller are *ambient* instead: `make run`'s loopback principal (anyone who can reach
127.0.0.1, which includes every web page the developer has open) and App Service Authentication's
session cookie. For those, three rules close what a foreign page could otherwise do:

- the loopback principal answers only requests whose `Host` names loopback (a page on
  `rebind.evil.example` that re-resolves to 127.0.0.1 still sends its own name: DNS rebinding);
- a request that comes from a browser (it carries `Origin`) must come from the app's own origin,
  the playground's; calls from code carry no `Origin` and are unaffected;
- a body the endpoint reads as JSON must say so (`Content-Type: application/json`). A page may send
  `text/plain`, form or multipart bodies cross-site without asking first; a JSON body it cannot.
  OpenAI's SDKs always send the header.

Pure decisions; api/routing.py applies them after authentication.
"""

from __future__ import annotations

import ipaddress
from typing import Mapping
from urllib.parse import urlsplit

from core.errors import Forbidden, InvalidRequest

AMBIENT_CALLERS = frozenset({"local", "platform"})
LOOPBACK_NAMES = frozenset({"localhost"})


def host_name(host_header: str) -> str:
    """The name or address in a `Host` header, without port or IPv6 brackets, lower-cased."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback_host(host_header: str | None) -> bool:
    """True for `localhost`, 127.0.0.0/8 and ::1, with or without a port."""
    if not host_header:
        return False
    name = host_name(host_header)
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_same_origin(origin: str | None, host_header: str | None) -> bool:
    """True when there is no `Origin` (not a browser) or it is the origin the request was sent to."""
    if origin is None:
        return True
    try:
        parts = urlsplit(origin.strip())
        netloc = parts.netloc.lower()
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not netloc or not host_header:
        return False  # includes the opaque origin "null" (sandboxed frames, file: pages, some redirects)
    default = ":443" if parts.scheme == "https" else ":80"
    return netloc.removesuffix(default) == host_header.strip().lower().removesuffix(default)


def is_json_content_type(content_type: str | None) -> bool:
    """`application/json` or a `+json` type, with any parameters (`; charset=utf-8`)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def has_body(headers: Mapping[str, str]) -> bool:
    length = (headers.get("content-length") or "").strip()
    return bool(headers.get("transfer-encoding")) or (length not in ("", "0"))


def check(via: str, headers: Mapping[str, str], *, reads_json: bool) -> None:
    """Refuse what a foreign web page could make an ambient caller's browser send (see the module)."""
    if via not in AMBIENT_CALLERS:
        return
    host = headers.get("host")
    if via == "local" and not is_loopback_host(host):
        raise Forbidden(f"This server answers unauthenticated calls only at a loopback address; "
                        f"the request was sent to {host!r}. Use http://127.0.0.1 or an API key.",
                        code="host_not_allowed")
    if not is_same_origin(headers.get("origin"), host):
        raise Forbidden(f"Requests from the web page at {headers.get('origin')!r} are not accepted: only the "
                        f"app's own pages may call it with the browser's credentials. Use an API key.",
                        code="origin_not_allowed")
    if reads_json and has_body(headers) and not is_json_content_type(headers.get("content-type")):
        raise InvalidRequest(f"Invalid Content-Type header ({headers.get('content-type') or 'none'}): "
                             f"this endpoint reads a JSON body; send Content-Type: application/json.")
