"""Webhook endpoints: create, update, delete, rotate the secret, disable one that keeps failing, and
turn the wave-1 webhook URL of a merchant into its first endpoint. Every change is audited in its
own transaction.

Secrets are sealed like the wave-1 secret (`core.crypto`, context `<merchant_id>:webhook_secret`), so
the wave-1 secret moves to the first endpoint as it is stored. A rotation keeps the previous secret
signing beside the new one for `ROTATION_OVERLAP` (two `v1=` signatures)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import crypto, dynamodb
from core.actor import SYSTEM, Actor
from core.errors import DomainError, ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from core.roles import Role
from merchants.models import Membership, Merchant
from merchants.services.merchants import webhook_url_check
from webhooks.models import WebhookEndpoint, WebhookEventType
from webhooks.schemas import WebhookEndpointOut, WebhookEndpointWithSecretOut
from webhooks.selectors import webhook_endpoint_get, webhook_endpoint_list, webhook_endpoints_forget

logger = logging.getLogger(__name__)

# Adds writes to a create's or rotation's transaction (the idempotent response): called with the
# transaction, the endpoint as it reads after the commit, and its new secret in clear.
AlsoInTransaction = Callable[[TransactWrite, WebhookEndpoint, str], None]

MAX_ENDPOINTS = 16
ROTATION_OVERLAP = timedelta(hours=24)
AUTO_DISABLE_AFTER = timedelta(days=3)
SECRET_PREFIX = "whsec_"
ALL_EVENTS = "*"
LEGACY_DESCRIPTION = "The webhook URL set before endpoints existed"
_SEALED_PREFIX = "enc1:"
# What an endpoint can subscribe to: every event type but the test event.
SUBSCRIBABLE = tuple(t.value for t in WebhookEventType if t is not WebhookEventType.PING)


class TooManyEndpoints(DomainError):
    status = 422
    code = "too_many_webhook_endpoints"
    title = "Too many webhook endpoints"


# --- secrets ---------------------------------------------------------------------------------


def _secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _seal(*, merchant_id: str, secret: str) -> str:
    sealed = crypto.encrypt(secret, context=f"{merchant_id}:webhook_secret")
    return f"{_SEALED_PREFIX}{sealed.key_id}:{sealed.nonce}:{sealed.ciphertext}"


def _reveal(*, merchant_id: str, stored: str | None) -> str | None:
    if not stored or not stored.startswith(_SEALED_PREFIX):
        return stored
    key_id, nonce, ciphertext = stored.removeprefix(_SEALED_PREFIX).split(":")
    return crypto.decrypt(crypto.Sealed(key_id, nonce, ciphertext), context=f"{merchant_id}:webhook_secret")


def webhook_endpoint_secrets(*, endpoint: WebhookEndpoint, at: datetime) -> list[str]:
    """The secrets that sign a delivery at `at`: the current one, then the previous one while its
    overlap lasts. Never log them."""
    current = _reveal(merchant_id=endpoint.merchant_id, stored=endpoint.secret)
    out = [current] if current else []
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and at < expires:
        previous = _reveal(merchant_id=endpoint.merchant_id, stored=endpoint.previous_secret)
        if previous:
            out.append(previous)
    return out


def webhook_endpoint_object(endpoint: WebhookEndpoint, *, secret: str | None = None) -> dict[str, Any]:
    """The API's endpoint object as JSON-ready data (the `ping` event embeds it); `secret` only in the
    answers that create or rotate it."""
    if secret is None:
        return WebhookEndpointOut.from_orm(endpoint).model_dump(mode="json")
    return WebhookEndpointWithSecretOut.from_orm(endpoint, context={"secret": secret}).model_dump(mode="json")


# --- checks ----------------------------------------------------------------------------------


def _url_check(url: str) -> str:
    """https to a public host (`merchants.services.merchants.webhook_url_check`, the SSRF rules),
    answered as 422 `invalid_webhook_url` on `url`."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed("Enter the endpoint's https URL.", param="url", code="invalid_webhook_url")
    try:
        return webhook_url_check(url)
    except ValidationFailed as error:
        raise ValidationFailed(error.detail, param="url", code="invalid_webhook_url") from error


