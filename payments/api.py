"""The payments router: thin operations over selectors and services.

Money-moving POSTs run through `payments.services.idempotency`: the response is rendered from the
change's outcome, stored in the same DynamoDB transaction as the change, and sent as those exact
bytes, the first time and on every replay. `/payments/summary` and `/payments/export` are declared
before `/payments/{payment_id}` so the path parameter does not swallow them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Query, Router

from audit.services import audit_record
from core.errors import ValidationFailed
from core.lazy import lazy_import
from core.problems import Problem
from core.rendering import render_json
from customers.errors import CustomerNotFound
from customers.selectors import customer_get
from idempotency.services import (
    KEY_HEADER,
    StoredResponse,
    idempotency_key_check,
    idempotency_record_key,
    request_fingerprint,
)
from payments import selectors
from payments.exports import payment_export_lines
from payments.refund_request_schemas import RefundRequestListOut, RefundRequestListQuery, RefundRequestOut
from payments.representations import payment_response, refund_or_request_response
from payments.schemas import (
    CancelIn,
    CaptureIn,
    DateRangeQuery,
    PaymentDetailOut,
    PaymentFilterQuery,
    PaymentIn,
    PaymentListOut,
    PaymentListQuery,
    PaymentOut,
    RefundIn,
    RefundOut,
    SummaryOut,
)

if TYPE_CHECKING:
    from payments.services import Outcome, TransactionHook

# The writes are imported at the first write: a fresh process answering reads does without them and
# what they import (the webhooks, the balance), README "Lambda" (core.lazy).
services = lazy_import("payments.services")
refund_requests = lazy_import("payments.services.refund_requests")
idempotency_changes = lazy_import("payments.services.idempotency")

router = Router(tags=["payments"])

JSON = "application/json"
JSON_UTF8 = "application/json; charset=utf-8"  # what ninja's renderer sends for the reads
PROBLEM = "application/problem+json"
SUMMARY_MAX_DAYS = 400

IDEMPOTENCY_RULES = (
    "**Idempotency.** `Idempotency-Key` (1-255 printable ASCII characters) is required; without it the "
    "answer is 400 `idempotency_key_missing`. A key is scoped to the merchant and the endpoint (method "
    "and path) and lives 24 hours. The first request is processed and its status and body are stored "
    "with the change, in the same DynamoDB transaction, including outcomes of processing such as a "
    "402 decline (not 401, 413, 422 or 429 answers given before processing). The same key with the "
    "same body (compared as canonical JSON) returns the stored status and body byte for byte, with "
    "`Idempotent-Replayed: true`; with a different body: 422 `idempotency_key_reused`; while the first "
    "request is still running: 409 `idempotency_key_in_use` (retry after `Retry-After` seconds). When "
    "processing fails before anything was written (a processor error, a storage error, an invalid "
    "state), nothing is stored and the same key may be retried. When the processor approved but the "
    "payment could not be stored, the authorization is voided and the 503 says so; when that is not "
    "certain, the 503 asks for a retry with the same key and body, which records the approval without "
    "charging again. After a processor timeout (504 with "
    "`payment_id`, the payment stored as `processing`), a retry with the same key and body asks the "
    "processor for that payment's outcome, never charging again, and answers it."
)
_IDEMPOTENCY_PARAMETER = {
    "name": KEY_HEADER,
    "in": "header",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
    "description": "Required. A unique key per request, scoped to the merchant and this endpoint, kept 24 hours. "
    "Retry with the same key and body to get the first response again (`Idempotent-Replayed: true`).",
}
_REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response of an earlier request with the same key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _idempotent_openapi(*success_codes: int) -> dict[str, Any]:
    return {
        "parameters": [_IDEMPOTENCY_PARAMETER],
        "responses": {code: {"headers": _REPLAYED_HEADER} for code in success_codes},
    }


_COMMON = {401: Problem, 413: Problem, 422: Problem, 429: Problem, 503: Problem}
_MONEY = {**_COMMON, 400: Problem, 404: Problem, 409: Problem}


def _respond(stored: StoredResponse) -> HttpResponse:
    response = HttpResponse(stored.body, status=stored.status, content_type=PROBLEM if stored.status >= 400 else JSON)
    if stored.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _idempotent(
    request: HttpRequest,
    *,
    endpoint: str,
    change: Callable[[TransactionHook], Any],
    render: Callable[[Outcome], tuple[int, str]],
    resolve: Callable[[str, TransactionHook], Any] | None = None,
) -> HttpResponse:
    """Run `change(hook)` once per `Idempotency-Key`: the service gets `also_in_transaction=hook`,
    which stores `render(outcome)` in the change's own transaction; answer what was stored."""
    key = idempotency_key_check(key=request.headers.get(KEY_HEADER))
    stored = idempotency_changes.idempotent_change(
        merchant_id=request.auth.merchant_id,
        endpoint=endpoint,
        key=key,
        fingerprint=request_fingerprint(body=request.body),
        change=change,
        render=render,
        resolve=resolve,
    )
    return _respond(stored)


