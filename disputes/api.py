"""The disputes router: thin operations over selectors and services.

The POSTs change a dispute (and, accepting it, money), so like the payments' POSTs they take a
required `Idempotency-Key`: the response is rendered from the dispute as it reads after the change,
stored in the change's own DynamoDB transaction, and sent as those exact bytes, the first time and on
every replay."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from pynamodb.transactions import TransactWrite

from core.problems import Problem
from disputes import selectors, services
from disputes.models import Dispute
from disputes.representations import dispute_json
from disputes.schemas import AcceptIn, DisputeListOut, DisputeListQuery, DisputeOut, EvidenceIn
from idempotency.services import (
    KEY_HEADER,
    IdempotencyKeyInUse,
    Pending,
    StoredResponse,
    idempotency_claim,
    idempotency_complete_in,
    idempotency_key_check,
    idempotency_release,
    request_fingerprint,
)

router = Router(tags=["disputes"])

JSON = "application/json"
PROBLEM = "application/problem+json"
_COMMON = {401: Problem, 413: Problem, 422: Problem, 429: Problem, 503: Problem}
_CHANGE = {**_COMMON, 400: Problem, 404: Problem, 409: Problem}

IDEMPOTENCY_RULES = (
    "**Idempotency.** `Idempotency-Key` (1-255 printable ASCII characters) is required (400 "
    "`idempotency_key_missing` without it); keys are scoped to the merchant and the endpoint and live 24 "
    "hours. The same key with the same body returns the stored response byte for byte with "
    "`Idempotent-Replayed: true`; with another body 422 `idempotency_key_reused`; while the first request "
    "runs 409 `idempotency_key_in_use`. An error (404, 409, 422) stores nothing: the key may be retried."
)
_OPENAPI = {
    "parameters": [
        {
            "name": KEY_HEADER,
            "in": "header",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
            "description": "Required. A unique key per request, scoped to the merchant and this endpoint, kept "
            "24 hours.",
        }
    ],
    "responses": {
        200: {
            "headers": {
                "Idempotent-Replayed": {
                    "description": "`true` when this is the stored response of an earlier request with the same key.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            }
        }
    },
}


def _respond(stored: StoredResponse) -> HttpResponse:
    response = HttpResponse(stored.body, status=stored.status, content_type=PROBLEM if stored.status >= 400 else JSON)
    if stored.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _idempotent(
    request: HttpRequest, *, endpoint: str, change: Callable[[services.DisputeHook], Dispute]
) -> HttpResponse:
    """Run `change(hook)` once per `Idempotency-Key`: the service calls `hook(transaction, dispute)`,
    which completes the key's record with the dispute's JSON in the change's own transaction."""
    key = idempotency_key_check(key=request.headers.get(KEY_HEADER))
    claimed = idempotency_claim(
        merchant_id=request.auth.merchant_id,
        endpoint=endpoint,
        key=key,
        fingerprint=request_fingerprint(body=request.body),
    )
    if isinstance(claimed, StoredResponse):
        return _respond(claimed)
    if isinstance(claimed, Pending):  # only payment creation leaves records waiting
        raise IdempotencyKeyInUse(f"A request with this `{KEY_HEADER}` is still being processed; retry later.")
    rendered: list[str] = []

    def complete(transaction: TransactWrite, dispute: Dispute) -> None:
        body = dispute_json(dispute)
        idempotency_complete_in(transaction, claim=claimed, status=200, body=body)
        rendered[:] = [body]

    try:
        change(complete)
    except BaseException:
        idempotency_release(claim=claimed)
        raise
    return _respond(StoredResponse(status=200, body=rendered[0]))


@router.get(
    "/disputes",
    response={200: DisputeListOut, **_COMMON},
    summary="List disputes",
    description="Newest first. Filters `status` and `payment_id`; `limit` 1-100 (default 20); page on with "
    "`starting_after=<next_cursor>`. A malformed cursor is 422 `invalid_cursor`. The sandbox processor opens a "
    "dispute on payments made with card 4000000000001976, for the full amount, reason `fraudulent`, evidence "
    "due 7 days later.",
)
def dispute_list(request: HttpRequest, query: Query[DisputeListQuery]):
    page = selectors.dispute_list_for_merchant(
        merchant_id=request.auth.merchant_id,
        limit=query.limit,
        starting_after=query.starting_after,
        status=query.status,
        payment_id=query.payment_id,
    )
    return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}


@router.get(
    "/disputes/{dispute_id}",
    response={200: DisputeOut, 401: Problem, 404: Problem, 429: Problem, 503: Problem},
    summary="Retrieve a dispute",
    description="Another merchant's dispute is 404.",
)
def dispute_retrieve(request: HttpRequest, dispute_id: str):
    return selectors.dispute_get(merchant_id=request.auth.merchant_id, dispute_id=dispute_id)


@router.post(
    "/disputes/{dispute_id}/evidence",
    response={200: DisputeOut, **_CHANGE},
    openapi_extra=_OPENAPI,
    summary="Save or submit a dispute's evidence",
    description="`text` is saved as a draft (`submit: false`, the default; omitted, the saved text is kept) or "
    "submitted with the files added in the dashboard (`submit: true`: the dispute goes `under_review` and the "
    "processor decides; in the sandbox a minute later, won when the text contains `winning_evidence`). Only "
    "while the dispute `needs_response` and before `evidence_due_by` (else 409 `invalid_state`); submitting "
    "without text or files is 422 `evidence_missing`.\n\n" + IDEMPOTENCY_RULES,
)
def dispute_evidence(request: HttpRequest, dispute_id: str, payload: EvidenceIn):
    return _idempotent(
        request,
        endpoint=f"POST /disputes/{dispute_id}/evidence",
        change=lambda hook: services.dispute_evidence_update(
            merchant_id=request.auth.merchant_id,
            dispute_id=dispute_id,
            actor=request.auth.actor,
            text=payload.text,
            submit=payload.submit,
            also_in_transaction=hook,
        ),
    )


@router.post(
    "/disputes/{dispute_id}/accept",
    response={200: DisputeOut, **_CHANGE},
    openapi_extra=_OPENAPI,
    summary="Accept a dispute",
    description="Give the dispute up: it closes as `accepted` (counts as lost; the disputed amount and the fee "
    "stay debited) and `dispute.closed` is sent. Only an open dispute (`needs_response`, `under_review`) can be "
    "accepted (else 409 `invalid_state`).\n\n" + IDEMPOTENCY_RULES,
)
def dispute_accept(request: HttpRequest, dispute_id: str, payload: AcceptIn | None = None):
    return _idempotent(
        request,
        endpoint=f"POST /disputes/{dispute_id}/accept",
        change=lambda hook: services.dispute_accept(
            merchant_id=request.auth.merchant_id,
            dispute_id=dispute_id,
            actor=request.auth.actor,
            also_in_transaction=hook,
        ),
    )