def _events_check(events: list[str] | None) -> list[str]:
    if not events:
        raise ValidationFailed(
            'Name the event types to send, or ["*"] for all of them.', param="events", code="invalid_events"
        )
    chosen = list(dict.fromkeys(events))
    if ALL_EVENTS in chosen:
        return [ALL_EVENTS]
    unknown = [name for name in chosen if name not in SUBSCRIBABLE]
    if unknown:
        raise ValidationFailed(
            f"Unknown event type {unknown[0]!r}; known: {', '.join(SUBSCRIBABLE)}, or *.",
            param="events",
            code="invalid_events",
        )
    return chosen


def _description_check(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > 500:
        raise ValidationFailed("A description has at most 500 characters.", param="description")
    return description


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "events": list(endpoint.events or []),
        "description": endpoint.description or "",
        "disabled": bool(endpoint.disabled),
    }


def _commit(endpoint_write: Any, event: Any, also: Callable[[TransactWrite], None] | None = None) -> None:
    """An endpoint's change with its audit event, in one transaction; then this process's events
    see the merchant's endpoints as they now are."""
    try:
        with TransactWrite(connection=dynamodb.connection()) as transaction:
            endpoint_write(transaction)
            transaction.save(event, condition=audit_condition())
            if also is not None:
                also(transaction)
    finally:  # a failed commit may still have been applied (a timeout): read them again either way
        webhook_endpoints_forget(merchant_id=event.merchant_id)


# --- create, update, delete, rotate ----------------------------------------------------------


