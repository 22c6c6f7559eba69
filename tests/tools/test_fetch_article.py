"""fetch_article and its guard: public addresses only (after DNS, on every redirect), bounded, readable types.

Pages are served by a loopback stand-in; the tests that fetch successfully let exactly its
(address, port) through with the guard's test-only `unsafe_allowed` parameter.
"""

from __future__ import annotations

import json

import pytest

from tests.tools.conftest import Reply
from tools import article, registry, safe_http
from tools.registry import ToolError

PAGE = b"""<!doctype html><html><head><title>Wind farms in 2026</title>
<style>body { color: red }</style><script>var tracking = "do-not-show";</script></head>
<body><nav>Home | About | Subscribe</nav><header>Site header</header>
<article><h1>Wind farms</h1><p>Offshore wind   capacity doubled.</p><p>Turbines got taller.</p></article>
<footer>Copyright footer</footer></body></html>"""
HTML = {"Content-Type": "text/html; charset=utf-8"}


def allow(stand_in) -> frozenset[tuple[str, int]]:
    return frozenset({("127.0.0.1", stand_in.port)})


def fetch(stand_in, path: str = "/", **kwargs) -> dict:
    return article.fetch(f"{stand_in.url}{path}", unsafe_allowed=allow(stand_in), **kwargs)


# -- reading pages -----------------------------------------------------------------------------

def test_an_html_page_becomes_its_title_and_readable_text(stand_in):
    stand_in.routes["/"] = Reply(200, PAGE, HTML)
    result = fetch(stand_in)
    assert result == {"url": f"{stand_in.url}/", "title": "Wind farms in 2026",
                      "text": "Wind farms\nOffshore wind capacity doubled.\nTurbines got taller.",
                      "truncated": False}


def test_a_page_without_article_uses_its_body_without_furniture(stand_in):
    stand_in.routes["/"] = Reply(200, b"<html><body><nav>menu</nav><p>Body text</p><script>x()</script></body></html>",
                                 {"Content-Type": "text/html"})
    assert fetch(stand_in)["text"] == "Body text"


def test_the_declared_charset_is_honoured(stand_in):
    stand_in.routes["/"] = Reply(200, "<p>Café Zürich</p>".encode("latin-1"), {"Content-Type": "text/html; charset=ISO-8859-1"})
    assert fetch(stand_in)["text"] == "Café Zürich"


def test_plain_text_is_read_as_is(stand_in):
    stand_in.routes["/notes.txt"] = Reply(200, b"line one\n\n\n\nline two  ", {"Content-Type": "text/plain"})
    assert fetch(stand_in, "/notes.txt")["text"] == "line one\n\nline two"


def test_long_text_is_capped(stand_in):
    stand_in.routes["/"] = Reply(200, b"<p>" + b"word " * 5000 + b"</p>", HTML)
    result = fetch(stand_in)
    assert len(result["text"]) == article.MAX_TEXT_CHARS and result["truncated"] is True


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "application/json", ""])
def test_content_it_cannot_read_is_a_clear_error(stand_in, content_type):
    stand_in.routes["/"] = Reply(200, b"%PDF-1.7 ...", {"Content-Type": content_type} if content_type else {})
    with pytest.raises(ToolError, match="cannot read content of type"):
        fetch(stand_in)


def test_an_error_page_is_reported_with_its_status(stand_in):
    stand_in.routes["/gone"] = Reply(410, b"<p>Gone</p>", HTML)
    with pytest.raises(ToolError, match="the page answered HTTP 410"):
        fetch(stand_in, "/gone")


def test_a_page_without_text_says_so(stand_in):
    stand_in.routes["/"] = Reply(200, b"<html><body><script>only()</script></body></html>", HTML)
    with pytest.raises(ToolError, match="no readable text"):
        fetch(stand_in)


# -- size and time -------------------------------------------------------------------------------

def test_the_body_is_cut_at_max_bytes(stand_in):
    stand_in.routes["/big"] = Reply(200, b"a" * 100_000, {"Content-Type": "text/plain"})
    response = safe_http.get(f"{stand_in.url}/big", max_bytes=1000, timeout_seconds=5, unsafe_allowed=allow(stand_in))
    assert response.body == b"a" * 1000 and response.truncated is True


