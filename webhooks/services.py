"""Webhook events and their delivery.

An event is a `WebhookDelivery` item written in the same TransactWriteItems as the change it reports
(so it exists exactly when the change does), then handed to the `webhook_deliver` task. Each attempt
is claimed with a condition on `attempt_count`, so a task that runs twice sends once; every attempt
is recorded; a failure is retried with exponential backoff until the window after the event closes.

Sending goes through `core.egress`: the host is resolved at that moment and only a public address is
connected to (the address that was checked), no redirect is followed and at most
`RESPONSE_READ_LIMIT` bytes of the answer are read. A destination the rules refuse ends the delivery
as `refused`, with the reason in its attempt; it is not retried."""

from __future__ import annotations

import http.client
import logging
import ssl
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, UpdateError

from core import egress
from core.ids import new_id
from core.ids import now as clock_now
from core.wire import rfc3339, to_json
from merchants.models import Merchant
from merchants.services.merchants import merchant_webhook_secret_reveal
from webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEventType
from webhooks.signing import SIGNATURE_HEADER, webhook_signature_header

logger = logging.getLogger(__name__)

EVENT_TYPES = tuple(WebhookEventType)  # kept for callers that iterate them; prefer `WebhookEventType`
RESPONSE_READ_LIMIT = 64 * 1024  # bytes of an endpoint's answer read at most; the rest is never received
REFUSED_PREFIX = "refused: "


def webhook_retry_delay(*, failed_attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: base, doubling, capped (30 s, 1 min, 2 min, ... 1 h)."""
    base, cap = settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** max(0, failed_attempts - 1)))


def webhook_event_new(
    *, merchant_id: str, event_type: WebhookEventType | str, entity_id: str, data_object: dict[str, Any], at: datetime
) -> WebhookDelivery | None:
    """The pending delivery of one event, for the caller's transaction; None when the merchant has no
    webhook URL. The payload is fixed here: every attempt POSTs the same bytes."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    try:
        merchant = Merchant.get(merchant_id, attributes_to_get=["merchant_id", "webhook_url"])
    except DoesNotExist:
        return None
    if not merchant.webhook_url:
        return None
    event_id = new_id("evt", at)
    payload = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": rfc3339(at),
        "data": {"object": data_object},
    }
    return WebhookDelivery(
        merchant_id=merchant_id,
        event_id=event_id,
        event_type=event_type,
        entity_id=entity_id,
        url=merchant.webhook_url,
        payload=to_json(payload),
        status=DeliveryStatus.PENDING,
        attempts=[],
        attempt_count=0,
        next_attempt_at=at,
        created=at,
        expires_at=at + timedelta(days=settings.WEBHOOK_RETENTION_DAYS),
    )


def webhook_event_condition() -> Any:
    return WebhookDelivery.event_id.does_not_exist()


def _claim(delivery: WebhookDelivery, attempt: int) -> bool:
    try:
        delivery.update(
            actions=[WebhookDelivery.attempt_count.set(attempt + 1)],
            condition=(WebhookDelivery.status == DeliveryStatus.PENDING) & (WebhookDelivery.attempt_count == attempt),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _post(url: str, body: bytes, signature: str) -> tuple[int | None, str | None]:
    """One POST; the status code, and an error unless the answer was 2xx. An error starting with
    `REFUSED_PREFIX` means the destination broke the egress rules and nothing was sent."""
    try:
        destination = egress.destination_resolve(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS)
    except egress.EgressRefused as refusal:
        logger.warning("webhook to %s refused: %s (%s)", urlsplit(url).hostname, refusal.reason, refusal.address)
        return None, REFUSED_PREFIX + refusal.reason
    except OSError:  # the name does not resolve (now): retried like an unreachable endpoint
        return None, "NameResolutionError"
    try:
        status_code = egress.post(
            destination,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Paysite-Webhooks/1",
                SIGNATURE_HEADER: signature,
            },
            connect_timeout=min(3.0, settings.WEBHOOK_TIMEOUT_SECONDS),
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            max_response_bytes=RESPONSE_READ_LIMIT,
        )
    except TimeoutError:
        return None, "timeout"
    except ssl.SSLError:
        return None, "SSLError"
    except (OSError, http.client.HTTPException):
        return None, "ConnectionError"
    if 200 <= status_code < 300:
        return status_code, None
    return status_code, f"HTTP {status_code}"


def webhook_delivery_attempt(
    *, merchant_id: str, event_id: str, attempt: int, now: datetime | None = None
) -> WebhookDelivery | None:
    """Make attempt number `attempt` (0-based) of one delivery: POST the stored payload, signed with
    the merchant's current secret, to the merchant's current URL, and record the outcome. Returns
    None when there is nothing to do (already delivered or failed, or another worker claimed it)."""
    try:
        delivery = WebhookDelivery.get(merchant_id, event_id, consistent_read=True)
    except DoesNotExist:
        return None
    if (
        delivery.status != DeliveryStatus.PENDING
        or int(delivery.attempt_count or 0) != attempt
        or not _claim(delivery, attempt)
    ):
        return None

    at = now or clock_now()
    try:
        merchant = Merchant.get(merchant_id)
    except DoesNotExist:
        merchant = None
    url = merchant.webhook_url if merchant is not None else None
    secret = merchant_webhook_secret_reveal(merchant=merchant) if merchant is not None else None
    started = time.monotonic()
    if not url or not secret:
        status_code, error = None, "webhook_url_removed"
    else:
        body = delivery.payload.encode("utf-8")
        status_code, error = _post(
            url, body, webhook_signature_header(secret=secret, body=body, timestamp=int(at.timestamp()))
        )
    record = WebhookAttempt(
        at=at, status_code=status_code, error=error, duration_ms=int((time.monotonic() - started) * 1000)
    )

    actions = [WebhookDelivery.attempts.set((WebhookDelivery.attempts | []).append([record]))]
    if url:
        actions.append(WebhookDelivery.url.set(url))
    retry_at = None
    if error is None:
        actions += [
            WebhookDelivery.status.set(DeliveryStatus.DELIVERED),
            WebhookDelivery.delivered_at.set(at),
            WebhookDelivery.next_attempt_at.remove(),
        ]
    else:
        retry_at = at + webhook_retry_delay(failed_attempts=attempt + 1)
        deadline = delivery.created + timedelta(hours=settings.WEBHOOK_RETRY_WINDOW_HOURS)
        if error.startswith(REFUSED_PREFIX):
            retry_at = None
            actions += [WebhookDelivery.status.set(DeliveryStatus.REFUSED), WebhookDelivery.next_attempt_at.remove()]
        elif error == "webhook_url_removed" or retry_at > deadline:
            retry_at = None
            actions += [WebhookDelivery.status.set(DeliveryStatus.FAILED), WebhookDelivery.next_attempt_at.remove()]
        else:
            actions.append(WebhookDelivery.next_attempt_at.set(retry_at))
    delivery.update(actions=actions, condition=WebhookDelivery.attempt_count == attempt + 1)
    logger.info(
        "webhook %s %s attempt %d to %s: %s",
        delivery.event_id,
        delivery.event_type,
        attempt + 1,
        urlsplit(url).hostname if url else "-",
        status_code if error is None else error,
    )
    return delivery