def webhook_endpoint_create(
    *,
    merchant_id: str,
    actor: Actor,
    url: str,
    events: list[str],
    description: str | None = None,
    also_in_transaction: AlsoInTransaction | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret in clear (shown this once). At most `MAX_ENDPOINTS` per merchant.
    `also_in_transaction(transaction, endpoint, secret)` adds writes to its transaction."""
    url = _url_check(url)
    events = _events_check(events)
    description = _description_check(description)
    webhook_endpoints_migrate(merchant_id=merchant_id)
    if len(webhook_endpoint_list(merchant_id=merchant_id)) >= MAX_ENDPOINTS:
        raise TooManyEndpoints(f"A merchant has at most {MAX_ENDPOINTS} webhook endpoints; delete one first.")
    now = clock_now()
    secret = _secret_new()
    endpoint = WebhookEndpoint(
        merchant_id=merchant_id,
        endpoint_id=new_id("we", now),
        url=url,
        events=events,
        description=description,
        secret=_seal(merchant_id=merchant_id, secret=secret),
        disabled=False,
        legacy=False,
        created=now,
        updated=now,
    )
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="webhook_endpoint.create",
        entity_type="webhook_endpoint",
        entity_id=endpoint.endpoint_id,
        after=_snapshot(endpoint),
        at=now,
    )
    _commit(
        lambda t: t.save(endpoint, condition=WebhookEndpoint.endpoint_id.does_not_exist()),
        event,
        None if also_in_transaction is None else lambda t: also_in_transaction(t, endpoint, secret),
    )
    return endpoint, secret


def webhook_endpoint_update(
    *,
    merchant_id: str,
    endpoint_id: str,
    actor: Actor,
    url: str | None = None,
    events: list[str] | None = None,
    disabled: bool | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    """Change what is given (None leaves a field as it is). Enabling an endpoint clears its failure run."""
    endpoint = webhook_endpoint_get(merchant_id=merchant_id, endpoint_id=endpoint_id)
    before = _snapshot(endpoint)
    now = clock_now()
    actions: list[Any] = [WebhookEndpoint.updated.set(now)]
    if url is not None:
        endpoint.url = _url_check(url)
        actions.append(WebhookEndpoint.url.set(endpoint.url))
    if events is not None:
        endpoint.events = _events_check(events)
        actions.append(WebhookEndpoint.events.set(endpoint.events))
    if description is not None:
        endpoint.description = _description_check(description)
        actions.append(WebhookEndpoint.description.set(endpoint.description))
    if disabled is not None:
        endpoint.disabled = bool(disabled)
        actions.append(WebhookEndpoint.disabled.set(endpoint.disabled))
        if not disabled:
            actions += [WebhookEndpoint.failing_since.remove(), WebhookEndpoint.disabled_reason.remove()]
        else:
            actions.append(WebhookEndpoint.disabled_reason.set("disabled by the merchant"))
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="webhook_endpoint.update",
        entity_type="webhook_endpoint",
        entity_id=endpoint_id,
        before=before,
        after=_snapshot(endpoint),
        at=now,
    )
    _commit(
        lambda t: t.update(endpoint, actions=actions, condition=WebhookEndpoint.endpoint_id.exists()),
        event,
    )
    return webhook_endpoint_get(merchant_id=merchant_id, endpoint_id=endpoint_id)


def webhook_endpoint_delete(*, merchant_id: str, endpoint_id: str, actor: Actor) -> WebhookEndpoint:
    """Delete an endpoint; its pending deliveries end as failed at their next attempt."""
    endpoint = webhook_endpoint_get(merchant_id=merchant_id, endpoint_id=endpoint_id)
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="webhook_endpoint.delete",
        entity_type="webhook_endpoint",
        entity_id=endpoint_id,
        before=_snapshot(endpoint),
        at=clock_now(),
    )
    _commit(lambda t: t.delete(endpoint, condition=WebhookEndpoint.endpoint_id.exists()), event)
    return endpoint


def webhook_endpoint_rotate_secret(
    *, merchant_id: str, endpoint_id: str, actor: Actor, also_in_transaction: AlsoInTransaction | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned in clear, shown once); the current one keeps signing beside it for
    `ROTATION_OVERLAP`. The audit event says that it rotated, never a secret. Returns the endpoint
    as it reads after the rotation; `also_in_transaction` as for a create."""
    endpoint = webhook_endpoint_get(merchant_id=merchant_id, endpoint_id=endpoint_id)
    now = clock_now()
    secret = _secret_new()
    current, sealed = endpoint.secret, _seal(merchant_id=merchant_id, secret=secret)
    actions = [
        WebhookEndpoint.secret.set(sealed),
        WebhookEndpoint.previous_secret.set(current),
        WebhookEndpoint.previous_secret_expires_at.set(now + ROTATION_OVERLAP),
        WebhookEndpoint.updated.set(now),
    ]
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="webhook_endpoint.rotate_secret",
        entity_type="webhook_endpoint",
        entity_id=endpoint_id,
        detail="The signing secret was replaced; the previous one signs beside it for 24 hours.",
        at=now,
    )
    # The endpoint as it reads after the commit (the response and its idempotent copy are built from it).
    changed = {"secret": sealed, "previous_secret": current, "previous_secret_expires_at": now + ROTATION_OVERLAP}
    rotated = WebhookEndpoint(**endpoint.attribute_values | changed | {"updated": now})
    _commit(
        lambda t: t.update(endpoint, actions=actions, condition=WebhookEndpoint.secret == current),
        event,
        None if also_in_transaction is None else lambda t: also_in_transaction(t, rotated, secret),
    )
    return rotated, secret


def webhook_endpoint_secret_reveal(*, endpoint: WebhookEndpoint) -> str | None:
    """The current secret in clear, for the Developers page (admins only; never log it)."""
    return _reveal(merchant_id=endpoint.merchant_id, stored=endpoint.secret)


def webhook_endpoint_secret_unseal(*, merchant_id: str, stored: str) -> str | None:
    """A secret as the endpoint item stores it, in clear (an idempotent replay's; never log it)."""
    return _reveal(merchant_id=merchant_id, stored=stored)


# --- failures --------------------------------------------------------------------------------