def test_a_slow_server_is_a_timeout_error(stand_in):
    stand_in.routes["/slow"] = Reply(200, b"late", {"Content-Type": "text/plain"}, delay_seconds=2)
    with pytest.raises(ToolError, match="did not answer in time"):
        safe_http.get(f"{stand_in.url}/slow", max_bytes=1000, timeout_seconds=0.3, unsafe_allowed=allow(stand_in))


# -- redirects -----------------------------------------------------------------------------------

def test_redirects_are_followed_hop_by_hop(stand_in):
    stand_in.routes["/old"] = Reply(301, headers={"Location": "/new"})
    stand_in.routes["/new"] = Reply(200, PAGE, HTML)
    result = fetch(stand_in, "/old")
    assert result["url"] == f"{stand_in.url}/new" and result["title"] == "Wind farms in 2026"


@pytest.mark.parametrize("location", [
    "http://127.0.0.1:{other}/",  # loopback, another port than the one let through
    "http://localhost:{other}/",
    "http://[::1]:{other}/",
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2130706433:{other}/",
    "file:///etc/passwd",
])
def test_a_redirect_to_a_non_public_address_is_refused(stand_in, location):
    stand_in.routes["/hop"] = Reply(302, headers={"Location": location.format(other=stand_in.port + 1)})
    with pytest.raises(safe_http.Refused):
        fetch(stand_in, "/hop")
    assert [r["path"] for r in stand_in.received] == ["/hop"]


def test_redirect_loops_stop(stand_in):
    stand_in.routes["/loop"] = Reply(302, headers={"Location": "/loop"})
    with pytest.raises(safe_http.Refused, match="more than 5 redirects"):
        fetch(stand_in, "/loop")
    assert len(stand_in.received) == safe_http.MAX_REDIRECTS + 1


# -- DNS -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("answers", [["10.1.2.3"], ["192.168.0.10"], ["fd00:ec2::254"], ["169.254.169.254"],
                                     ["93.184.216.34", "127.0.0.1"], ["::ffff:10.0.0.1"]])
def test_a_name_resolving_to_a_non_public_address_is_refused(stand_in, answers):
    with pytest.raises(safe_http.Refused, match="not a public internet address"):
        article.fetch(f"http://intranet.example:{stand_in.port}/", resolver=lambda host, port: answers)
    assert stand_in.received == []


def test_the_checked_address_is_the_one_connected_to(stand_in):
    """One lookup per hop, and the connection goes to its answer: no second lookup to rebind."""
    stand_in.routes["/"] = Reply(200, PAGE, HTML)
    lookups = []

    def resolver(host, port):
        lookups.append((host, port))
        return ["127.0.0.1"]

    result = article.fetch(f"http://news.example:{stand_in.port}/", resolver=resolver, unsafe_allowed=allow(stand_in))
    assert result["title"] == "Wind farms in 2026"
    assert lookups == [("news.example", stand_in.port)]
    assert stand_in.received[0]["headers"]["Host"] == f"news.example:{stand_in.port}"


def test_a_name_that_does_not_resolve_is_a_clear_error():
    def resolver(host, port):
        raise ToolError(f"the host {host} could not be resolved")

    with pytest.raises(ToolError, match="could not be resolved"):
        article.fetch("http://no-such-host.invalid/", resolver=resolver)


