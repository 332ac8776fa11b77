"""Outbound HTTP to addresses that others choose (merchants' webhook endpoints), kept off the
platform's own network (server-side request forgery).

- **Every spelling of an address is read as a resolver reads it.** Besides `a.b.c.d`, `inet_aton` (and
  so `getaddrinfo`) accepts one to four parts in decimal, octal or hex: `127.1`, `0x7f.1`,
  `2130706433`, `0177.0.0.1` are all 127.0.0.1. A host whose last label is a number is parsed that way
  (as browsers do) and must be an address; IPv6 literals are parsed too.
- **Only globally reachable addresses pass** (`address_allowed`), including the IPv4 address inside an
  IPv4-mapped, NAT64, 6to4 or Teredo IPv6 address.
- **A name is resolved once, at the moment of sending**; every address it resolves to is checked and
  the connection goes to a checked address, never through a second lookup, so a DNS answer that
  changes in between (DNS rebinding) cannot move it. The `Host` header, TLS SNI and the certificate
  check still use the name.
- **No redirect is followed** and at most a bounded number of response bytes is read.

`allow_private` lifts the address rules (never the parsing) for a receiver on a developer's machine.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import certifi

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_IPV4_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")
_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class EgressRefused(Exception):
    """The destination is not allowed. `reason` completes "refused: ..." and may be shown to the
    owner of the URL (it names no resolved address); `address` is the offending one, for the logs."""

    def __init__(self, reason: str, *, address: IPAddress | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.address = address


# --- hosts and addresses ---------------------------------------------------------------------


def _ipv4_number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8)  # a leading zero means octal; `08` raises ValueError
    return int(part)


def ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address `host` spells in any notation `inet_aton` accepts (1 to 4 parts, each decimal,
    octal with a leading 0, or hex with 0x; the last part fills the remaining bytes), a trailing dot
    allowed; None when the host's last label is not a number (a name). Raises ValueError for a host
    that ends in a number but is no address (`1.2.3.4.5`, `256.1.1.1`, `08.1`)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not _IPV4_NUMBER.match(parts[-1]):
        return None
    if len(parts) > 4 or not all(_IPV4_NUMBER.match(part) for part in parts):
        raise ValueError(f"{host!r} ends in a number but is not an IPv4 address")
    *head, last = [_ipv4_number(part) for part in parts]
    if any(number > 255 for number in head) or last >= 256 ** (4 - len(head)):
        raise ValueError(f"{host!r} ends in a number but is not an IPv4 address")
    value = last
    for position, number in enumerate(head):
        value += number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def host_literal(host: str) -> IPAddress | None:
    """The address a URL's host (IPv6 without its brackets) writes literally, None for a name.
    Raises ValueError for a host that is neither a valid address nor a valid name."""
    if ":" in host:
        address = ipaddress.IPv6Address(host)
        if address.scope_id:
            raise ValueError(f"{host!r} has a zone index")
        return address
    literal = ipv4_literal(host)
    if literal is None and not _NAME.match(_ascii_name(host.removesuffix("."))):
        raise ValueError(f"{host!r} is not a valid host name")
    return literal


def _ascii_name(host: str) -> str:
    try:
        return host.lower().encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def is_local_name(host: str) -> bool:
    """`localhost` and names under `.localhost`, which always mean this machine (RFC 6761)."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    embedded = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    return embedded


def address_allowed(address: IPAddress) -> bool:
    """A globally reachable unicast address: not loopback, private, shared (100.64/10), link-local,
    site-local, multicast, reserved or documentation; for IPv6, neither is any IPv4 address it embeds
    (IPv4-mapped, 6to4, Teredo). A NAT64 address (64:ff9b::/96) is judged by the IPv4 address it
    carries; the local-use NAT64 prefix 64:ff9b:1::/48 is refused whole."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id or address.is_site_local or address in _NAT64_LOCAL:
            return False
        if address in _NAT64:  # what a DNS64 resolver answers for an IPv4-only host: judged by that host
            return address_allowed(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if not all(address_allowed(inner) for inner in _embedded_ipv4(address)):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
    )


def host_resolve(host: str, port: int, *, allow_private: bool = False) -> tuple[IPAddress, ...]:
    """The addresses to connect to for a URL's host, each one checked: the literal address, or every
    address `getaddrinfo` gives for the name (one lookup). Raises `EgressRefused`, or `socket.gaierror`
    when the name does not resolve."""
    try:
        literal = host_literal(host)
    except ValueError as error:
        raise EgressRefused("the host is not a valid name or address") from error
    if literal is not None:
        if isinstance(literal, ipaddress.IPv4Address) and str(literal) != host:
            raise EgressRefused("the address is written in an unusual notation", address=literal)
        addresses: tuple[IPAddress, ...] = (literal,)
    elif is_local_name(host) and not allow_private:
        raise EgressRefused("the host names this machine")
    else:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = tuple(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found))
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "no address")
    if not allow_private:
        for address in addresses:
            if not address_allowed(address):
                reason = "the host is not" if literal is not None else "the host resolves to something other than"
                raise EgressRefused(f"{reason} a public address", address=address)
    return addresses


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """Where a request goes: the URL's parts (the name for `Host` and TLS) and the checked addresses."""

    scheme: str
    host: str
    port: int
    target: str  # path and query, percent-encoded
    addresses: tuple[IPAddress, ...]


