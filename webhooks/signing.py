"""Webhook signatures: `X-Paysite-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

Standard library only, so an integrator can copy this module as it is. The receiver verifies with
`webhook_signature_verify` over the raw request body (before any JSON parsing) and its endpoint
secret; the timestamp is signed too, so a captured request cannot be replayed outside the window."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Paysite-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureVerificationError(ValueError):
    """The header is missing or malformed, no signature matches, or the timestamp is outside the window."""


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def webhook_signature_header(*, secret: str, body: bytes | str, timestamp: int, also: tuple[str, ...] = ()) -> str:
    """The header value for `body` sent at `timestamp` (unix seconds): one `v1=` per secret, the
    current one first, then those in `also` (a rotated secret that still signs)."""
    raw = _as_bytes(body)
    return ",".join([f"t={timestamp}", *(f"v1={_digest(key, timestamp, raw)}" for key in (secret, *also))])


def webhook_signature_verify(
    *,
    secret: str,
    body: bytes | str,
    header: str | None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a received webhook; returns its signed timestamp or raises `SignatureVerificationError`.

    Any one `v1=` entry may match (several appear while a secret rotates). The timestamp must be
    within `tolerance_seconds` of `now` in either direction (0 turns the check off)."""
    if not header:
        raise SignatureVerificationError("No signature header.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureVerificationError("The signature header has no timestamp or no v1 signature.")
    expected = _digest(secret, timestamp, _as_bytes(body))
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureVerificationError("No signature matches the body.")
    current = time.time() if now is None else now
    if tolerance_seconds and abs(current - timestamp) > tolerance_seconds:
        raise SignatureVerificationError("The timestamp is outside the tolerance window.")
    return timestamp
