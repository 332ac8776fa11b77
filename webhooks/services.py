"""Webhook events and their delivery.

An event is an `Event` item written in the same TransactWriteItems as the change it reports (so it
exists exactly when the change does), for every merchant: the Events API lists it. It names the
endpoints subscribed to its type at that moment (`fanout`); right after the commit one
`WebhookDelivery` per endpoint is created from it (`webhook_event_fan_out`, idempotent; the sweep
finishes a fan-out a stopped process left) and handed to the `webhook_deliver` task. Each attempt
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
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from core import egress
from core.ids import new_id
from core.ids import now as clock_now
from core.wire import rfc3339, to_json
from merchants.models import Merchant
from merchants.selectors import merchant_read_by_this_request
from merchants.services.merchants import merchant_webhook_secret_reveal
from webhooks.endpoints import webhook_endpoint_outcome, webhook_endpoint_secrets
from webhooks.models import DeliveryStatus, Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEventType
from webhooks.selectors import webhook_endpoint_list, webhook_endpoints_for_events
from webhooks.signing import SIGNATURE_HEADER, webhook_signature_header

logger = logging.getLogger(__name__)

EVENT_TYPES = tuple(WebhookEventType)  # kept for callers that iterate them; prefer `WebhookEventType`
RESPONSE_READ_LIMIT = 64 * 1024  # bytes of an endpoint's answer read at most; the rest is never received
REFUSED_PREFIX = "refused: "
EVENT_RETENTION = timedelta(days=30)  # the Events API's window (API.md); the table's TTL
LEGACY_TARGET = "url"  # in `Event.fanout`: the merchant's wave-1 webhook URL, not yet an endpoint


def webhook_retry_delay(*, failed_attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: base, doubling, capped (30 s, 1 min, 2 min, ... 1 h)."""
    base, cap = settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** max(0, failed_attempts - 1)))


def _fanout_targets(*, merchant_id: str, event_type: str) -> list[str]:
    """`"<endpoint id> <url>"` for each enabled endpoint subscribed to `event_type`, and the wave-1 URL
    (`"url <url>"`) while it is not an endpoint yet (it then stands in for the endpoint made from it)."""
    merchant = merchant_read_by_this_request(merchant_id=merchant_id)  # an API write read it with its key
    if merchant is None:
        try:
            merchant = Merchant.get(merchant_id, attributes_to_get=["merchant_id", "webhook_url", "created"])
        except DoesNotExist:
            return []
    targets = [
        f"{endpoint.endpoint_id} {endpoint.url}"
        for endpoint in webhook_endpoints_for_events(merchant_id=merchant_id, merchant_created=merchant.created)
        if not endpoint.disabled and endpoint.subscribes(event_type) and not (endpoint.legacy and merchant.webhook_url)
    ]
    if merchant.webhook_url:
        targets.append(f"{LEGACY_TARGET} {merchant.webhook_url}")
    return targets


def webhook_event_new(
    *, merchant_id: str, event_type: WebhookEventType | str, entity_id: str, data_object: dict[str, Any], at: datetime
) -> Event:
    """The event, for the caller's transaction (`transaction.save(event, condition=webhook_event_condition())`),
    then `webhooks.tasks.webhook_delivery_enqueue(delivery=event)` after the commit creates and queues
    its deliveries. Written for every merchant, with or without endpoints. The payload is fixed here:
    the Events API returns it and every attempt of every delivery POSTs the same bytes."""
    if event_type not in EVENT_TYPES or event_type == WebhookEventType.PING:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    event_id = new_id("evt", at)
    payload = {
        "id": event_id,
        "object": "event",
        "type": str(event_type),
        "created": rfc3339(at),
        "data": {"object": data_object},
    }
    targets = _fanout_targets(merchant_id=merchant_id, event_type=event_type)
    return Event(
        merchant_id=merchant_id,
        event_id=event_id,
        event_type=str(event_type),
        entity_id=entity_id,
        payload=to_json(payload),
        created=at,
        expires_at=at + EVENT_RETENTION,
        fanout=targets or None,
    )


def webhook_event_condition() -> Any:
    return Event.event_id.does_not_exist()


def _delivery_new(event: Event, *, target: str, url: str, delivery_id: str, at: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        merchant_id=event.merchant_id,
        event_id=delivery_id,
        event_type=event.event_type,
        entity_id=event.entity_id,
        url=url,  # where it goes now; each attempt reads the endpoint's URL again and records it
        payload=event.payload,
        status=DeliveryStatus.PENDING,
        attempts=[],
        attempt_count=0,
        next_attempt_at=at,
        created=event.created,
        expires_at=event.created + timedelta(days=settings.WEBHOOK_RETENTION_DAYS),
        endpoint_id=None if target == LEGACY_TARGET else target,
    )


