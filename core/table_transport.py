"""The Table storage clients' HTTP transport: urllib3's connection pool directly, without `requests`.

Why: a point read through the Tables SDK cost about 1.0 ms of CPU, a third of it in `requests`'
per-request work (merging settings, hooks, cookies, adapters) on top of urllib3, and a run makes
about fourteen storage requests in the process that serves it. Table answers are small and always
read whole, so this transport reads each answer at once; the Blob clients keep azure-core's
RequestsTransport, which streams downloads.

Errors are classified as azure-core's RequestsTransport classifies them, so the SDK's retry policies
and core.transactions (which tells a lost answer from a refusal) see a reset, a refused connection or
a timeout exactly as before.
"""

from __future__ import annotations

from typing import Any

import urllib3
from azure.core.exceptions import (
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.core.rest._http_response_impl import HttpResponseImpl
from azure.core.utils import case_insensitive_dict
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

# azure-core's defaults for its transports (ConnectionConfiguration), in seconds
CONNECT_TIMEOUT_SECONDS = READ_TIMEOUT_SECONDS = 300.0


class _ReadWhole(HttpResponseImpl):
    """An answer read whole when it arrived: its content is there, nothing is left to stream."""

    def __init__(self, request: HttpRequest, answer: urllib3.BaseHTTPResponse):
        headers = case_insensitive_dict(answer.headers.items())
        super().__init__(request=request, internal_response=answer, status_code=answer.status,
                         reason=answer.reason or "", headers=headers, content_type=headers.get("content-type"),
                         stream_download_generator=None)
        self._content = answer.data
        self._is_stream_consumed = True


def classified(error: HTTPError) -> Exception:
    """The azure-core error RequestsTransport raises for what urllib3 raised: the request never reached
    the service (a refused or unresolvable connection, TLS, a proxy), it timed out connecting or
    reading, or the connection broke while the answer was awaited or read (the service may have acted)."""
    if isinstance(error, NewConnectionError):  # before ConnectTimeoutError: it is a subclass
        return ServiceRequestError(error, error=error)
    if isinstance(error, ConnectTimeoutError):
        return ServiceRequestTimeoutError(error, error=error)
    if isinstance(error, ReadTimeoutError):
        return ServiceResponseTimeoutError(error, error=error)
    if isinstance(error, (SSLError, ProxyError)):
        return ServiceRequestError(error, error=error)
    return ServiceResponseError(error, error=error)


class TableTransport(HttpTransport[HttpRequest, HttpResponse]):
    """azure-core's transport interface over one urllib3 pool manager (thread-safe, pooled per host)."""

    def __init__(self, *, pool_maxsize: int, ca_certs: str | None = None):
        self.ca_certs = ca_certs
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=pool_maxsize, ca_certs=ca_certs)

    def __enter__(self) -> "TableTransport":
        return self

    def __exit__(self, *exc_details: Any) -> None:
        self.close()

    def open(self) -> None:
        """Connections open as they are needed."""

    def close(self) -> None:
        self._pool.clear()

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        timeout = urllib3.Timeout(connect=kwargs.get("connection_timeout", CONNECT_TIMEOUT_SECONDS),
                                  read=kwargs.get("read_timeout", READ_TIMEOUT_SECONDS))
        body = request.content
        try:
            answer = self._pool.request(request.method, request.url, headers=dict(request.headers),
                                        body=body.encode("utf-8") if isinstance(body, str) else body,
                                        timeout=timeout, retries=False, redirect=False, preload_content=True,
                                        enforce_content_length=True)
        except HTTPError as error:
            raise classified(error) from error
        return _ReadWhole(request, answer)
