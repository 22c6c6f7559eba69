"""The playground: a browser page served by the app itself, outside the /v1 OpenAI surface.

The page (static files in playground/, shipped in the deploy package) talks to the
public API only, exactly as users' code does, so this trigger serves files and
nothing else: no key, no data, no secret is ever written into what it returns.
It is no OpenAI operation, so it is declared on the blueprint directly rather
than with `endpoint` and stays out of the OpenAPI document.

Where it lives: the route is `playground/{*path}` relative to host.json's
routePrefix, i.e. `/playground/` when the prefix is empty (the page finds the
API at `<root>/v1` either way); devhost/launcher.py prints the URL at start-up.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

import azure.durable_functions as df
from azurefunctions.extensions.http.fastapi import Request, Response

ROUTE = "playground/{*path}"
ASSETS = Path(__file__).resolve().parents[1] / "playground"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}

# The page fetches only its own origin; images and downloads are blob: URLs it makes from API responses.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
                                "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidate with the ETag: a new deployment's page is seen at once
}

bp = df.Blueprint()


@dataclass(frozen=True)
class Asset:
    """A file of the page, read once per process, with the ETag that lets a browser revalidate it cheaply."""

    body: bytes
    content_type: str
    etag: str


@dataclass(frozen=True)
class Answer:
    """What the trigger sends for one request, decided by `answer` from plain values (no Functions types)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


def asset_name(path: str) -> str | None:
    """The file under playground/ a request path names, or None when it names none we serve.

    Only plain names of known types are served: no dot segments, no hidden files,
    no backslashes or NULs, so no path can leave the folder.
    """
    path = path.strip("/") or "index.html"
    if "\\" in path or "\x00" in path:
        return None
    parts = path.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    if PurePosixPath(path).suffix.lower() not in CONTENT_TYPES:
        return None
    return "/".join(parts)


@lru_cache(maxsize=64)
def load_asset(name: str) -> Asset | None:
    """An asset's bytes, type and ETag (read once per process: the package does not change under it)."""
    file = ASSETS / name
    if not file.is_file() or ASSETS not in file.resolve().parents:
        return None
    body = file.read_bytes()
    return Asset(body=body, content_type=CONTENT_TYPES[file.suffix.lower()],
                 etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def answer(method: str, url_path: str, path: str, if_none_match: str | None) -> Answer:
    """What to send for a request to the playground (`path` is what the route's catch-all captured)."""
    if method not in ("GET", "HEAD"):
        return _error(405, f"Invalid method for URL ({method} {url_path})", "method_not_allowed",
                      {"Allow": "GET, HEAD"})
    if not path.strip("/") and not url_path.endswith("/"):
        return Answer(301, {"Location": url_path + "/", **SECURITY_HEADERS})  # relative URLs need the slash
    name = asset_name(path)
    asset = load_asset(name) if name else None
    if asset is None:
        return _error(404, f"Invalid URL ({method} {url_path})", "unknown_url")
    headers = {"Content-Type": asset.content_type, "ETag": asset.etag, **SECURITY_HEADERS}
    if if_none_match and asset.etag in (tag.strip() for tag in if_none_match.split(",")):
        return Answer(304, headers)
    return Answer(200, headers, b"" if method == "HEAD" else asset.body)


def _error(status: int, message: str, code: str, extra: dict[str, str] | None = None) -> Answer:
    envelope = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return Answer(status, {"Content-Type": "application/json", **(extra or {})}, json.dumps(envelope).encode())


@bp.route(route=ROUTE, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
async def playground(req: Request) -> Response:
    """The playground's static files."""
    result = answer(req.method, req.url.path, req.path_params.get("path") or "", req.headers.get("if-none-match"))
    return Response(content=result.body, status_code=result.status, headers=result.headers)
