"""The webhooks router: webhook endpoints (`/webhook-endpoints`) and events (`/events`), thin
operations over the webhook selectors, services and tasks."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from core.errors import ValidationFailed
from core.problems import Problem
from core.wire import rfc3339
from webhooks.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_object,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
    webhook_endpoints_migrate,
)
from webhooks.models import Event, WebhookDelivery
from webhooks.schemas import (
    EventFilters,
    EventListOut,
    EventOut,
    WebhookDeliveryOut,
    WebhookEndpointDeletedOut,
    WebhookEndpointFilters,
    WebhookEndpointIn,
    WebhookEndpointListOut,
    WebhookEndpointOut,
    WebhookEndpointUpdateIn,
    WebhookEndpointWithSecretOut,
)
from webhooks.selectors import event_get, event_list_for_merchant, webhook_endpoint_get, webhook_endpoint_page
from webhooks.tasks import webhook_endpoint_ping

router = Router(tags=["webhooks"])

_COMMON = {401: Problem, 429: Problem, 503: Problem}  # auth, the merchant's rate limit, storage down


def event_object(event: Event) -> dict[str, Any]:
    """The event exactly as the webhooks send it."""
    return json.loads(event.payload)


def delivery_object(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.event_id,
        "object": "webhook_delivery",
        "event_id": delivery.evt_id,
        "endpoint_id": delivery.endpoint_id,
        "type": delivery.event_type,
        "status": delivery.status,
        "attempts": [
            {
                "at": rfc3339(attempt.at),
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
            }
            for attempt in delivery.attempts or []
        ],
        "created": rfc3339(delivery.created),
    }


# --- webhook endpoints -----------------------------------------------------------------------


@router.post(
    "/webhook-endpoints",
    response={201: WebhookEndpointWithSecretOut, 413: Problem, 422: Problem, **_COMMON},
    summary="Create a webhook endpoint",
    description="At most 16 per merchant (422 `too_many_webhook_endpoints`). The URL must be https to a public "
    "host (422 `invalid_webhook_url`). The signing `secret` is in this response only.",
)
def webhook_endpoint_create_api(request: HttpRequest, payload: WebhookEndpointIn):
    endpoint, secret = webhook_endpoint_create(
        merchant_id=request.auth.merchant_id,
        actor=request.auth.actor,
        url=payload.url,
        events=payload.events,
        description=payload.description,
    )
    return Status(201, webhook_endpoint_object(endpoint, secret=secret))


@router.get(
    "/webhook-endpoints",
    response={200: WebhookEndpointListOut, 404: Problem, 422: Problem, **_COMMON},
    summary="List webhook endpoints, newest first",
)
def webhook_endpoint_list_api(request: HttpRequest, filters: Query[WebhookEndpointFilters]):
    merchant_id = request.auth.merchant_id
    webhook_endpoints_migrate(merchant_id=merchant_id)
    page = webhook_endpoint_page(merchant_id=merchant_id, limit=filters.limit, starting_after=filters.starting_after)
    return {
        "object": "list",
        "data": [webhook_endpoint_object(endpoint) for endpoint in page.items],
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/webhook-endpoints/{endpoint_id}",
    response={200: WebhookEndpointOut, 404: Problem, **_COMMON},
    summary="Retrieve a webhook endpoint",
)
def webhook_endpoint_retrieve_api(request: HttpRequest, endpoint_id: str):
    webhook_endpoints_migrate(merchant_id=request.auth.merchant_id)
    return webhook_endpoint_object(webhook_endpoint_get(merchant_id=request.auth.merchant_id, endpoint_id=endpoint_id))


@router.post(
    "/webhook-endpoints/{endpoint_id}",
    response={200: WebhookEndpointOut, 404: Problem, 413: Problem, 422: Problem, **_COMMON},
    summary="Update a webhook endpoint",
    description="Changes what is given: `url`, `events`, `disabled` (and `description`).",
)
def webhook_endpoint_update_api(request: HttpRequest, endpoint_id: str, payload: WebhookEndpointUpdateIn):
    endpoint = webhook_endpoint_update(
        merchant_id=request.auth.merchant_id,
        endpoint_id=endpoint_id,
        actor=request.auth.actor,
        url=payload.url,
        events=payload.events,
        disabled=payload.disabled,
        description=payload.description,
    )
    return webhook_endpoint_object(endpoint)


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    response={200: WebhookEndpointDeletedOut, 404: Problem, **_COMMON},
    summary="Delete a webhook endpoint",
    description="Its pending deliveries end as failed (`webhook_endpoint_deleted`).",
)
def webhook_endpoint_delete_api(request: HttpRequest, endpoint_id: str):
    endpoint = webhook_endpoint_delete(
        merchant_id=request.auth.merchant_id, endpoint_id=endpoint_id, actor=request.auth.actor
    )
    return {"id": endpoint.endpoint_id, "object": "webhook_endpoint", "deleted": True}


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response={200: WebhookEndpointWithSecretOut, 404: Problem, **_COMMON},
    summary="Rotate a webhook endpoint's signing secret",
    description="The new `secret` is in this response only. The previous secret keeps signing beside it for 24 "
    "hours: `X-Paysite-Signature: t=...,v1=<new>,v1=<old>`.",
)
def webhook_endpoint_rotate_api(request: HttpRequest, endpoint_id: str):
    endpoint, secret = webhook_endpoint_rotate_secret(
        merchant_id=request.auth.merchant_id, endpoint_id=endpoint_id, actor=request.auth.actor
    )
    return webhook_endpoint_object(endpoint, secret=secret)


@router.post(
    "/webhook-endpoints/{endpoint_id}/test",
    response={200: WebhookDeliveryOut, 404: Problem, **_COMMON},
    summary="Send a test event",
    description="Sends a `ping` event to this endpoint now and answers with the delivery and its first attempt "
    "(a failed attempt is retried like any delivery).",
)
def webhook_endpoint_test_api(request: HttpRequest, endpoint_id: str):
    delivery = webhook_endpoint_ping(
        merchant_id=request.auth.merchant_id, endpoint_id=endpoint_id, actor=request.auth.actor
    )
    return delivery_object(delivery)


# --- events ----------------------------------------------------------------------------------


@router.get(
    "/events",
    response={200: EventListOut, 404: Problem, 422: Problem, **_COMMON},
    summary="List events, newest first",
    description="The merchant's events of the last 30 days, the same objects the webhooks send, whether or not "
    "an endpoint received them. Filters `type`, `created_gte`, `created_lt`; paged like payments.",
)
def event_list_api(request: HttpRequest, filters: Query[EventFilters]):
    if filters.created_gte and filters.created_lt and filters.created_gte >= filters.created_lt:
        raise ValidationFailed(
            "`created_gte` must be before `created_lt`.", param="created_gte", code="invalid_date_range"
        )
    page = event_list_for_merchant(
        merchant_id=request.auth.merchant_id,
        limit=filters.limit,
        starting_after=filters.starting_after,
        event_type=filters.type or None,
        created_gte=filters.created_gte,
        created_lt=filters.created_lt,
    )
    return {
        "object": "list",
        "data": [event_object(event) for event in page.items],
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/events/{event_id}",
    response={200: EventOut, 404: Problem, **_COMMON},
    summary="Retrieve an event",
)
def event_retrieve_api(request: HttpRequest, event_id: str):
    return event_object(event_get(merchant_id=request.auth.merchant_id, event_id=event_id))