def destination_resolve(url: str, *, allow_private: bool = False) -> Destination:
    """Check a URL for sending and resolve its host once. Plain http only with `allow_private`.
    Raises `EgressRefused`, or `socket.gaierror` when the name does not resolve (try again later)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise EgressRefused("the URL is not valid") from error
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        raise EgressRefused("the URL is not an absolute http(s) URL without credentials")
    if parts.scheme == "http" and not allow_private:
        raise EgressRefused("plain http is not allowed")
    port = port or _DEFAULT_PORTS[parts.scheme]
    addresses = host_resolve(parts.hostname, port, allow_private=allow_private)
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        target += "?" + quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    return Destination(parts.scheme, parts.hostname, port, target, addresses)


class _CheckedAddresses:
    """http.client opens its socket through `_create_connection`; this one connects to the checked
    addresses in turn and never resolves the host again."""

    _addresses: tuple[IPAddress, ...]
    _connect_timeout: float
    port: int

    def _connect_checked(
        self, _host_port: tuple[str, int], timeout: float | None = None, source_address: object = None
    ) -> socket.socket:
        error: OSError = OSError("no address to connect to")
        for address in self._addresses:
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(self._connect_timeout)
                sock.connect((str(address), self.port))
            except OSError as failure:
                sock.close()
                error = failure
                continue
            sock.settimeout(timeout)
            return sock
        raise error


class _HTTPConnection(_CheckedAddresses, http.client.HTTPConnection):
    def __init__(self, destination: Destination, *, connect_timeout: float, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._addresses, self._connect_timeout = destination.addresses, connect_timeout
        self._create_connection = self._connect_checked


class _HTTPSConnection(_CheckedAddresses, http.client.HTTPSConnection):
    def __init__(
        self, destination: Destination, *, connect_timeout: float, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout, context=context)
        self._addresses, self._connect_timeout = destination.addresses, connect_timeout
        self._create_connection = self._connect_checked


@functools.cache
def default_tls_context() -> ssl.SSLContext:
    """Certificates verified against the CA bundle requests uses, hostname checked."""
    return ssl.create_default_context(cafile=certifi.where())


def post(
    destination: Destination,
    *,
    body: bytes,
    headers: dict[str, str],
    connect_timeout: float,
    timeout: float,
    max_response_bytes: int,
    tls_context: ssl.SSLContext | None = None,
) -> int:
    """POST `body` to a resolved destination and return the status code. A redirect is returned as
    it is, never followed; at most `max_response_bytes` of the answer are read, within `timeout`
    after the answer starts, then the connection is closed. Raises `TimeoutError`, `ssl.SSLError`,
    `OSError` or `http.client.HTTPException`."""
    connection: http.client.HTTPConnection
    if destination.scheme == "https":
        connection = _HTTPSConnection(
            destination,
            connect_timeout=connect_timeout,
            timeout=timeout,
            context=tls_context or default_tls_context(),
        )
    else:
        connection = _HTTPConnection(destination, connect_timeout=connect_timeout, timeout=timeout)
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        response = connection.getresponse()
        deadline, remaining = time.monotonic() + timeout, max_response_bytes
        while remaining > 0 and time.monotonic() < deadline:
            chunk = response.read1(min(remaining, 16 * 1024))
            if not chunk:
                break
            remaining -= len(chunk)
        return response.status
    finally:
        connection.close()
