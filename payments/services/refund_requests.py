"""Four-eyes approval of large refunds.

A merchant admin sets a threshold per currency. A dashboard refund at or above it (and an API refund,
when the merchant turned "API refunds need approval" on) becomes a refund request (`rr_`): nothing
moves, but its amount is held on the payment (`amount_pending_refund`), in the same transaction as the
request, under the payment's version condition, so refunds and requests together never pass the
captured amount, also when they race. Another operator or admin, never the requester, approves it
(the refund runs through `refund_create`, which releases the hold in its own update, with the request
marked approved in the same transaction) or rejects it with a reason (the hold is released). A request
nobody decided expires after `REQUEST_LIFETIME`: it reads as expired at once, and its hold is released
by the sweep or, sooner, by the next refund of the payment that needs the room."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb, retry
from core.actor import SYSTEM, Actor
from core.errors import InvalidState, ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from merchants.selectors import merchant_get, merchant_id_list
from payments.enums import REFUNDABLE_STATUSES, RefundReason, RefundRequestStatus, values
from payments.errors import ApprovalByRequester, InvalidPaymentState
from payments.models import Payment, RefundRequest
from payments.representations import refund_request_object
from payments.selectors import (
    payment_get,
    refund_request_get,
    refund_request_list_due,
    refund_request_list_due_for_payment,
    refund_request_status,
)
from payments.services.changes import Outcome, Refund, TransactionHook, amount_check, payment_after
from payments.services.refund_approval import refund_approval_settings
from payments.services.refunds import refund_create
from webhooks import services as webhooks
from webhooks.models import WebhookEventType
from webhooks.tasks import webhook_delivery_enqueue

REQUEST_LIFETIME = timedelta(days=7)


class Channel:
    """Where a refund was asked for: the dashboard always needs approval at the threshold, the API
    only when the merchant turned "API refunds need approval" on."""

    DASHBOARD = "dashboard"
    API = "api"


# --- a refund, or a request for one ----------------------------------------------------------


def refund_or_request_create(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    channel: str,
    amount: int | None = None,
    reason: str | None = None,
    also_in_transaction: TransactionHook | None = None,
) -> Refund | RefundRequest:
    """The refund a person or an integrator asked for: made at once below the merchant's threshold
    for the payment's currency, a `RefundRequest` awaiting approval at or above it."""
    settings = refund_approval_settings(merchant_get(merchant_id=merchant_id))
    if settings.thresholds and (channel == Channel.DASHBOARD or settings.api_refunds_need_approval):
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        threshold = settings.thresholds.get(payment.currency)
        if threshold is not None:
            _release_expired_holds(payment)
            if amount is None:  # "the rest": decided here, so the refund made is the amount checked
                payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
                amount = _refundable(payment)
            if isinstance(amount, int) and amount >= threshold:
                return refund_request_create(
                    merchant_id=merchant_id,
                    payment_id=payment_id,
                    actor=actor,
                    amount=amount,
                    reason=reason,
                    also_in_transaction=also_in_transaction,
                )
    return _refund_releasing_expired(
        merchant_id=merchant_id,
        payment_id=payment_id,
        actor=actor,
        amount=amount,
        reason=reason,
        also_in_transaction=also_in_transaction,
    )


def _refund_releasing_expired(**kwargs: Any) -> Refund:
    """`refund_create`; when it finds no room and holds of expired requests take some, they are
    released and the refund is tried again, once."""
    try:
        return refund_create(**kwargs)
    except ValidationFailed as error:
        if error.code != "refund_exceeds_captured":
            raise
        payment = payment_get(merchant_id=kwargs["merchant_id"], payment_id=kwargs["payment_id"])
        if not _release_expired_holds(payment):
            raise
    return refund_create(**kwargs)


def _refundable(payment: Payment) -> int:
    return (
        int(payment.amount_captured or 0) - int(payment.amount_refunded or 0) - int(payment.amount_pending_refund or 0)
    )


def _release_expired_holds(payment: Payment, *, now: datetime | None = None) -> int:
    """Expire the payment's requests whose lifetime is over (their holds are released); how many."""
    if not int(payment.amount_pending_refund or 0):
        return 0
    at, released = now or clock_now(), 0
    for request in refund_request_list_due_for_payment(payment_id=payment.payment_id, now=at):
        released += _expire(request, now=at)
    return released


