"""The webhooks router: webhook endpoints (`/webhook-endpoints`) and events (`/events`), thin
operations over the webhook selectors, services and tasks."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from core.errors import ValidationFailed
from core.problems import Problem
from idempotency.services import KEY_HEADER, StoredResponse, idempotency_key_check, request_fingerprint
from webhooks.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
    webhook_endpoints_migrate,
)
from webhooks.idempotent import (
    webhook_endpoint_create_idempotent,
    webhook_endpoint_ping_idempotent,
    webhook_endpoint_rotate_idempotent,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint
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
# With an `Idempotency-Key`: 409 `idempotency_key_in_use`, 422 `idempotency_key_reused`, 400 a bad key.
_KEYED = {400: Problem, 409: Problem, 422: Problem}


def _optional_key(what: str) -> dict:
    return {
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
                "description": "Optional here. With a key, a retry with the same key and body returns the first "
                f"response byte for byte (`Idempotent-Replayed: true`) instead of {what}; the same key with "
                "another body is 422 `idempotency_key_reused`. Keys live 24 hours.",
            }
        ]
    }


def _secret_response(status: int) -> Callable[[WebhookEndpoint, str], tuple[int, str]]:
    def render(endpoint: WebhookEndpoint, secret: str) -> tuple[int, str]:
        body = WebhookEndpointWithSecretOut.from_orm(endpoint, context={"secret": secret}).model_dump_json()
        return status, body

    return render


def _delivery_response(delivery: WebhookDelivery) -> tuple[int, str]:
    return 200, WebhookDeliveryOut.from_orm(delivery).model_dump_json()


def _stored(stored: StoredResponse) -> HttpResponse:
    response = HttpResponse(stored.body, status=stored.status, content_type="application/json")
    if stored.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _key(request: HttpRequest) -> dict[str, str] | None:
    """The checked `Idempotency-Key` and the body's fingerprint, or None without a key."""
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return None
    return {"key": idempotency_key_check(key=key), "fingerprint": request_fingerprint(body=request.body)}


# --- webhook endpoints -----------------------------------------------------------------------


@router.post(
    "/webhook-endpoints",
    response={201: WebhookEndpointWithSecretOut, 413: Problem, **_KEYED, **_COMMON},
    summary="Create a webhook endpoint",
    description="At most 16 per merchant (422 `too_many_webhook_endpoints`). The URL must be https to a public "
    "host (422 `invalid_webhook_url`). The signing `secret` is in this response only (and in its idempotent "
    "replays). `Idempotency-Key` is optional: send one to make retries safe.",
    openapi_extra=_optional_key("creating a second endpoint"),
)
def webhook_endpoint_create_api(request: HttpRequest, payload: WebhookEndpointIn):
    fields = {
        "merchant_id": request.auth.merchant_id,
        "actor": request.auth.actor,
        "url": payload.url,
        "events": payload.events,
        "description": payload.description,
    }
    keyed = _key(request)
    if keyed is None:
        endpoint, secret = webhook_endpoint_create(**fields)
        return Status(201, WebhookEndpointWithSecretOut.from_orm(endpoint, context={"secret": secret}))
    return _stored(webhook_endpoint_create_idempotent(render=_secret_response(201), **keyed, **fields))


@router.get(
    "/webhook-endpoints",
    response={200: WebhookEndpointListOut, 404: Problem, 422: Problem, **_COMMON},
    summary="List webhook endpoints, newest first",
)
def webhook_endpoint_list_api(request: HttpRequest, filters: Query[WebhookEndpointFilters]):
    merchant_id = request.auth.merchant_id
    webhook_endpoints_migrate(merchant_id=merchant_id)
    page = webhook_endpoint_page(merchant_id=merchant_id, limit=filters.limit, starting_after=filters.starting_after)
    return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}


@router.get(
    "/webhook-endpoints/{endpoint_id}",
    response={200: WebhookEndpointOut, 404: Problem, **_COMMON},
    summary="Retrieve a webhook endpoint",
)
def webhook_endpoint_retrieve_api(request: HttpRequest, endpoint_id: str):
    webhook_endpoints_migrate(merchant_id=request.auth.merchant_id)
    return webhook_endpoint_get(merchant_id=request.auth.merchant_id, endpoint_id=endpoint_id)


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
    return endpoint


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    response={200: WebhookEndpointDeletedOut, 404: Problem, **_COMMON},
    summary="Delete a webhook endpoint",
    description="Its pending deliveries end as failed (`webhook_endpoint_deleted`).",
)
def webhook_endpoint_delete_api(request: HttpRequest, endpoint_id: str):
    return webhook_endpoint_delete(
        merchant_id=request.auth.merchant_id, endpoint_id=endpoint_id, actor=request.auth.actor
    )


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response={200: WebhookEndpointWithSecretOut, 404: Problem, **_KEYED, **_COMMON},
    summary="Rotate a webhook endpoint's signing secret",
    description="The new `secret` is in this response only (and in its idempotent replays). The previous secret "
    "keeps signing beside it for 24 hours: `X-Paysite-Signature: t=...,v1=<new>,v1=<old>`. `Idempotency-Key` "
    "is optional: send one so that a retry does not rotate twice.",
    openapi_extra=_optional_key("rotating again"),
)
def webhook_endpoint_rotate_api(request: HttpRequest, endpoint_id: str):
    fields = {"merchant_id": request.auth.merchant_id, "endpoint_id": endpoint_id, "actor": request.auth.actor}
    keyed = _key(request)
    if keyed is None:
        endpoint, secret = webhook_endpoint_rotate_secret(**fields)
        return WebhookEndpointWithSecretOut.from_orm(endpoint, context={"secret": secret})
    return _stored(webhook_endpoint_rotate_idempotent(render=_secret_response(200), **keyed, **fields))


@router.post(
    "/webhook-endpoints/{endpoint_id}/test",
    response={200: WebhookDeliveryOut, 404: Problem, **_KEYED, **_COMMON},
    summary="Send a test event",
    description="Sends a `ping` event to this endpoint now and answers with the delivery and its first attempt "
    "(a failed attempt is retried like any delivery). `Idempotency-Key` is optional: send one so that a retry "
    "does not send a second ping.",
    openapi_extra=_optional_key("sending another ping"),
)
def webhook_endpoint_test_api(request: HttpRequest, endpoint_id: str):
    fields = {"merchant_id": request.auth.merchant_id, "endpoint_id": endpoint_id, "actor": request.auth.actor}
    keyed = _key(request)
    if keyed is None:
        return webhook_endpoint_ping(**fields)
    return _stored(webhook_endpoint_ping_idempotent(render=_delivery_response, **keyed, **fields))


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
    return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}


@router.get(
    "/events/{event_id}",
    response={200: EventOut, 404: Problem, **_COMMON},
    summary="Retrieve an event",
)
def event_retrieve_api(request: HttpRequest, event_id: str):
    return event_get(merchant_id=request.auth.merchant_id, event_id=event_id)
