"""Field-level encryption (AES-256-GCM) and keyed hashes.

`FIELD_ENCRYPTION_KEY` encrypts new values; `FIELD_ENCRYPTION_OLD_KEYS` (comma-separated) still
decrypt older ones. Each stored value carries the id of its key, so keys rotate without a
migration: re-encrypt at leisure, then drop the old key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from core.lazy import lazy_import

# Imported at the first encryption or decryption: a request that reads no encrypted field does
# without it (README "Lambda", cold start).
aead = lazy_import("cryptography.hazmat.primitives.ciphers.aead")


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: str
    ciphertext: str


def _key_from_secret(secret: str) -> tuple[str, bytes]:
    material = hashlib.sha256(("paysite-field-encryption:" + secret).encode()).digest()
    key_id = "fk_" + hashlib.sha256(material).hexdigest()[:12]
    return key_id, material


@cache
def _keys(current: str, old: str) -> tuple[str, dict[str, bytes]]:
    current_id, current_key = _key_from_secret(current)
    keys = {current_id: current_key}
    for secret in (s.strip() for s in old.split(",")):
        if secret:
            key_id, key = _key_from_secret(secret)
            keys[key_id] = key
    return current_id, keys


def _keyring() -> tuple[str, dict[str, bytes]]:
    return _keys(settings.FIELD_ENCRYPTION_KEY, getattr(settings, "FIELD_ENCRYPTION_OLD_KEYS", ""))


def encrypt(plaintext: str, *, context: str) -> Sealed:
    """`context` (for example the customer id and field name) is bound as associated data, so a
    value copied onto another item or field does not decrypt."""
    key_id, keys = _keyring()
    nonce = os.urandom(12)
    ciphertext = aead.AESGCM(keys[key_id]).encrypt(nonce, plaintext.encode(), context.encode())
    return Sealed(key_id, base64.b64encode(nonce).decode(), base64.b64encode(ciphertext).decode())


def decrypt(sealed: Sealed, *, context: str) -> str:
    _, keys = _keyring()
    key = keys.get(sealed.key_id)
    if key is None:
        raise LookupError(f"Encryption key {sealed.key_id} is not configured.")
    nonce, ciphertext = base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext)
    plaintext: bytes = aead.AESGCM(key).decrypt(nonce, ciphertext, context.encode())
    return plaintext.decode()


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 under `FINGERPRINT_KEY`, separated by purpose."""
    return hmac.new(settings.FINGERPRINT_KEY.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
