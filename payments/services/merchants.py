from __future__ import annotations

import secrets
from datetime import UTC, datetime

from pynamodb.transactions import TransactWrite

from audit.services import Actor, audit_condition, audit_event_new
from paysite import dynamodb
from paysite.errors import ValidationFailed
from paysite.ids import new_id
from payments.currencies import CURRENCIES
from payments.models import Merchant


def merchant_create(
    *,
    name: str,
    actor: Actor,
    default_currency: str = "usd",
    rate_limit_per_minute: int | None = None,
    webhook_url: str | None = None,
) -> Merchant:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("A merchant needs a name of 1 to 200 characters.", param="name")
    currency = default_currency.lower()
    if currency not in CURRENCIES:
        raise ValidationFailed(f"Unsupported currency {default_currency!r}.", param="currency")
    now = datetime.now(UTC)
    merchant = Merchant(
        merchant_id=new_id("mer", now),
        name=name,
        default_currency=currency,
        rate_limit_per_minute=rate_limit_per_minute,
        webhook_url=webhook_url,
        webhook_secret="whsec_" + secrets.token_urlsafe(32),
        created=now,
        updated=now,
    )
    event = audit_event_new(
        merchant_id=merchant.merchant_id,
        actor=actor,
        action="merchant.create",
        entity_type="merchant",
        entity_id=merchant.merchant_id,
        after={"name": name, "default_currency": currency, "rate_limit_per_minute": rate_limit_per_minute},
        at=now,
    )
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.save(merchant, condition=Merchant.merchant_id.does_not_exist())
        transaction.save(event, condition=audit_condition())
    merchant.version = 1
    return merchant
