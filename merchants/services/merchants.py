from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import NoReturn
from urllib.parse import urlsplit

from django.conf import settings
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import crypto, dynamodb, egress
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from core.money import CURRENCIES
from merchants.models import Merchant
from merchants.selectors import merchant_get
from merchants.zones import zone_remember


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
    if webhook_url:
        webhook_url = webhook_url_check(webhook_url)
    now = datetime.now(UTC)
    merchant_id = new_id("mer", now)
    merchant = Merchant(
        merchant_id=merchant_id,
        name=name,
        default_currency=currency,
        rate_limit_per_minute=rate_limit_per_minute,
        webhook_url=webhook_url,
        webhook_secret=_webhook_secret_seal(merchant_id=merchant_id, secret=_webhook_secret_new()),
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
    zone_remember(merchant)  # UTC days until a time zone is set
    return merchant


# --- webhook endpoint ------------------------------------------------------------------------

WEBHOOK_SECRET_PREFIX = "whsec_"
_SEALED_PREFIX = "enc1:"


def _webhook_secret_new() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)


def _webhook_secret_seal(*, merchant_id: str, secret: str) -> str:
    """Webhook secrets must be recoverable to sign with, so they are encrypted, not hashed."""
    sealed = crypto.encrypt(secret, context=f"{merchant_id}:webhook_secret")
    return f"{_SEALED_PREFIX}{sealed.key_id}:{sealed.nonce}:{sealed.ciphertext}"


def merchant_webhook_secret_reveal(*, merchant: Merchant) -> str | None:
    """The clear signing secret (for the signer and the Developers page; never log it)."""
    stored = merchant.webhook_secret
    if not stored or not stored.startswith(_SEALED_PREFIX):
        return stored  # written before secrets were sealed
    key_id, nonce, ciphertext = stored.removeprefix(_SEALED_PREFIX).split(":")
    return crypto.decrypt(crypto.Sealed(key_id, nonce, ciphertext), context=f"{merchant.merchant_id}:webhook_secret")


def webhook_url_check(url: str) -> str:
    """A webhook URL must be https to a public host name (SSRF): an address literal in any notation
    (`127.1`, `0x7f.1`, `2130706433`, `93.184.216.34`, `[::ffff:127.0.0.1]`) is refused, and a name
    must not resolve to any non-public address. A name that does not resolve now is
    accepted: every delivery resolves and checks it again (`core.egress`). With
    WEBHOOK_ALLOW_PRIVATE_URLS (development) loopback and private hosts pass, and so does plain http
    to them."""
    url = (url or "").strip()
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    if len(url) > 2048 or not parts.hostname or port is None or parts.username or parts.password or parts.fragment:
        _webhook_url_invalid(
            "Enter an absolute URL such as https://example.com/webhooks, without credentials or fragment."
        )
    if parts.scheme not in ("https", "http"):
        _webhook_url_invalid("The webhook URL must use https (http only for a local receiver in development).")
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    if not allow_private and _is_address_literal(parts.hostname):
        _webhook_url_invalid(
            "The webhook URL must name its host (https://hooks.example.com/...), not an IP address.",
            code="webhook_url_not_public",
        )
    try:
        addresses = egress.host_resolve(parts.hostname, port, allow_private=allow_private)
    except egress.EgressRefused as refusal:
        _webhook_url_invalid(f"The webhook URL must be a public host: {refusal.reason}.", code="webhook_url_not_public")
    except OSError:  # does not resolve here and now: checked at every delivery
        addresses = ()
    if parts.scheme == "http":
        local = egress.is_local_name(parts.hostname) or (
            addresses and not any(egress.address_allowed(address) for address in addresses)
        )
        if not (allow_private and local):
            _webhook_url_invalid("The webhook URL must use https (http only for a local receiver in development).")
    return url


def _is_address_literal(host: str) -> bool:
    try:
        return egress.host_literal(host) is not None
    except ValueError:  # neither an address nor a name: `host_resolve` names the problem
        return False


def _webhook_url_invalid(detail: str, *, code: str = "invalid_webhook_url") -> NoReturn:
    raise ValidationFailed(detail, param="webhook_url", code=code)


def merchant_webhook_url_set(*, merchant_id: str, actor: Actor, url: str | None) -> Merchant:
    """Set (or with an empty value remove) the merchant's webhook URL; audited in the same transaction.
    A merchant without a secret gets one."""
    new_url = webhook_url_check(url) if url else None
    merchant = merchant_get(merchant_id=merchant_id)
    now = clock_now()
    actions = [Merchant.updated.set(now)]
    actions.append(Merchant.webhook_url.set(new_url) if new_url else Merchant.webhook_url.remove())
    if not merchant.webhook_secret:
        actions.append(
            Merchant.webhook_secret.set(_webhook_secret_seal(merchant_id=merchant_id, secret=_webhook_secret_new()))
        )
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="merchant.webhook_url.update",
        entity_type="merchant",
        entity_id=merchant_id,
        before={"webhook_url": merchant.webhook_url},
        after={"webhook_url": new_url},
        at=now,
    )
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.update(merchant, actions=actions)
        transaction.save(event, condition=audit_condition())
    return merchant_get(merchant_id=merchant_id)


def merchant_webhook_secret_rotate(*, merchant_id: str, actor: Actor) -> str:
    """Replace the signing secret at once and return the new one (shown once to the user). The audit
    event records that it rotated, never a secret."""
    merchant = merchant_get(merchant_id=merchant_id)
    secret = _webhook_secret_new()
    now = clock_now()
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="merchant.webhook_secret.rotate",
        entity_type="merchant",
        entity_id=merchant_id,
        detail="The webhook signing secret was replaced.",
        at=now,
    )
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.update(
            merchant,
            actions=[
                Merchant.webhook_secret.set(_webhook_secret_seal(merchant_id=merchant_id, secret=secret)),
                Merchant.updated.set(now),
            ],
        )
        transaction.save(event, condition=audit_condition())
    return secret