def webhook_endpoint_outcome(*, endpoint: WebhookEndpoint, ok: bool, at: datetime) -> bool:
    """Record an attempt's outcome on the endpoint: a success ends a run of failures; a failure starts
    one, and one that has lasted `AUTO_DISABLE_AFTER` disables the endpoint (audited). True when this
    call disabled it."""
    try:
        if ok:
            if endpoint.failing_since is not None:
                endpoint.update(actions=[WebhookEndpoint.failing_since.remove()])
            return False
        if endpoint.failing_since is None:
            endpoint.update(
                actions=[WebhookEndpoint.failing_since.set(at)],
                condition=WebhookEndpoint.failing_since.does_not_exist(),
            )
            return False
    except Exception:  # bookkeeping only: the delivery's own outcome is already recorded
        return False
    if endpoint.disabled or at - endpoint.failing_since < AUTO_DISABLE_AFTER:
        return False
    reason = f"every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC"
    event = audit_event_new(
        merchant_id=endpoint.merchant_id,
        actor=SYSTEM,
        action="webhook_endpoint.auto_disable",
        entity_type="webhook_endpoint",
        entity_id=endpoint.endpoint_id,
        before=_snapshot(endpoint),
        after={**_snapshot(endpoint), "disabled": True},
        detail=f"Disabled automatically: {reason}.",
        at=at,
    )
    try:
        _commit(
            lambda t: t.update(
                endpoint,
                actions=[
                    WebhookEndpoint.disabled.set(True),
                    WebhookEndpoint.disabled_reason.set(reason),
                    WebhookEndpoint.updated.set(at),
                ],
                condition=WebhookEndpoint.disabled == False,  # noqa: E712  (a DynamoDB condition)
            ),
            event,
        )
    except TransactWriteError:  # another worker disabled it first
        return False
    _admins_notify(endpoint=endpoint, reason=reason)
    return True


def _admins_notify(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """Email the merchant's admins that an endpoint was disabled (Django's email backend)."""
    recipients = sorted(
        {
            m.user.email
            for m in Membership.objects.filter(merchant_id=endpoint.merchant_id, role=Role.ADMIN).select_related("user")
            if m.user.email and m.user.is_active
        }
    )
    if not recipients:
        return
    try:
        send_mail(
            subject="Paysite: a webhook endpoint was disabled",
            message=(
                f"The webhook endpoint {endpoint.url} ({endpoint.endpoint_id}) was disabled: {reason}.\n"
                "Fix the endpoint, then enable it again on the Developers page. Events that happen while it is "
                "disabled are not sent to it; the Events API lists them for 30 days."
            ),
            from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
            recipient_list=recipients,
        )
    except Exception:  # the endpoint is disabled and audited either way
        logger.exception("webhook endpoint %s: could not email the admins", endpoint.endpoint_id)


# --- the wave-1 webhook URL ------------------------------------------------------------------


def webhook_endpoints_migrate(*, merchant_id: str, actor: Actor = SYSTEM) -> WebhookEndpoint | None:
    """Turn the merchant's wave-1 webhook URL into its first endpoint (events `["*"]`, the same
    secret), in one transaction with the URL's removal from the merchant and an audit event; the
    condition on the URL makes two concurrent migrations yield one endpoint. Pending wave-1
    deliveries (without `endpoint_id`) then go to this `legacy` endpoint. Returns the endpoint,
    or None when there was nothing to migrate. Runs lazily on the first endpoint read or write."""
    try:
        merchant = Merchant.get(merchant_id, consistent_read=True)
    except DoesNotExist:
        return None
    if not merchant.webhook_url:
        return None
    now = clock_now()
    existing = next((e for e in webhook_endpoint_list(merchant_id=merchant_id) if e.legacy), None)
    endpoint = existing or WebhookEndpoint(
        merchant_id=merchant_id,
        endpoint_id=new_id("we", now),
        events=[ALL_EVENTS],
        description=LEGACY_DESCRIPTION,
        disabled=False,
        legacy=True,
        created=now,
    )
    endpoint.url = merchant.webhook_url
    endpoint.secret = merchant.webhook_secret or _seal(merchant_id=merchant_id, secret=_secret_new())
    endpoint.updated = now
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="webhook_endpoint.migrate",
        entity_type="webhook_endpoint",
        entity_id=endpoint.endpoint_id,
        after=_snapshot(endpoint),
        detail="The merchant's webhook URL became a webhook endpoint for every event type.",
        at=now,
    )
    try:
        with TransactWrite(connection=dynamodb.connection()) as transaction:
            transaction.save(endpoint)
            transaction.update(
                merchant,
                actions=[Merchant.webhook_url.remove(), Merchant.updated.set(now)],
                condition=Merchant.webhook_url == merchant.webhook_url,
            )
            transaction.save(event, condition=audit_condition())
    except TransactWriteError:
        return None  # migrated (or changed) by someone else meanwhile: their endpoint stands
    return endpoint
