"""The API objects of API.md, serialised from stored items by the schemas of `payments.schemas`. Pages,
webhooks and the API share them, so the stored idempotent response and the first response are the
same bytes, and an object has one definition: its `...Out` schema."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.problems import domain_error_json
from payments.models import Payment, RefundRequest
from payments.refund_request_schemas import RefundRequestOut
from payments.schemas import PaymentOut, RefundOut

if TYPE_CHECKING:  # the changes build webhook events from these objects
    from payments.services.changes import Outcome, Refund


def payment_object(payment: Payment) -> dict[str, Any]:
    """The payment as JSON-ready data (webhook events embed it)."""
    return PaymentOut.from_orm(payment).model_dump(mode="json")


def payment_response(outcome: Outcome, *, status: int) -> tuple[int, str]:
    """The (status, body) a payment change answers: the payment, or the 402 problem of a failed one.
    Idempotency records store exactly this, whoever completes them (the request, or recovery)."""
    if outcome.declined is not None:
        return outcome.declined.status, domain_error_json(outcome.declined)
    return status, PaymentOut.from_orm(outcome.payment).model_dump_json()


def refund_object(refund: Refund) -> dict[str, Any]:
    """A refund (`re_...`), Stripe-like, with the payment as it reads after the refund."""
    return RefundOut.from_orm(refund).model_dump(mode="json")


def refund_response(outcome: Outcome) -> tuple[int, str]:
    return 201, RefundOut.from_orm(outcome.refund).model_dump_json()


def refund_request_object(request: RefundRequest, *, now: datetime | None = None) -> dict[str, Any]:
    """A refund request (`rr_...`) as the API, webhooks and audit events show it; its status is read
    with expiry (`now`: the moment it is read at)."""
    return RefundRequestOut.from_orm(request, context={"now": now}).model_dump(mode="json")


def refund_or_request_response(outcome: Outcome) -> tuple[int, str]:
    """A refund asked for through the API: 201 with the refund, or 202 with the refund request that
    awaits approval (stored for idempotent replay like any outcome)."""
    if outcome.refund_request is not None:
        return 202, RefundRequestOut.from_orm(outcome.refund_request).model_dump_json()
    return refund_response(outcome)
