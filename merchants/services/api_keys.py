"""API keys: the secret is shown once; only its SHA-256 is stored. Revocation takes effect at once
because every request reads the key item (no cache can keep a revoked key alive)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb
from core.actor import Actor
from core.errors import InvalidState
from core.ids import new_id
from merchants.errors import ApiKeyNotFound
from merchants.models import ApiKey
from merchants.selectors import api_key_get_by_id, merchant_get


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def api_key_create(*, merchant_id: str, actor: Actor, name: str = "") -> CreatedKey:
    merchant_get(merchant_id=merchant_id)
    now = datetime.now(UTC)
    secret = settings.API_KEY_PREFIX + secrets.token_urlsafe(24)  # 32 url-safe characters
    key = ApiKey(
        key_hash=hash_secret(secret),
        key_id=new_id("key", now),
        merchant_id=merchant_id,
        name=name.strip()[:100],
        prefix=secret[: len(settings.API_KEY_PREFIX) + 4],
        created=now,
        created_by=f"{actor.type}:{actor.id}",
    )
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="api_key.create",
        entity_type="api_key",
        entity_id=key.key_id,
        after={"name": key.name, "prefix": key.prefix},
        at=now,
    )
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.save(key, condition=ApiKey.key_hash.does_not_exist())
        transaction.save(event, condition=audit_condition())
    return CreatedKey(key=key, secret=secret)


def api_key_revoke(*, key_id: str, actor: Actor, merchant_id: str | None = None) -> ApiKey:
    """Revoke a key. With `merchant_id`, a key of another merchant is not found."""
    key = api_key_get_by_id(key_id=key_id)
    if merchant_id is not None and key.merchant_id != merchant_id:
        raise ApiKeyNotFound(f"No API key {key_id}.", param="key_id")
    if key.revoked is not None:
        raise InvalidState(f"API key {key_id} is already revoked.")
    now = datetime.now(UTC)
    event = audit_event_new(
        merchant_id=key.merchant_id,
        actor=actor,
        action="api_key.revoke",
        entity_type="api_key",
        entity_id=key.key_id,
        before={"revoked": None},
        after={"revoked": now.isoformat()},
        at=now,
    )
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.update(
            key,
            actions=[ApiKey.revoked.set(now)],
            condition=ApiKey.revoked.does_not_exist(),
        )
        transaction.save(event, condition=audit_condition())
    key.revoked = now
    return key