def _render_payment(status: int) -> Callable[[Outcome], tuple[int, str]]:
    return lambda outcome: payment_response(outcome, status=status)


# --- merchant --------------------------------------------------------------------------------


# --- payments: writes ------------------------------------------------------------------------


@router.post(
    "/payments",
    response={201: PaymentOut, 402: Problem, 502: Problem, 504: Problem, **_MONEY},
    openapi_extra=_idempotent_openapi(201, 402),
    summary="Create a payment",
    description="Authorize a card and, unless `capture` is false, capture it. A decline is 402 with the "
    "failed payment's id in `payment_id` (the failed payment is stored and listed). Sandbox cards: "
    "4242424242424242 approves, 4000000000000002 `card_declined`, 4000000000009995 `insufficient_funds`, "
    "4000000000000119 502 `processor_error` (nothing charged or stored), 4000000000000259 (approved, the "
    "answer lost) and 4000000000000317 (never received) 504 `processor_timeout`: the payment named by "
    "`payment_id` is stored as `processing` until the processor is asked again. Luhn-invalid: 422 "
    "`invalid_card_number`; expired: 422 `expired_card`.\n\n" + IDEMPOTENCY_RULES,
)
def payment_create(request: HttpRequest, payload: PaymentIn):
    merchant_id = request.auth.merchant_id
    if payload.customer_id:
        try:
            customer_get(merchant_id=merchant_id, customer_id=payload.customer_id)
        except CustomerNotFound:
            raise CustomerNotFound(f"No customer {payload.customer_id}.", param="customer_id") from None
    endpoint = "POST /payments"
    # The key was checked by `_idempotent` before `change` runs; the record's key lets recovery answer
    # the client. The request's name at the processor is the claim's own random reference.
    record_key = idempotency_record_key(merchant_id=merchant_id, endpoint=endpoint, key=request.headers.get(KEY_HEADER))
    return _idempotent(
        request,
        endpoint=endpoint,
        change=lambda hook: services.payment_create(
            merchant_id=merchant_id,
            actor=request.auth.actor,
            amount=payload.amount,
            currency=payload.currency,
            card=payload.card.as_input(),
            capture=payload.capture,
            customer_id=payload.customer_id,
            description=payload.description,
            metadata=payload.metadata,
            idempotency_record=record_key,
            also_in_transaction=hook,
        ),
        render=_render_payment(201),
        resolve=lambda payment_id, hook: services.payment_resolve(
            merchant_id=merchant_id, payment_id=payment_id, actor=request.auth.actor, also_in_transaction=hook
        ),
    )


@router.post(
    "/payments/{payment_id}/capture",
    response={200: PaymentOut, **_MONEY},
    openapi_extra=_idempotent_openapi(200),
    summary="Capture an authorized payment",
    description="From `requires_capture` only (else 409 `invalid_state`); `amount` defaults to the authorized "
    "amount and may not exceed it (422 `amount_exceeds_authorized`).\n\n" + IDEMPOTENCY_RULES,
)
def payment_capture(request: HttpRequest, payment_id: str, payload: CaptureIn | None = None):
    amount = payload.amount if payload is not None else None
    return _idempotent(
        request,
        endpoint=f"POST /payments/{payment_id}/capture",
        change=lambda hook: services.payment_capture(
            merchant_id=request.auth.merchant_id,
            payment_id=payment_id,
            actor=request.auth.actor,
            amount=amount,
            also_in_transaction=hook,
        ),
        render=_render_payment(200),
    )