def webhook_event_fan_out(*, event: Event) -> list[WebhookDelivery]:
    """One pending delivery per endpoint the event names, then the event's `fanout` is cleared.
    Idempotent: a delivery that exists already is neither written again nor returned. The wave-1
    URL's delivery keeps the wave-1 key (the event id); an endpoint's is `<event id>:<endpoint id>`."""
    created = []
    for entry in event.fanout or []:
        target, _, url = entry.partition(" ")
        delivery_id = event.event_id if target == LEGACY_TARGET else f"{event.event_id}:{target}"
        delivery = _delivery_new(event, target=target, url=url, delivery_id=delivery_id, at=event.created)
        try:
            delivery.save(condition=WebhookDelivery.event_id.does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        created.append(delivery)
    if event.fanout:
        event.update(actions=[Event.fanout.remove()])
    return created


def webhook_ping_new(*, endpoint: WebhookEndpoint, data_object: dict[str, Any], at: datetime) -> WebhookDelivery:
    """A `ping` event for one endpoint ("Send test event"): a delivery only, not an event of the
    Events API (it reports no change)."""
    event_id = new_id("evt", at)
    payload = {
        "id": event_id,
        "object": "event",
        "type": WebhookEventType.PING.value,
        "created": rfc3339(at),
        "data": {"object": data_object},
    }
    event = Event(
        merchant_id=endpoint.merchant_id,
        event_id=event_id,
        event_type=WebhookEventType.PING.value,
        entity_id=endpoint.endpoint_id,
        payload=to_json(payload),
        created=at,
        expires_at=at + EVENT_RETENTION,
    )
    delivery = _delivery_new(
        event, target=endpoint.endpoint_id, url=endpoint.url, delivery_id=f"{event_id}:{endpoint.endpoint_id}", at=at
    )
    delivery.save(condition=WebhookDelivery.event_id.does_not_exist())
    return delivery


def webhook_delivery_resend(*, merchant_id: str, delivery: WebhookDelivery, at: datetime) -> WebhookDelivery:
    """Make an ended delivery pending again with a fresh retry window, so its next attempt goes now."""
    if delivery.status != DeliveryStatus.PENDING:
        delivery.update(
            actions=[
                WebhookDelivery.status.set(DeliveryStatus.PENDING),
                WebhookDelivery.next_attempt_at.set(at),
                WebhookDelivery.resent_at.set(at),
            ],
            condition=(WebhookDelivery.status == delivery.status)
            & (WebhookDelivery.attempt_count == delivery.attempt_count),
        )
    return delivery


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


ENDED = frozenset({"webhook_url_removed", "webhook_endpoint_deleted", "webhook_endpoint_disabled"})


def _destination(delivery: WebhookDelivery, at: datetime) -> tuple[WebhookEndpoint | None, str, list[str], str | None]:
    """Where an attempt goes and the secrets that sign it, read now: (endpoint, url, secrets, error).
    A wave-1 delivery goes to the merchant's URL, or once that became an endpoint, to that endpoint.
    The error ends the delivery without sending (endpoint deleted or disabled, URL removed)."""
    endpoint = None
    if delivery.endpoint_id:
        try:
            endpoint = WebhookEndpoint.get(delivery.merchant_id, delivery.endpoint_id, consistent_read=True)
        except DoesNotExist:
            return None, "", [], "webhook_endpoint_deleted"
    else:
        try:
            merchant = Merchant.get(delivery.merchant_id)
        except DoesNotExist:
            merchant = None
        if merchant is not None and merchant.webhook_url:
            secret = merchant_webhook_secret_reveal(merchant=merchant)
            return None, merchant.webhook_url, [secret] if secret else [], None if secret else "webhook_url_removed"
        endpoint = next((e for e in webhook_endpoint_list(merchant_id=delivery.merchant_id) if e.legacy), None)
        if endpoint is None:
            return None, "", [], "webhook_url_removed"
    if endpoint.disabled:
        return endpoint, endpoint.url, [], "webhook_endpoint_disabled"
    keys = webhook_endpoint_secrets(endpoint=endpoint, at=at)
    return endpoint, endpoint.url, keys, None if keys else "webhook_endpoint_deleted"


def webhook_delivery_attempt(
    *, merchant_id: str, event_id: str, attempt: int, now: datetime | None = None
) -> WebhookDelivery | None:
    """Make attempt number `attempt` (0-based) of one delivery: POST the stored payload to its endpoint's
    current URL, signed with the endpoint's current secret (and a rotated one while it still signs),
    record the outcome on the delivery and the endpoint's failure run. Returns
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
    endpoint, url, keys, ended = _destination(delivery, at)
    started = time.monotonic()
    if ended:
        status_code, error = None, ended
    else:
        body = delivery.payload.encode("utf-8")
        header = webhook_signature_header(
            secret=keys[0], body=body, timestamp=int(at.timestamp()), also=tuple(keys[1:])
        )
        status_code, error = _post(url, body, header)
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
        deadline = (delivery.resent_at or delivery.created) + timedelta(hours=settings.WEBHOOK_RETRY_WINDOW_HOURS)
        if error.startswith(REFUSED_PREFIX):
            retry_at = None
            actions += [WebhookDelivery.status.set(DeliveryStatus.REFUSED), WebhookDelivery.next_attempt_at.remove()]
        elif error in ENDED or retry_at > deadline:
            retry_at = None
            actions += [WebhookDelivery.status.set(DeliveryStatus.FAILED), WebhookDelivery.next_attempt_at.remove()]
        else:
            actions.append(WebhookDelivery.next_attempt_at.set(retry_at))
    delivery.update(actions=actions, condition=WebhookDelivery.attempt_count == attempt + 1)
    if endpoint is not None and error not in ENDED:
        webhook_endpoint_outcome(endpoint=endpoint, ok=error is None, at=at)
    logger.info(
        "webhook %s %s attempt %d to %s: %s",
        delivery.event_id,
        delivery.event_type,
        attempt + 1,
        urlsplit(url).hostname if url else "-",
        status_code if error is None else error,
    )
    return delivery
