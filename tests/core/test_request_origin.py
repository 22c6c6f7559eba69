"""The cross-site rules for ambient callers (core/request_origin.py), decided without a server."""

from __future__ import annotations

import pytest

from core import request_origin as ro
from core.errors import Forbidden, InvalidRequest


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1:7071", True), ("127.0.0.1", True), ("127.5.6.7:80", True), ("localhost:7071", True),
    ("LOCALHOST", True), ("[::1]:7071", True), ("[::1]", True), ("::1", True),
    ("rebind.evil.example:7071", False), ("localhost.evil.example", False), ("127.0.0.1.nip.io", False),
    ("0.0.0.0:7071", False), ("10.0.0.5:7071", False), ("[::ffff:127.0.0.1]:7071", False),
    ("", False), (None, False), ("[::1", False), ("evil.example:127.0.0.1", False),
])
def test_is_loopback_host(host, loopback):
    assert ro.is_loopback_host(host) is loopback


@pytest.mark.parametrize("origin, host, same", [
    (None, "127.0.0.1:7071", True),  # code, not a browser
    ("http://127.0.0.1:7071", "127.0.0.1:7071", True),
    ("HTTP://LocalHost:7071", "localhost:7071", True),
    ("https://app.azurewebsites.net", "app.azurewebsites.net", True),
    ("https://app.azurewebsites.net:443", "app.azurewebsites.net", True),
    ("http://localhost:7071", "127.0.0.1:7071", False),  # another origin, though the same machine
    ("http://127.0.0.1:8080", "127.0.0.1:7071", False),  # another local app
    ("http://evil.example", "127.0.0.1:7071", False),
    ("null", "127.0.0.1:7071", False),
    ("file://", "127.0.0.1:7071", False),
    ("http://127.0.0.1:7071", None, False),
    ("", "127.0.0.1:7071", False),
])
def test_is_same_origin(origin, host, same):
    assert ro.is_same_origin(origin, host) is same


@pytest.mark.parametrize("content_type, json", [
    ("application/json", True), ("application/json; charset=utf-8", True), ("Application/JSON", True),
    ("application/merge-patch+json", True), ("text/plain", False), ("text/plain; application/json", False),
    ("application/x-www-form-urlencoded", False), ("multipart/form-data; boundary=x", False), ("", False),
    (None, False), ("text/json", False),
])
def test_is_json_content_type(content_type, json):
    assert ro.is_json_content_type(content_type) is json


LOCAL = {"host": "127.0.0.1:7071"}


def test_keyed_calls_are_never_refused():
    ro.check("key", {"host": "rebind.evil.example", "origin": "http://evil.example", "content-type": "text/plain",
                     "content-length": "9"}, reads_json=True)


@pytest.mark.parametrize("headers, code", [
    ({"host": "rebind.evil.example:7071"}, "host_not_allowed"),
    ({**LOCAL, "origin": "http://evil.example"}, "origin_not_allowed"),
    ({**LOCAL, "origin": "null"}, "origin_not_allowed"),
])
def test_local_caller_refusals(headers, code):
    with pytest.raises(Forbidden) as caught:
        ro.check("local", headers, reads_json=False)
    assert caught.value.code == code and caught.value.status == 403


def test_platform_callers_keep_their_host_but_not_a_foreign_origin():
    ro.check("platform", {"host": "app.azurewebsites.net"}, reads_json=False)
    with pytest.raises(Forbidden):
        ro.check("platform", {"host": "app.azurewebsites.net", "origin": "https://evil.example"}, reads_json=False)


@pytest.mark.parametrize("headers, refused", [
    ({**LOCAL, "content-type": "text/plain", "content-length": "12"}, True),
    ({**LOCAL, "content-length": "12"}, True),
    ({**LOCAL, "content-type": "text/plain", "transfer-encoding": "chunked"}, True),
    ({**LOCAL, "content-type": "application/json", "content-length": "12"}, False),
    ({**LOCAL, "content-length": "0"}, False),  # nothing to read
    (LOCAL, False),
])
def test_json_bodies_need_a_json_content_type(headers, refused):
    if refused:
        with pytest.raises(InvalidRequest):
            ro.check("local", headers, reads_json=True)
    else:
        ro.check("local", headers, reads_json=True)
    ro.check("local", headers, reads_json=False)  # multipart endpoints read no JSON