@router.post(
    "/payments/{payment_id}/cancel",
    response={200: PaymentOut, **_MONEY},
    openapi_extra=_idempotent_openapi(200),
    summary="Cancel an authorized payment",
    description="Releases an authorization that was not captured; from `requires_capture` only (else 409 "
    "`invalid_state`).\n\n" + IDEMPOTENCY_RULES,
)
def payment_cancel(request: HttpRequest, payment_id: str, payload: CancelIn | None = None):
    return _idempotent(
        request,
        endpoint=f"POST /payments/{payment_id}/cancel",
        change=lambda hook: services.payment_cancel(
            merchant_id=request.auth.merchant_id,
            payment_id=payment_id,
            actor=request.auth.actor,
            also_in_transaction=hook,
        ),
        render=_render_payment(200),
    )


@router.post(
    "/payments/{payment_id}/refunds",
    response={201: RefundOut, 202: RefundRequestOut, **_MONEY},
    openapi_extra=_idempotent_openapi(201, 202),
    summary="Refund a payment",
    description="Refunds part of or (by default) the rest of the captured amount of a `succeeded` or "
    "`partially_refunded` payment (else 409 `invalid_state`). The refunded total can never exceed the "
    "captured amount, also when refunds race: 422 `refund_exceeds_captured`. Answers with the refund "
    "object (`re_...`), which embeds the payment as it reads after the refund.\n\n"
    '**Four-eyes approval.** When the merchant turned "API refunds need approval" on, a refund at or above '
    "its threshold for the payment's currency answers 202 with a `refund_request` object "
    "(`pending_approval`): nothing moves until a second person approves it in the dashboard. Refund "
    "requests awaiting approval count against the refundable amount.\n\n" + IDEMPOTENCY_RULES,
)
def refund_create(request: HttpRequest, payment_id: str, payload: RefundIn | None = None):
    amount = payload.amount if payload is not None else None
    reason = payload.reason if payload is not None else None
    return _idempotent(
        request,
        endpoint=f"POST /payments/{payment_id}/refunds",
        change=lambda hook: refund_requests.refund_or_request_create(
            merchant_id=request.auth.merchant_id,
            payment_id=payment_id,
            actor=request.auth.actor,
            channel=refund_requests.Channel.API,
            amount=amount,
            reason=reason,
            also_in_transaction=hook,
        ),
        render=refund_or_request_response,
    )


# --- refund requests (four-eyes approval) ----------------------------------------------------


@router.get(
    "/refund-requests",
    response={200: RefundRequestListOut, **_COMMON},
    tags=["refund requests"],
    summary="List refund requests",
    description="Newest first. Filters `status` (`expired` includes pending requests past `expires_at`) and "
    "`payment_id`. `limit` 1-100 (default 20); page on with `starting_after=<next_cursor>`.",
)
def refund_request_list(request: HttpRequest, query: Query[RefundRequestListQuery]):
    page = selectors.refund_request_list_for_merchant(
        merchant_id=request.auth.merchant_id,
        limit=query.limit,
        starting_after=query.starting_after,
        status=query.status,
        payment_id=query.payment_id,
    )
    return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}


@router.get(
    "/refund-requests/{request_id}",
    response={200: RefundRequestOut, 401: Problem, 404: Problem, 429: Problem, 503: Problem},
    tags=["refund requests"],
    summary="Retrieve a refund request",
    description="A refund request (`rr_...`). Another merchant's request is 404.",
)
def refund_request_retrieve(request: HttpRequest, request_id: str):
    return selectors.refund_request_get(merchant_id=request.auth.merchant_id, request_id=request_id)


# --- payments: reads (summary and export before {payment_id}) --------------------------------


def _filters(query: PaymentFilterQuery) -> dict[str, Any]:
    query.check_range()
    return {
        "starting_after": query.starting_after,
        "status": query.status,
        "customer_id": query.customer_id,
        "created_gte": query.created_gte.astimezone(UTC) if query.created_gte else None,
        "created_lt": query.created_lt.astimezone(UTC) if query.created_lt else None,
        "newest_first": True,
    }


