"""HTTP GET to the public internet only: the guard for tools that fetch URLs a model chose.

A model (or a prompt injected into a page it read) can ask for any URL, so every hop is
checked before a byte is sent: http(s) only, no credentials in the URL, and every address
the name resolves to must be public — not loopback, private, link-local, CGNAT, multicast,
unspecified, reserved or a cloud metadata address, also when written in legacy numeric forms
(2130706433, 0177.0.0.1) or wrapped in IPv6 (::ffff:127.0.0.1, 6to4, Teredo, NAT64). The connection
goes to the very address that was checked (the Host header and TLS name stay the URL's), so
a second DNS answer cannot swap in a private address. Redirects are followed here, one
checked hop at a time, at most MAX_REDIRECTS. Size and wall-clock time are bounded.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3

from tools.registry import ToolError

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "assistants-in-a-box/1 (+fetch_article)"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# IANA's IPv4 and IPv6 special-purpose address registries (RFC 6890 and later), every entry, plus
# the cloud addresses that answer only from inside a cloud. No public web page lives in any of them,
# so all are refused, also the few IANA marks "globally reachable" (anycast relays, AS112). Listed
# here rather than left to `ipaddress.is_global`, whose table differs between Python releases and
# misses some (192.88.99.0/24, 3fff::/20, 168.63.129.16).
DENIED_NETWORKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "this network"),
    ("10.0.0.0/8", "private use"),
    ("100.64.0.0/10", "shared address space (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("168.63.129.16/32", "Azure WireServer (platform metadata, reachable from Azure compute)"),
    ("169.254.0.0/16", "link-local, incl. the instance metadata service 169.254.169.254"),
    ("172.16.0.0/12", "private use"),
    ("192.0.0.0/24", "IETF protocol assignments (DS-Lite, NAT64 discovery, PCP and TURN anycast)"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.31.196.0/24", "AS112 DNS sink"),
    ("192.52.193.0/24", "AMT relays"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private use"),
    ("192.175.48.0/24", "AS112 direct delegation"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved, incl. limited broadcast 255.255.255.255"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("64:ff9b::/96", "IPv4/IPv6 translation (NAT64)"),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy IPv6 prefix"),
    ("2001::/23", "IETF protocol assignments (Teredo, benchmarking, AMT, AS112, ORCHID, DET)"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("2620:4f:8000::/48", "AS112 direct delegation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing (SRv6) SIDs"),
    ("fc00::/7", "unique local"),
    ("fd00:ec2::254/128", "AWS instance metadata over IPv6"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "deprecated site-local"),
    ("ff00::/8", "multicast"),
)
_DENIED = tuple(ipaddress.ip_network(network) for network, _ in DENIED_NETWORKS)
_LEGACY_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}", re.IGNORECASE)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class Refused(ToolError):
    """The URL or an address it leads to is not one this service may fetch."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # as written in the URL, lower-cased, without IPv6 brackets
    port: int
    path: str  # path and query, never empty

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Response:
    url: str  # the final URL, after redirects
    status: int
    content_type: str  # the raw Content-Type header ("" if absent)
    body: bytes
    truncated: bool  # the body was longer than max_bytes


