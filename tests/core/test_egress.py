"""Outbound HTTP to chosen addresses: every address notation parsed, only public addresses allowed,
one lookup, and TLS and Host still speak the name."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core import egress
from tests.webhooks.network import FakeNetwork

pytestmark = pytest.mark.pure


@pytest.fixture
def network(monkeypatch):
    return FakeNetwork(monkeypatch)


# --- hosts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.1", "0x7f.1", "2130706433", "0177.0.0.1", "10.1", "0", "0X7F.0.0.1", "0x7f000001", "1.256", "0300.0250.1"],
)
def test_every_ipv4_notation_inet_aton_accepts_is_read_as_the_address_it_means(host):
    assert egress.ipv4_literal(host) == ipaddress.IPv4Address(socket.inet_aton(host))


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.1.1.1", "08.1.1.1", "1.2.3.0x100", "4294967296", "1.2.3.-1"])
def test_a_host_ending_in_a_number_that_is_no_address_is_invalid(host):
    with pytest.raises(ValueError):
        egress.host_literal(host)


@pytest.mark.parametrize("host", ["example.com", "hooks.example.com.", "1a.example.com", "a.0x7g", "xn--bcher-kva.de"])
def test_names_are_not_addresses(host):
    assert egress.host_literal(host) is None


@pytest.mark.parametrize("host", ["127.0.0.1 x", "exa mple.com", "a..b", "-", "fe80::1%eth0", "::ffff:127.1"])
def test_hosts_that_are_neither_a_name_nor_an_address_are_invalid(host):
    with pytest.raises(ValueError):
        egress.host_literal(host)


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "169.254.169.254",  # link-local: cloud instance metadata
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",
        "198.18.0.1",
        "203.0.113.5",  # documentation
        "::",
        "::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:8.8.8.8",
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo
        "fe80::1",
        "fec0::1",  # site-local
        "fc00::1",  # unique local
        "ff0e::1",  # multicast
        "2001:db8::1",
    ],
)
def test_non_public_addresses_are_not_allowed(address):
    assert not egress.address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address):
    assert egress.address_allowed(ipaddress.ip_address(address))


# --- resolving -------------------------------------------------------------------------------


def test_a_name_is_refused_when_any_of_its_addresses_is_not_public(network):
    network.answer("mixed.example.com", ["93.184.216.34", "10.0.0.1"])

    with pytest.raises(egress.EgressRefused) as refused:
        egress.host_resolve("mixed.example.com", 443)

    assert refused.value.reason == "the host resolves to something other than a public address"
    assert refused.value.address == ipaddress.ip_address("10.0.0.1")


def test_a_public_name_resolves_once_to_its_checked_addresses(network):
    network.answer("hooks.example.com", ["93.184.216.34", "2606:4700:4700::1111"])

    addresses = egress.host_resolve("hooks.example.com", 443)

    assert addresses == (ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("2606:4700:4700::1111"))
    assert network.lookups == ["hooks.example.com"]


def test_a_name_that_does_not_resolve_raises_a_resolution_error(network):
    with pytest.raises(socket.gaierror):
        egress.host_resolve("nowhere.invalid", 443)


@pytest.mark.parametrize("allow_private", [False, True])
def test_an_address_in_an_unusual_notation_is_refused_even_in_development(allow_private):
    with pytest.raises(egress.EgressRefused, match="unusual notation"):
        egress.host_resolve("127.1", 80, allow_private=allow_private)


def test_development_allows_loopback_and_localhost():
    assert egress.host_resolve("127.0.0.1", 80, allow_private=True) == (ipaddress.ip_address("127.0.0.1"),)
    with pytest.raises(egress.EgressRefused, match="names this machine"):
        egress.host_resolve("localhost", 80)


@pytest.mark.parametrize(
    ("url", "allow_private"),
    [
        ("http://hooks.example.com/x", False),
        ("ftp://hooks.example.com/x", True),
        ("https://user:pw@hooks.example.com/x", False),
        ("https://hooks.example.com:99999/x", False),
    ],
)
def test_urls_outside_the_rules_are_refused_before_any_lookup(url, allow_private, network):
    network.answer("hooks.example.com", ["93.184.216.34"])

    with pytest.raises(egress.EgressRefused):
        egress.destination_resolve(url, allow_private=allow_private)

    assert network.lookups == []


# --- TLS speaks the name while the socket goes to the checked address ------------------------


def _certificates(tmp_path, name: str):
    """A throwaway CA and a server certificate it signs for `name`."""
    now = datetime.datetime.now(datetime.UTC)

    def build(subject, issuer, public_key, signing_key, *, ca: bool, san: str | None = None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("Test CA", "Test CA", ca_key.public_key(), ca_key, ca=True)
    server_cert = build(name, "Test CA", server_key.public_key(), ca_key, ca=False, san=name)
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    client = ssl.create_default_context(cadata=ca_cert.public_bytes(serialization.Encoding.PEM).decode())
    return cert_file, key_file, client


@pytest.fixture
def tls_endpoint(tmp_path):
    """An https endpoint on 127.0.0.1 whose certificate names hooks.example.com; it records the TLS
    server name and the Host header it receives."""
    cert_file, key_file, client_context = _certificates(tmp_path, "hooks.example.com")
    seen: dict[str, list] = {"sni": [], "host": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen["host"].append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    server_context.sni_callback = lambda sslobj, name, context: seen["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], client_context, seen
    server.shutdown()
    server.server_close()
    thread.join()


def test_tls_sends_and_verifies_the_name_while_connecting_to_the_checked_address(tls_endpoint, network):
    port, client_context, seen = tls_endpoint
    network.answer("hooks.example.com", ["127.0.0.1"])
    network.watch(port)
    destination = egress.destination_resolve(f"https://hooks.example.com:{port}/in", allow_private=True)

    status = egress.post(
        destination,
        body=b"{}",
        headers={"Content-Type": "application/json"},
        connect_timeout=3,
        timeout=5,
        max_response_bytes=1024,
        tls_context=client_context,
    )

    assert status == 204
    assert seen == {"sni": ["hooks.example.com"], "host": [f"hooks.example.com:{port}"]}
    assert network.connects == [("127.0.0.1", port)] and network.lookups == ["hooks.example.com"]


def test_tls_refuses_a_certificate_for_another_name(tls_endpoint, network):
    port, client_context, seen = tls_endpoint
    network.answer("other.example.com", ["127.0.0.1"])
    destination = egress.destination_resolve(f"https://other.example.com:{port}/in", allow_private=True)

    with pytest.raises(ssl.SSLCertVerificationError):
        egress.post(
            destination,
            body=b"{}",
            headers={},
            connect_timeout=3,
            timeout=5,
            max_response_bytes=1024,
            tls_context=client_context,
        )

    assert seen["host"] == []
