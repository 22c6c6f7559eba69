"""The one conversion each way for classic HTTP functions, and the body limit's reading of headers."""

import azure.functions as func
import pytest

from devhost.classic_http import asgi_response, functions_request
from devhost.front import declared_length

SCOPE = {
    "type": "http", "method": "POST", "scheme": "http", "server": ("127.0.0.1", 7071), "root_path": "",
    "path": "/api/things/a b", "raw_path": b"/api/things/a%20b", "query_string": b"q=1&q=2&empty=&x=%C3%BC",
    "headers": [(b"host", b"127.0.0.1:7071"), (b"x-many", b"one"), (b"X-Many", b"two"), (b"content-type", b"text/plain")],
}


def test_request_joins_repeated_headers_and_keeps_the_first_repeated_param():
    request = functions_request(SCOPE, b"\x00\xff", {"name": "a b"})
    assert request.method == "POST" and request.get_body() == b"\x00\xff"
    assert request.url == "http://127.0.0.1:7071/api/things/a%20b?q=1&q=2&empty=&x=%C3%BC"
    assert request.headers["x-many"] == "one, two" and request.headers["Content-Type"] == "text/plain"
    assert dict(request.params) == {"q": "1", "empty": "", "x": "ü"}
    assert request.route_params == {"name": "a b"}


def test_http_response_keeps_status_headers_and_gets_its_content_type():
    response = asgi_response(func.HttpResponse(b"{}", status_code=201, headers={"X-Id": "7"},
                                               mimetype="application/json"))
    assert (response.status_code, response.body) == (201, b"{}")
    assert response.headers["x-id"] == "7" and response.headers["content-type"] == "application/json; charset=utf-8"
    explicit = asgi_response(func.HttpResponse("x", headers={"Content-Type": "text/csv"}))
    assert explicit.headers.getlist("content-type") == ["text/csv"]


@pytest.mark.parametrize("result, status, content_type, body", [
    (None, 204, None, b""),
    (b"\x01", 200, "application/octet-stream", b"\x01"),
    ("hi", 200, "text/plain; charset=utf-8", b"hi"),
])
def test_plain_return_values(result, status, content_type, body):
    response = asgi_response(result)
    assert (response.status_code, response.headers.get("content-type"), response.body) == (status, content_type, body)


def test_unsupported_return_value_is_an_error():
    with pytest.raises(TypeError):
        asgi_response({"not": "a response"})


@pytest.mark.parametrize("headers, expected", [
    ([(b"content-length", b"12")], 12),
    ([(b"Content-Length", b"0")], 0),
    ([(b"content-length", b"twelve")], None),
    ([(b"transfer-encoding", b"chunked")], None),
])
def test_declared_length(headers, expected):
    assert declared_length(headers) == expected