# -- what the model can ask for, through the registry (no test-only injection) ------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://2130706433:{port}/",      # decimal
    "http://0177.0.0.1:{port}/",      # octal
    "http://0x7f.0.0.1:{port}/",      # hex
    "http://0x7f000001:{port}/",
    "http://127.1:{port}/",           # shortened
    "http://017700000001:{port}/",    # octal, one number
    "http://127.0.0.1.:{port}/",      # trailing dot
    "HTTP://LOCALHOST:{port}/",
    "http://0.0.0.0:{port}/",
    "http://[::]:{port}/",
    "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/",
    "http://100.64.0.1/",             # CGNAT
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://224.0.0.251/", "http://[ff02::1]/",
    "http://[2002:7f00:1::]/",        # 6to4 wrapping 127.0.0.1
    "http://[64:ff9b::a00:1]/",       # NAT64 wrapping 10.0.0.1
    "http://255.255.255.255/",
    "http://168.63.129.16/machine?comp=goalstate",  # Azure WireServer
    "http://192.88.99.1/",            # 6to4 relay anycast, which ipaddress calls global
])
def test_non_public_addresses_are_refused(monkeypatch, stand_in, url):
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "fetch_article")
    stand_in.routes["/"] = Reply(200, PAGE, HTML)
    output = json.loads(registry.execute("fetch_article", json.dumps({"url": url.format(port=stand_in.port)})))
    assert "not a public internet address" in output["error"]
    assert stand_in.received == []


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "only http and https"),
    ("ftp://example.com/file", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("example.com/page", "only http and https"),
    ("http://user:pass@example.com/", "credentials"),
    ("http:///nohost", "no host"),
    ("http://example.com:99999/", "not a valid URL"),
    ("http://999.1.1.1/", "not a valid address"),
    ("", "missing required argument: url"),
])
def test_urls_that_are_not_public_web_pages_are_refused(monkeypatch, url, message):
    monkeypatch.setenv("SERVER_TOOLS_ENABLED", "fetch_article")
    assert message in json.loads(registry.execute("fetch_article", json.dumps({"url": url})))["error"]


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("93.184.216.34", True),
    ("127.0.0.1", False), ("10.255.255.255", False), ("172.31.0.1", False), ("192.168.0.1", False),
    ("100.64.0.1", False), ("100.127.255.254", False), ("169.254.169.254", False), ("0.0.0.0", False),
    ("224.0.0.1", False), ("240.0.0.1", False), ("192.0.2.1", False), ("198.18.0.1", False),
    ("::1", False), ("::", False), ("fd00:ec2::254", False), ("fe80::1", False), ("ff05::2", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False), ("2002:a00:1::", False), ("2002:808:808::", False),
    ("64:ff9b::7f00:1", False), ("64:ff9b::808:808", False), ("2001:0:4136:e378::1", False), ("2001:db8::1", False),
])
def test_is_public(address, public):
    import ipaddress

    assert safe_http.is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("network, reason", safe_http.DENIED_NETWORKS)
def test_every_special_purpose_range_is_refused_at_both_ends(network, reason):
    import ipaddress

    block = ipaddress.ip_network(network)
    assert not safe_http.is_public(block.network_address), reason
    assert not safe_http.is_public(block.broadcast_address), reason


@pytest.mark.parametrize("address", [
    "168.63.129.16", "192.88.99.1", "192.0.0.9", "192.0.0.10", "192.31.196.1", "192.52.193.1",
    "192.175.48.1", "2001:1::1", "2001:20::1", "2001:4:112::1", "2620:4f:8000::1", "3fff::1", "5f00::1",
    "100:0:0:1::1",
])
def test_ranges_python_may_call_global_are_refused(address):
    import ipaddress

    assert not safe_http.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["192.88.98.255", "192.88.100.1", "168.63.129.15", "168.63.129.17",
                                     "2620:4f:7fff::1", "2a00:1450:4001::1"])
def test_neighbours_of_the_denied_ranges_stay_public(address):
    import ipaddress

    assert safe_http.is_public(ipaddress.ip_address(address))


# -- TLS -----------------------------------------------------------------------------------------

def test_https_connects_to_the_checked_address_and_verifies_the_urls_name(stand_in):
    """The TLS handshake goes to the resolved address, names the URL's host (SNI) and verifies the
    certificate: one from an unknown authority is refused, not read."""
    import ssl

    import trustme

    server_names = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("news.example").configure_cert(context)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    stand_in.server.socket = context.wrap_socket(stand_in.server.socket, server_side=True)
    stand_in.routes["/"] = Reply(200, PAGE, HTML)

    with pytest.raises(ToolError, match="the TLS connection to news.example failed"):
        article.fetch(f"https://news.example:{stand_in.port}/", resolver=lambda host, port: ["127.0.0.1"],
                      unsafe_allowed=allow(stand_in))
    assert server_names == ["news.example"]
    assert stand_in.received == []
