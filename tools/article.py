"""fetch_article: the readable text of a web page, for the model to summarize.

The page comes through `safe_http` (public addresses only, every redirect checked, size
and time bounded); HTML is reduced to its title and body text with BeautifulSoup on lxml,
dropping scripts, styles and page furniture (navigation, headers, footers, forms). Only
HTML and plain text are read; anything else (PDF, images, JSON...) is a clear error.
"""

from __future__ import annotations

import codecs
import re
from email.message import EmailMessage
from typing import Any

from bs4 import BeautifulSoup

from tools import safe_http
from tools.registry import ServerTool, ToolError, register

MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 12_000
TIMEOUT_SECONDS = 15.0
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
READABLE_TYPES = HTML_TYPES | {"text/plain"}
_FURNITURE = ("script", "style", "noscript", "template", "svg", "canvas", "iframe", "nav", "header",
              "footer", "aside", "form", "button")
_BLANK_RUNS = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def media_type(content_type: str) -> tuple[str, str | None]:
    """('text/html', 'utf-8') from a Content-Type header; ('', None) when absent."""
    if not content_type.strip():
        return "", None
    header = EmailMessage()
    header["Content-Type"] = content_type
    charset = header.get_param("charset")
    try:
        codecs.lookup(charset) if isinstance(charset, str) else None
    except LookupError:  # a charset Python does not know: let the decoder guess
        charset = None
    return header.get_content_type(), charset if isinstance(charset, str) else None


def readable_text(body: bytes, content_type: str) -> tuple[str, str]:
    """(title, text) of an HTML or plain-text body."""
    kind, charset = media_type(content_type)
    if kind == "text/plain":
        return "", _tidy(body.decode(charset or "utf-8", errors="replace"))
    soup = BeautifulSoup(body, "lxml", from_encoding=charset)
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(_FURNITURE):
        tag.decompose()
    main = soup.find("article") or soup.find("main") or soup.body or soup
    return title, _tidy(main.get_text("\n"))


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def fetch(url: str, *, resolver: safe_http.Resolver = safe_http.system_resolver,
          unsafe_allowed: frozenset[tuple[str, int]] = frozenset()) -> dict[str, Any]:
    """Fetch and extract. `resolver` and `unsafe_allowed` are for tests (see safe_http.get)."""
    response = safe_http.get(url, max_bytes=MAX_DOWNLOAD_BYTES, timeout_seconds=TIMEOUT_SECONDS,
                             accept="text/html,application/xhtml+xml,text/plain;q=0.9",
                             resolver=resolver, unsafe_allowed=unsafe_allowed)
    if not 200 <= response.status < 300:
        raise ToolError(f"the page answered HTTP {response.status}")
    kind, _ = media_type(response.content_type)
    if kind not in READABLE_TYPES:
        raise ToolError(f"cannot read content of type {kind or 'unknown (no Content-Type)'}; "
                        "only HTML and plain-text pages are supported")
    title, text = readable_text(response.body, response.content_type)
    if not text:
        raise ToolError("the page has no readable text")
    cut = len(text) > MAX_TEXT_CHARS
    return {"url": response.url, "title": title, "text": text[:MAX_TEXT_CHARS],
            "truncated": cut or response.truncated}


def fetch_article(arguments: dict[str, Any]) -> dict[str, Any]:
    url = arguments.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ToolError("missing required argument: url")
    return fetch(url)


register(ServerTool(
    name="fetch_article",
    description="Fetch a public web page (http or https) and return its title and readable text, "
                f"at most {MAX_TEXT_CHARS} characters, for summarizing.",
    parameters={"type": "object", "properties": {
        "url": {"type": "string", "description": "The page's full http(s) URL"}},
        "required": ["url"]},
    run=fetch_article, timeout_seconds=TIMEOUT_SECONDS + 5))
