"""A merchant's settings: what its admins edit (name, default currency, statement descriptor, time
zone) and what only ops staff change (the API rate limit, suspension). Every change is one
DynamoDB transaction with its audit event, guarded by the merchant's version."""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb
from core.actor import Actor
from core.errors import InvalidState, ValidationFailed
from core.ids import now as clock_now
from core.money import CURRENCIES
from merchants.models import MERCHANT_ACTIVE, MERCHANT_SUSPENDED, Merchant
from merchants.ratelimit import rate_limit_forget
from merchants.selectors import merchant_get
from merchants.zones import zone_remember

DEFAULT_TIME_ZONE = "UTC"
RATE_LIMIT_MAX = 100_000
REASON_MAX = 500
# Card networks show 5 to 22 characters on the cardholder's statement: Latin letters, digits, spaces
# and a few signs, at least one letter (no < > \ ' " *).
_DESCRIPTOR = re.compile(r"[A-Za-z0-9 .,&#/()+_-]{5,22}")


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA zone names this system knows, sorted, UTC first."""
    names = sorted(zoneinfo.available_timezones() - {DEFAULT_TIME_ZONE})
    return (DEFAULT_TIME_ZONE, *names)


def merchant_time_zone(merchant: Merchant | None) -> str:
    return (merchant.time_zone if merchant is not None else None) or DEFAULT_TIME_ZONE


@dataclass(frozen=True)
class MerchantSettings:
    name: str
    default_currency: str
    statement_descriptor: str | None
    time_zone: str


def settings_check(
    *, name: str, default_currency: str, statement_descriptor: str | None, time_zone: str
) -> MerchantSettings:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed("Enter a name of 1 to 200 characters.", param="name")
    currency = (default_currency or "").strip().lower()
    if currency not in CURRENCIES:
        raise ValidationFailed(f"{default_currency!r} is not a supported currency.", param="default_currency")
    descriptor = " ".join((statement_descriptor or "").split()) or None
    if descriptor is not None and (not _DESCRIPTOR.fullmatch(descriptor) or not any(ch.isalpha() for ch in descriptor)):
        raise ValidationFailed(
            "A statement descriptor is 5 to 22 characters: letters, digits, spaces and . , & # / ( ) + _ -, "
            "with at least one letter.",
            param="statement_descriptor",
        )
    zone = (time_zone or "").strip() or DEFAULT_TIME_ZONE
    if zone not in time_zone_names():
        raise ValidationFailed(
            f"{zone!r} is not a time zone name; use an IANA name such as Europe/Paris or America/New_York.",
            param="time_zone",
        )
    return MerchantSettings(name=name, default_currency=currency, statement_descriptor=descriptor, time_zone=zone)


_AUDIT_NAMES = {"name": "merchant_name"}


def _save(merchant: Merchant, *, actions: list, event: Any) -> None:
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.update(merchant, actions=actions)
        transaction.save(event, condition=audit_condition())


def merchant_settings_update(
    *,
    merchant_id: str,
    actor: Actor,
    name: str,
    default_currency: str,
    statement_descriptor: str | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> Merchant:
    """The admin's settings; only what changed is written and audited (`merchant.settings.update`).
    A new time zone records when it took effect: daily counters use it from then on."""
    wanted = settings_check(
        name=name, default_currency=default_currency, statement_descriptor=statement_descriptor, time_zone=time_zone
    )
    merchant = merchant_get(merchant_id=merchant_id)
    current = {
        "name": merchant.name,
        "default_currency": merchant.default_currency,
        "statement_descriptor": merchant.statement_descriptor,
        "time_zone": merchant_time_zone(merchant),
    }
    changed = {field: value for field, value in vars(wanted).items() if current[field] != value}
    if not changed:
        return merchant
    now = clock_now()
    actions = [Merchant.updated.set(now)]
    for field, value in changed.items():
        attribute = getattr(Merchant, field)
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    if "time_zone" in changed:
        actions.append(Merchant.time_zone_since.set(now))
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="merchant.settings.update",
        entity_type="merchant",
        entity_id=merchant_id,
        # `name` would be redacted as a person's name; a merchant's is not personal data.
        before={_AUDIT_NAMES.get(field, field): current[field] for field in changed},
        after={_AUDIT_NAMES.get(field, field): value for field, value in changed.items()},
        at=now,
    )
    _save(merchant, actions=actions, event=event)
    updated = merchant_get(merchant_id=merchant_id)
    zone_remember(updated)  # this process's counters use the new zone at once
    return updated


def merchant_rate_limit_set(*, merchant_id: str, actor: Actor, rate_limit_per_minute: int | None) -> Merchant:
    """Ops staff: the merchant's API requests per minute (None: the platform default)."""
    if rate_limit_per_minute is not None and not 1 <= rate_limit_per_minute <= RATE_LIMIT_MAX:
        raise ValidationFailed(
            f"The rate limit is 1 to {RATE_LIMIT_MAX:,} requests a minute (empty: the default).",
            param="rate_limit_per_minute",
        )
    merchant = merchant_get(merchant_id=merchant_id)
    before = int(merchant.rate_limit_per_minute) if merchant.rate_limit_per_minute is not None else None
    if before == rate_limit_per_minute:
        return merchant
    now = clock_now()
    limit = Merchant.rate_limit_per_minute
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="merchant.rate_limit.update",
        entity_type="merchant",
        entity_id=merchant_id,
        before={"rate_limit_per_minute": before},
        after={"rate_limit_per_minute": rate_limit_per_minute},
        at=now,
    )
    actions = [
        Merchant.updated.set(now),
        limit.set(rate_limit_per_minute) if rate_limit_per_minute is not None else limit.remove(),
    ]
    _save(merchant, actions=actions, event=event)
    rate_limit_forget(merchant_id=merchant_id)
    return merchant_get(merchant_id=merchant_id)


