"""The API's webhook endpoint and event objects (separate input and output schemas)."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import AwareDatetime, Field

from core.pagination import PageQuery


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


class WebhookEndpointWithSecretOut(WebhookEndpointOut):
    secret: str = Field(description="The signing secret (`whsec_...`), in this response only.")


class WebhookEndpointListOut(Schema):
    object: str = "list"
    data: list[WebhookEndpointOut]
    has_more: bool
    next_cursor: str | None


class WebhookEndpointDeletedOut(Schema):
    id: str
    object: str = "webhook_endpoint"
    deleted: bool = True


class WebhookDeliveryOut(Schema):
    id: str = Field(description="The delivery (`evt_...:we_...`).")
    object: str = "webhook_delivery"
    event_id: str
    endpoint_id: str | None
    type: str
    status: str = Field(description="`pending` (attempts remain), `delivered`, `failed` or `refused`.")
    attempts: list[dict[str, Any]]
    created: str


class EventOut(Schema):
    id: str
    object: str = "event"
    type: str
    created: str
    data: dict[str, Any] = Field(description='`{"object": ...}`: the object as the API returns it then.')


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