@router.get(
    "/payments",
    response={200: PaymentListOut, **_COMMON},
    summary="List payments",
    description="Newest first. `limit` 1-100 (default 20). Page on with `starting_after=<next_cursor>`; every "
    "matching payment is returned exactly once. A malformed cursor is 422 `invalid_cursor`.",
)
def payment_list(request: HttpRequest, query: Query[PaymentListQuery]):
    page = selectors.payment_list_for_merchant(
        merchant_id=request.auth.merchant_id, limit=query.limit, **_filters(query)
    )
    listed = {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}
    # The stored payments rendered through the schema without validating them again, in one pass
    # (`core.rendering`); ninja's way (validate, dump to Python, then encode) took three times as long
    # for a page of 100 (README "Performance"). The same JSON either way.
    return HttpResponse(render_json(PaymentListOut, listed), content_type=JSON_UTF8)


@router.get(
    "/payments/summary",
    response={200: SummaryOut, **_COMMON},
    summary="Summarise payments",
    description="Per currency: count and amount by status, captured, refunded, refund count and net; and a "
    "per-day series covering every UTC day of the range. Served from pre-aggregated daily counters, so "
    "the range is whole UTC days: the days of `created_gte` and of the last instant before `created_lt`. "
    "A payment's status counts on its creation day; captured and refunded amounts on the day the money "
    f"moved. Default: the last 30 days. At most {SUMMARY_MAX_DAYS} days.",
)
def payment_summary(request: HttpRequest, query: Query[DateRangeQuery]):
    query.check_range()
    now = datetime.now(UTC)
    created_lt = (
        query.created_lt.astimezone(UTC)
        if query.created_lt
        else datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    )
    created_gte = query.created_gte.astimezone(UTC) if query.created_gte else created_lt - timedelta(days=30)
    if created_gte >= created_lt:
        raise ValidationFailed(
            "`created_gte` must be before `created_lt`.", param="created_gte", code="invalid_date_range"
        )
    start, end = created_gte.date(), (created_lt - timedelta(milliseconds=1)).date()
    if (end - start).days + 1 > SUMMARY_MAX_DAYS:
        raise ValidationFailed(
            f"A summary covers at most {SUMMARY_MAX_DAYS} days.", param="created_gte", code="invalid_date_range"
        )
    summary = selectors.payment_summary(merchant_id=request.auth.merchant_id, start=start, end=end)
    return SummaryOut.from_orm(summary, context={"created_gte": created_gte, "created_lt": created_lt})


@router.get(
    "/payments/export",
    response={**_COMMON},
    openapi_extra={
        "responses": {
            200: {
                "description": "CSV, streamed. Header row: "
                "`id,created,amount,currency,status,amount_captured,amount_refunded,customer_id,card_brand,"
                "card_last4,description`. Text cells starting with `=`, `+`, `-`, `@`, tab or CR get a leading "
                "`'` (OWASP CSV injection).",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
    summary="Export payments as CSV",
    description="The same filters as the list (`limit` does not apply; `starting_after` starts after a payment). "
    "Newest first, streamed page by page in constant memory.",
)
def payment_export(request: HttpRequest, query: Query[PaymentFilterQuery]):
    lines = payment_export_lines(merchant_id=request.auth.merchant_id, **_filters(query))
    audit_record(
        merchant_id=request.auth.merchant_id,
        actor=request.auth.actor,
        action="payment.export",
        entity_type="payment",
        entity_id="-",
        detail=request.GET.urlencode() or "all payments",
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="payments.csv"'
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/payments/{payment_id}",
    response={200: PaymentDetailOut, 401: Problem, 404: Problem, 429: Problem, 503: Problem},
    summary="Retrieve a payment",
    description="The payment and its ledger (`transactions`, oldest first). Another merchant's payment is 404.",
)
def payment_retrieve(request: HttpRequest, payment_id: str):
    payment = selectors.payment_get(merchant_id=request.auth.merchant_id, payment_id=payment_id)
    ledger = selectors.transaction_list_for_payment(payment_id=payment.payment_id)
    return PaymentDetailOut.from_orm(payment, context={"transactions": ledger})