def refund_request_create(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    amount: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    also_in_transaction: TransactionHook | None = None,
) -> RefundRequest:
    """Ask for a refund that needs a second person. Nothing moves; the amount is held on the payment
    in the same transaction (version condition), so holds and refunds never pass the captured amount."""
    if reason is not None and reason not in values(RefundReason):
        raise ValidationFailed(
            f"The reason must be one of {', '.join(values(RefundReason))}.", param="reason", code="invalid_reason"
        )

    def attempt() -> RefundRequest:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.status not in REFUNDABLE_STATUSES:
            raise InvalidPaymentState(f"A {payment.status} payment cannot be refunded.")
        room = _refundable(payment)
        to_request = room if amount is None else amount
        amount_check(to_request)
        if to_request > room:
            raise ValidationFailed(
                f"Refunding {to_request} would take the refunded total, with the refunds awaiting approval, "
                f"past the captured {int(payment.amount_captured)}.",
                param="amount",
                code="refund_exceeds_captured",
            )
        pending = int(payment.amount_pending_refund or 0) + to_request
        request = RefundRequest(
            request_id=new_id("rr", at),
            merchant_id=merchant_id,
            merchant_status=f"{merchant_id}#{RefundRequestStatus.PENDING_APPROVAL}",
            payment_id=payment_id,
            amount=to_request,
            currency=payment.currency,
            reason=reason,
            status=RefundRequestStatus.PENDING_APPROVAL,
            requested_by=actor.id,
            requested_by_type=actor.type,
            expires_at=at + REQUEST_LIFETIME,
            created=at,
            updated=at,
        )
        audit = audit_event_new(
            merchant_id=merchant_id,
            actor=actor,
            action="refund_request.create",
            entity_type="refund_request",
            entity_id=request.request_id,
            after=refund_request_object(request, now=at),
            detail=f"A refund of {to_request} of payment {payment_id} awaits approval by a second person.",
            at=at,
        )
        after = payment_after(payment, {"amount_pending_refund": pending})
        with TransactWrite(connection=dynamodb.connection()) as transaction:
            transaction.update(
                payment,
                actions=[Payment.amount_pending_refund.set(pending)],
                condition=Payment.status.is_in(*REFUNDABLE_STATUSES),
            )
            transaction.save(request, condition=RefundRequest.request_id.does_not_exist())
            transaction.save(audit, condition=audit_condition())
            if also_in_transaction is not None:
                also_in_transaction(transaction, Outcome(payment=after, refund_request=request))
        return request

    return retry.transaction_retrying(attempt, reread_on_condition=True)


# --- decisions -------------------------------------------------------------------------------


def _decidable(*, merchant_id: str, request_id: str, actor: Actor, now: datetime) -> RefundRequest:
    request = refund_request_get(merchant_id=merchant_id, request_id=request_id)
    status = refund_request_status(request, now=now)
    if status != RefundRequestStatus.PENDING_APPROVAL:
        raise InvalidState(f"This refund request is {status.replace('_', ' ')}; it can no longer be decided.")
    if (actor.type, actor.id) == (request.requested_by_type, request.requested_by):
        raise ApprovalByRequester("A refund request is decided by someone other than the person who asked for it.")
    return request


def _decision_actions(request: RefundRequest, status: RefundRequestStatus, actor: Actor, at: datetime, **fields: Any):
    actions = [
        RefundRequest.status.set(status),
        RefundRequest.merchant_status.set(f"{request.merchant_id}#{status}"),
        RefundRequest.decided_by.set(actor.id),
        RefundRequest.updated.set(at),
    ]
    actions += [getattr(RefundRequest, name).set(value) for name, value in fields.items() if value is not None]
    return actions


def _decided(
    request: RefundRequest, status: RefundRequestStatus, actor: Actor, at: datetime, **fields: Any
) -> RefundRequest:
    decided: RefundRequest = RefundRequest.from_raw_data(request.serialize())
    decided.status, decided.merchant_status = status, f"{request.merchant_id}#{status}"
    decided.decided_by, decided.updated = actor.id, at
    for name, value in fields.items():
        if value is not None:
            setattr(decided, name, value)
    return decided


def _still_pending() -> Any:
    return RefundRequest.status == RefundRequestStatus.PENDING_APPROVAL


def refund_request_approve(
    *, merchant_id: str, request_id: str, actor: Actor, note: str | None = None, now: datetime | None = None
) -> RefundRequest:
    """Approve: the refund runs through `refund_create` (its audit event names the approver as actor
    and the requester in its detail), releasing the request's hold, with the request marked approved,
    its own audit event and the `refund_request.approved` webhook event in the same transaction."""
    at = now or clock_now()
    request = _decidable(merchant_id=merchant_id, request_id=request_id, actor=actor, now=at)
    note = (note or "").strip()[:500] or None
    approved: list[RefundRequest] = []
    events: list[Any] = []  # the webhook event, queued after the commit

    def mark_approved(transaction: TransactWrite, outcome: Outcome) -> None:
        # Read again in every attempt: a racing decision makes this one stop, not retry.
        current = _decidable(merchant_id=merchant_id, request_id=request_id, actor=actor, now=at)
        assert outcome.refund is not None
        fields = {"refund_id": outcome.refund.refund_id, "decision_reason": note}
        transaction.update(
            current,
            actions=_decision_actions(
                current, RefundRequestStatus.APPROVED, actor, outcome.refund.created or at, **fields
            ),
            condition=_still_pending(),
        )
        after = _decided(current, RefundRequestStatus.APPROVED, actor, outcome.refund.created or at, **fields)
        transaction.save(_decision_audit(after, actor, "refund_request.approve"), condition=audit_condition())
        event = _decision_event(after, WebhookEventType.REFUND_REQUEST_APPROVED)
        if event is not None:
            transaction.save(event, condition=webhooks.webhook_event_condition())
        approved[:] = [after]
        events[:] = [event] if event is not None else []

    refund_create(
        merchant_id=merchant_id,
        payment_id=request.payment_id,
        actor=actor,
        amount=int(request.amount),
        reason=request.reason,
        releasing_pending=int(request.amount),
        audit_detail=f"Refund request {request_id}: requested by {request.requested_by}, approved by {actor.id}.",
        also_in_transaction=mark_approved,
    )
    for event in events:
        webhook_delivery_enqueue(delivery=event)
    return approved[0]