def _reason_check(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > REASON_MAX:
        raise ValidationFailed(f"Give a reason of 1 to {REASON_MAX} characters.", param="reason")
    return reason


def merchant_suspend(*, merchant_id: str, actor: Actor, reason: str) -> Merchant:
    """Ops staff: the merchant's API keys can read but every write gets 403 `merchant_suspended`,
    and its dashboard refuses changes, until it is reactivated. Audited `merchant.suspend`."""
    reason = _reason_check(reason)
    merchant = merchant_get(merchant_id=merchant_id)
    if merchant.is_suspended:
        raise InvalidState("This merchant is already suspended.", param="status")
    now = clock_now()
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="merchant.suspend",
        entity_type="merchant",
        entity_id=merchant_id,
        before={"status": merchant.status},
        after={"status": MERCHANT_SUSPENDED},
        detail=reason,
        at=now,
    )
    actions = [
        Merchant.status.set(MERCHANT_SUSPENDED),
        Merchant.suspended_reason.set(reason),
        Merchant.suspended_at.set(now),
        Merchant.updated.set(now),
    ]
    _save(merchant, actions=actions, event=event)
    return merchant_get(merchant_id=merchant_id)


def merchant_reactivate(*, merchant_id: str, actor: Actor, reason: str) -> Merchant:
    """Ops staff: undo a suspension; writes work again at once. Audited `merchant.reactivate`."""
    reason = _reason_check(reason)
    merchant = merchant_get(merchant_id=merchant_id)
    if not merchant.is_suspended:
        raise InvalidState("This merchant is not suspended.", param="status")
    now = clock_now()
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="merchant.reactivate",
        entity_type="merchant",
        entity_id=merchant_id,
        before={"status": merchant.status},
        after={"status": MERCHANT_ACTIVE},
        detail=reason,
        at=now,
    )
    actions = [
        Merchant.status.set(MERCHANT_ACTIVE),
        Merchant.suspended_reason.remove(),
        Merchant.suspended_at.remove(),
        Merchant.updated.set(now),
    ]
    _save(merchant, actions=actions, event=event)
    return merchant_get(merchant_id=merchant_id)
