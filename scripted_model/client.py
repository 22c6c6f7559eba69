"""A small synchronous client for the /_scripted/ control routes, for tests and demos.

Stdlib only (urllib) so any process can program a running server, including one started
with `python -m scripted_model`. Proxies are bypassed: the server is always on loopback.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class ScriptedModelClient:
    """Programs a scripted model server; base_url may be the /v1 URL or the server root."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        root = base_url.rstrip("/")
        self.root_url = root[: -len("/v1")] if root.endswith("/v1") else root
        self._timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def enqueue(self, *replies: dict) -> int:
        """Queue reply specs (see script.py); returns how many replies are now pending."""
        return self._call("POST", "/_scripted/replies", {"replies": list(replies)})["pending"]

    def requests(self) -> list[dict]:
        """Every completion request body the server accepted, oldest first."""
        return self._call("GET", "/_scripted/requests")["data"]

    def request_count(self) -> int:
        """How many completion requests arrived, including rejected ones."""
        return self._call("GET", "/_scripted/state")["received"]

    def pending(self) -> int:
        """How many queued replies no request has consumed yet."""
        return self._call("GET", "/_scripted/state")["pending"]

    def set_default(self, latency_ms: float | None = None) -> None:
        """Set the latency applied to every reply that has no latency_ms of its own."""
        self._call("POST", "/_scripted/defaults", {"latency_ms": latency_ms})

    def reset(self) -> None:
        """Clear queued replies, recorded requests, counters and defaults."""
        self._call("POST", "/_scripted/reset", {})

    def _call(self, method: str, path: str, payload: Any = None) -> dict:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.root_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                detail = json.loads(exc.read() or b"{}").get("error", {}).get("message", "")
            raise ValueError(f"scripted model rejected {method} {path}: {detail}") from None