def refund_request_reject(
    *, merchant_id: str, request_id: str, actor: Actor, reason: str, now: datetime | None = None
) -> RefundRequest:
    """Reject with a reason: the hold on the payment is released; nothing moves."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the refund is rejected.", param="reason", code="reason_required")
    at = now or clock_now()
    _decidable(merchant_id=merchant_id, request_id=request_id, actor=actor, now=at)
    events: list[Any] = []  # the webhook event, queued after the commit

    def attempt() -> RefundRequest:
        request = _decidable(merchant_id=merchant_id, request_id=request_id, actor=actor, now=at)
        rejected = _decided(request, RefundRequestStatus.REJECTED, actor, at, decision_reason=reason[:500])
        event = _decision_event(rejected, WebhookEventType.REFUND_REQUEST_REJECTED)
        _release_in_transaction(
            request,
            actions=_decision_actions(request, RefundRequestStatus.REJECTED, actor, at, decision_reason=reason[:500]),
            audit=_decision_audit(rejected, actor, "refund_request.reject"),
            event=event,
        )
        events[:] = [event] if event is not None else []
        return rejected

    rejected: RefundRequest = retry.transaction_retrying(attempt, reread_on_condition=True)
    for event in events:
        webhook_delivery_enqueue(delivery=event)
    return rejected


def _release_in_transaction(request: RefundRequest, *, actions: list, audit: Any, event: Any = None) -> None:
    """Decide a pending request without a refund: the request, the release of its hold on the
    payment (version condition), the audit event and the webhook event, in one transaction."""
    payment = Payment.get(request.payment_id, consistent_read=True)
    pending = max(0, int(payment.amount_pending_refund or 0) - int(request.amount))
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.update(request, actions=actions, condition=_still_pending())
        transaction.update(payment, actions=[Payment.amount_pending_refund.set(pending)])
        transaction.save(audit, condition=audit_condition())
        if event is not None:
            transaction.save(event, condition=webhooks.webhook_event_condition())


def _decision_audit(request: RefundRequest, actor: Actor, action: str) -> Any:
    return audit_event_new(
        merchant_id=request.merchant_id,
        actor=actor,
        action=action,
        entity_type="refund_request",
        entity_id=request.request_id,
        before={"status": RefundRequestStatus.PENDING_APPROVAL},
        after=refund_request_object(request, now=request.updated),
        detail=f"Requested by {request.requested_by}; decided by {actor.id}"
        + (f": {request.decision_reason}" if request.decision_reason else "."),
        at=request.updated,
    )


def _decision_event(request: RefundRequest, event_type: WebhookEventType) -> Any:
    return webhooks.webhook_event_new(
        merchant_id=request.merchant_id,
        event_type=event_type,
        entity_id=request.request_id,
        data_object=refund_request_object(request, now=request.updated),
        at=request.updated,
    )


# --- expiry ----------------------------------------------------------------------------------


def _expire(request: RefundRequest, *, now: datetime | None = None) -> int:
    """Mark one request past its lifetime expired and release its hold; 1 when this call did it."""
    at = now or clock_now()

    def attempt() -> int:
        current = RefundRequest.get(request.request_id, consistent_read=True)
        if current.status != RefundRequestStatus.PENDING_APPROVAL or current.expires_at > at:
            return 0
        _release_in_transaction(
            current,
            actions=[
                RefundRequest.status.set(RefundRequestStatus.EXPIRED),
                RefundRequest.merchant_status.set(f"{current.merchant_id}#{RefundRequestStatus.EXPIRED}"),
                RefundRequest.updated.set(at),
            ],
            audit=audit_event_new(
                merchant_id=current.merchant_id,
                actor=SYSTEM,
                action="refund_request.expire",
                entity_type="refund_request",
                entity_id=current.request_id,
                before={"status": RefundRequestStatus.PENDING_APPROVAL},
                after={"status": RefundRequestStatus.EXPIRED},
                detail=f"Nobody decided within {REQUEST_LIFETIME.days} days; the held amount is released.",
                at=at,
            ),
        )
        return 1

    return retry.transaction_retrying(attempt, reread_on_condition=True)


def refund_request_expire_due(*, now: datetime | None = None) -> int:
    """The sweep: expire every merchant's pending requests past their lifetime; how many it expired."""
    at = now or clock_now()
    expired = 0
    for merchant_id in merchant_id_list():
        for request in refund_request_list_due(merchant_id=merchant_id, now=at):
            expired += _expire(request, now=at)
    return expired