def parse_target(url: str) -> Target:
    """Check what can be checked without DNS: scheme, credentials, host, port."""
    if not isinstance(url, str) or not url.strip():
        raise Refused("a URL is required")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise Refused(f"not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused(f"only http and https URLs can be fetched, not {scheme or 'a URL without a scheme'}")
    if parts.username is not None or parts.password is not None:
        raise Refused("URLs with credentials are not fetched")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("the URL has no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url=url.strip(), scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80), path=path)


def literal_address(host: str) -> Address | None:
    """The address a host names without DNS: standard IP forms and the legacy numeric ones
    (decimal, octal, hex, shortened) that resolvers still accept; None for a DNS name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise Refused(f"{host} is not a valid address") from None
    return None


def is_public(address: Address) -> bool:
    """True only for globally routable unicast addresses outside every special-purpose range
    (DENIED_NETWORKS). IPv6 forms that wrap an IPv4 address (mapped, 6to4, Teredo, NAT64) are
    refused whatever they wrap: a public site never needs them."""
    if isinstance(address, ipaddress.IPv6Address) and (
            address.ipv4_mapped or address.sixtofour or address.teredo or address in _NAT64):
        return False
    if any(address.version == network.version and address in network for network in _DENIED):
        return False
    return (address.is_global and not address.is_multicast and not address.is_reserved
            and not address.is_unspecified and not address.is_loopback and not address.is_link_local
            and not address.is_private)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address DNS gives for host (one lookup; the checked answer is the one used)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ToolError(f"the host {host} could not be resolved: {error}") from None
    return [str(answer[4][0]) for answer in answers]  # an IPv4/IPv6 sockaddr: (host str, port, ...)


def checked_address(target: Target, resolver: Resolver,
                    unsafe_allowed: frozenset[tuple[str, int]] = frozenset()) -> str:
    """The address to connect to, after every address the host has passed the check.

    `unsafe_allowed` ((address, port) pairs let through whatever they are) exists for tests
    that serve pages on loopback; nothing in the app passes it."""
    literal = literal_address(target.host)
    candidates: Iterable[str] = [str(literal)] if literal is not None else resolver(target.host, target.port)
    addresses = []
    for text in candidates:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise Refused(f"{target.host} resolved to something that is not an address") from None
        if (str(address), target.port) not in unsafe_allowed and not is_public(address):
            raise Refused(f"{target.host} is not a public internet address ({address}); it is not fetched")
        addresses.append(str(address))
    if not addresses:
        raise ToolError(f"the host {target.host} has no address")
    return addresses[0]


def get(url: str, *, max_bytes: int, timeout_seconds: float, accept: str = "*/*",
        resolver: Resolver = system_resolver,
        unsafe_allowed: frozenset[tuple[str, int]] = frozenset()) -> Response:
    """GET a public URL, following redirects hop by hop; the body is cut at max_bytes."""
    deadline = time.monotonic() + timeout_seconds
    for _ in range(MAX_REDIRECTS + 1):
        target = parse_target(url)
        address = checked_address(target, resolver, unsafe_allowed)
        response = _request(target, address, accept, deadline)
        try:
            location = response.headers.get("Location")
            if response.status in REDIRECT_STATUSES and location:
                url = urljoin(target.url, location)
                continue
            body, truncated = _read_capped(response, max_bytes, deadline)
            return Response(url=target.url, status=response.status,
                            content_type=response.headers.get("Content-Type", ""), body=body, truncated=truncated)
        finally:
            response.release_conn()
    raise Refused(f"more than {MAX_REDIRECTS} redirects")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ToolError("the page took too long to load")
    return left


def _request(target: Target, address: str, accept: str, deadline: float) -> urllib3.BaseHTTPResponse:
    left = _remaining(deadline)
    timeout = urllib3.Timeout(connect=min(left, 10.0), read=left)
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, target.port, timeout=timeout, retries=False,
                                           cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(),
                                           server_hostname=target.host, assert_hostname=target.host)
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False)
    headers = {"Host": target.host_header, "User-Agent": USER_AGENT, "Accept": accept,
               "Accept-Encoding": "identity"}
    try:
        return pool.urlopen("GET", target.path, headers=headers, redirect=False, preload_content=False,
                            assert_same_host=False)
    except urllib3.exceptions.SSLError as error:
        raise ToolError(f"the TLS connection to {target.host} failed: {error.__class__.__name__}") from None
    except urllib3.exceptions.TimeoutError:
        raise ToolError(f"{target.host} did not answer in time") from None
    except urllib3.exceptions.HTTPError as error:
        raise ToolError(f"{target.host} could not be reached ({error.__class__.__name__})") from None


def _read_capped(response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float) -> tuple[bytes, bool]:
    chunks, size = [], 0
    try:
        while size <= max_bytes:
            _remaining(deadline)
            chunk = response.read1(min(65_536, max_bytes + 1 - size))  # returns what arrived: no slow-drip stall
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except urllib3.exceptions.HTTPError as error:
        raise ToolError(f"reading the page failed ({error.__class__.__name__})") from None
    body = b"".join(chunks)
    return body[:max_bytes], len(body) > max_bytes
