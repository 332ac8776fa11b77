"""The API's webhook endpoint, delivery and event objects (separate input and output schemas). The
`...Out` schemas serialise the stored items (resolvers for ids, times and defaults): one wire format."""

from __future__ import annotations

import json
from typing import Any

from ninja import Schema
from pydantic import AwareDatetime, Field

from core.pagination import PageQuery
from core.wire import rfc3339
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


class WebhookEndpointIn(Schema):
    url: str = Field(description="https to a public host; anything else is 422 `invalid_webhook_url`.")
    events: list[str] = Field(
        description='Event types to send (`payment.succeeded`, `settlement.completed`, ...), or `["*"]` for all.'
    )
    description: str | None = Field(default=None, description="At most 500 characters.")


class WebhookEndpointUpdateIn(Schema):
    url: str | None = Field(default=None, description="A new URL (the same rules as at creation).")
    events: list[str] | None = Field(default=None, description='New event types, or `["*"]`.')
    disabled: bool | None = Field(default=None, description="`true` stops deliveries; `false` resumes them.")
    description: str | None = Field(default=None, description="At most 500 characters.")


# Serialises a stored `WebhookEndpoint` (never its secrets).
class WebhookEndpointOut(Schema):
    id: str
    object: str = "webhook_endpoint"
    url: str
    events: list[str]
    description: str
    disabled: bool
    status: str = Field(description="`enabled` or `disabled`.")
    disabled_reason: str | None = Field(description="Why it was disabled (by the merchant, or failing for 3 days).")
    created: str
    updated: str

    @staticmethod
    def resolve_id(endpoint: WebhookEndpoint) -> str:
        return endpoint.endpoint_id

    @staticmethod
    def resolve_object(endpoint: WebhookEndpoint) -> str:
        return "webhook_endpoint"

    @staticmethod
    def resolve_events(endpoint: WebhookEndpoint) -> list[str]:
        return list(endpoint.events or [])

    @staticmethod
    def resolve_description(endpoint: WebhookEndpoint) -> str:
        return endpoint.description or ""

    @staticmethod
    def resolve_disabled(endpoint: WebhookEndpoint) -> bool:
        return bool(endpoint.disabled)

    @staticmethod
    def resolve_status(endpoint: WebhookEndpoint) -> str:
        return "disabled" if endpoint.disabled else "enabled"

    @staticmethod
    def resolve_disabled_reason(endpoint: WebhookEndpoint) -> str | None:
        return endpoint.disabled_reason if endpoint.disabled else None

    @staticmethod
    def resolve_created(endpoint: WebhookEndpoint) -> str | None:
        return rfc3339(endpoint.created)

    @staticmethod
    def resolve_updated(endpoint: WebhookEndpoint) -> str | None:
        return rfc3339(endpoint.updated)


# The endpoint and its new secret in clear (create, rotate): validate with `context={"secret": ...}`.
class WebhookEndpointWithSecretOut(WebhookEndpointOut):
    secret: str = Field(description="The signing secret (`whsec_...`), in this response only.")

    @staticmethod
    def resolve_secret(endpoint: WebhookEndpoint, context: dict[str, Any]) -> str:
        return context["secret"]


class WebhookEndpointListOut(Schema):
    object: str = "list"
    data: list[WebhookEndpointOut]
    has_more: bool
    next_cursor: str | None


# Serialises the `WebhookEndpoint` a delete removed.
class WebhookEndpointDeletedOut(Schema):
    id: str
    object: str = "webhook_endpoint"
    deleted: bool = True

    @staticmethod
    def resolve_id(endpoint: WebhookEndpoint) -> str:
        return endpoint.endpoint_id

    @staticmethod
    def resolve_object(endpoint: WebhookEndpoint) -> str:
        return "webhook_endpoint"

    @staticmethod
    def resolve_deleted(endpoint: WebhookEndpoint) -> bool:
        return True


class WebhookDeliveryOut(Schema):
    id: str = Field(description="The delivery (`evt_...:we_...`).")
    object: str = "webhook_delivery"
    event_id: str
    endpoint_id: str | None
    type: str
    status: str = Field(description="`pending` (attempts remain), `delivered`, `failed` or `refused`.")
    attempts: list[dict[str, Any]]
    created: str

    @staticmethod
    def resolve_id(delivery: WebhookDelivery) -> str:
        return delivery.event_id

    @staticmethod
    def resolve_object(delivery: WebhookDelivery) -> str:
        return "webhook_delivery"

    @staticmethod
    def resolve_event_id(delivery: WebhookDelivery) -> str:
        return delivery.evt_id

    @staticmethod
    def resolve_type(delivery: WebhookDelivery) -> str:
        return delivery.event_type

    @staticmethod
    def resolve_attempts(delivery: WebhookDelivery) -> list[dict[str, Any]]:
        return [
            {
                "at": rfc3339(attempt.at),
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
            }
            for attempt in delivery.attempts or []
        ]

    @staticmethod
    def resolve_created(delivery: WebhookDelivery) -> str | None:
        return rfc3339(delivery.created)


# Serialises a stored `Event`: the same object its webhooks send (`payload` holds those bytes; `id`,
# `type` and `created` are the item's own attributes, which the payload was made from).
class EventOut(Schema):
    id: str
    object: str = "event"
    type: str
    created: str
    data: dict[str, Any] = Field(description='`{"object": ...}`: the object as the API returns it then.')

    @staticmethod
    def resolve_id(event: Event) -> str:
        return event.event_id

    @staticmethod
    def resolve_object(event: Event) -> str:
        return "event"

    @staticmethod
    def resolve_type(event: Event) -> str:
        return event.event_type

    @staticmethod
    def resolve_created(event: Event) -> str | None:
        return rfc3339(event.created)

    @staticmethod
    def resolve_data(event: Event) -> dict[str, Any]:
        return json.loads(event.payload)["data"]


class EventListOut(Schema):
    object: str = "list"
    data: list[EventOut]
    has_more: bool
    next_cursor: str | None


class EventFilters(PageQuery):
    cursor_prefix, cursor_noun = "evt", "an event"

    starting_after: str | None = Field(default=None, description="An event id (`next_cursor`): the page after it.")
    type: str | None = Field(default=None, max_length=100, description="Only events of this type.")
    created_gte: AwareDatetime | None = Field(default=None, description="RFC 3339, inclusive.")
    created_lt: AwareDatetime | None = Field(default=None, description="RFC 3339, exclusive.")


class WebhookEndpointFilters(PageQuery):
    cursor_prefix, cursor_noun = "we", "an endpoint"

    starting_after: str | None = Field(default=None, description="An endpoint id (`next_cursor`): the page after it.")
