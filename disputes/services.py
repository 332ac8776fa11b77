"""Writes of disputes: opening one, its evidence, accepting it and the processor's decision.

Each change is one TransactWriteItems: the dispute (with its version condition), the payment's
dispute fields (with the payment's version condition, so a refund racing the change reads again and
is refused), the ledger entries, the summary counters, the audit event and the webhook event, so all
of it exists or none of it does. Each operation is a read-modify-write run by
`core.retry.transaction_retrying`, exactly once.

Money in the ledger (payments' `transactions` table): opening debits the disputed amount
(`dispute`) and the processor's fee (`dispute_fee`, `SANDBOX_DISPUTE_FEE` per currency); a won
dispute credits the amount back (`dispute_reversal`); the fee is not returned."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb, retry
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from disputes import files as evidence_files
from disputes.enums import OPEN_STATUSES, WINNING_EVIDENCE, DisputeAction, DisputeReason, DisputeStatus
from disputes.errors import InvalidDisputeState
from disputes.models import Dispute, Evidence, EvidenceFile
from disputes.representations import dispute_object, dispute_snapshot
from disputes.schemas import MAX_EVIDENCE_TEXT
from disputes.selectors import dispute_get, disputes_due
from disputes.storage import evidence_storage, evidence_storage_name
from payments.enums import REFUNDABLE_STATUSES, TransactionKind
from payments.models import Payment
from payments.selectors import payment_get
from payments.services.changes import amount_check, ledger_entry
from payments.services.summaries import SummaryChanges
from webhooks import services as webhooks
from webhooks.models import WebhookEventType
from webhooks.tasks import webhook_delivery_enqueue

logger = logging.getLogger(__name__)

EVIDENCE_DAYS = 7
DECISION_DELAY = timedelta(minutes=1)  # the sandbox processor decides submitted evidence this much later
PROCESSOR = Actor(type="system", id="sandbox-processor")

# Adds the caller's own writes (an idempotency record) to a dispute change's transaction; it gets the
# dispute as a read returns it after the commit.
DisputeHook = Callable[[TransactWrite, Dispute], None]


def dispute_fee(currency: str) -> int:
    """The processor's fee for a dispute in `currency` (minor units): `SANDBOX_DISPUTE_FEE`."""
    fees: dict[str, int] = getattr(settings, "SANDBOX_DISPUTE_FEE", {})
    return int(fees.get(currency, fees.get("default", 0)))


@dataclass
class _Change:
    """Everything one dispute change writes, committed in one transaction."""

    dispute: Dispute
    after: Dispute  # the dispute as a read returns it after the commit
    payment: Payment | None  # None: the change leaves the payment alone
    payment_actions: list
    audit: Any
    is_new: bool = False
    dispute_actions: list = field(default_factory=list)
    dispute_condition: Any = None
    payment_condition: Any = None
    ledger: list = field(default_factory=list)
    summaries: SummaryChanges | None = None
    event_type: WebhookEventType | None = None


def _events(made: Any) -> list:
    """`webhook_event_new` answers one event, or none, or (one per endpoint) a list."""
    if made is None:
        return []
    return list(made) if isinstance(made, list | tuple) else [made]


def _commit(change: _Change, *, at: datetime, also_in_transaction: DisputeHook | None) -> Dispute:
    events = []
    if change.event_type is not None:
        events = _events(
            webhooks.webhook_event_new(
                merchant_id=change.after.merchant_id,
                event_type=change.event_type,
                entity_id=change.after.dispute_id,
                data_object=dispute_object(change.after),
                at=at,
            )
        )
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        if change.is_new:
            transaction.save(change.dispute, condition=Dispute.dispute_id.does_not_exist())
        else:
            transaction.update(change.dispute, actions=change.dispute_actions, condition=change.dispute_condition)
        if change.payment is not None:
            transaction.update(change.payment, actions=change.payment_actions, condition=change.payment_condition)
        for entry in change.ledger:
            transaction.save(entry, condition=type(entry).txn_id.does_not_exist())
        if change.summaries is not None:
            for item, actions in change.summaries.updates():
                transaction.update(item, actions=actions)
        transaction.save(change.audit, condition=audit_condition())
        for event in events:
            transaction.save(event, condition=webhooks.webhook_event_condition())
        if also_in_transaction is not None:
            also_in_transaction(transaction, change.after)
    for event in events:
        webhook_delivery_enqueue(delivery=event)
    return change.after


def _after(dispute: Dispute, fields: dict[str, Any]) -> Dispute:
    """The dispute as a read returns it once an update setting `fields` commits (None: removed)."""
    copy = Dispute.from_raw_data(dispute.serialize())
    for name, value in fields.items():
        setattr(copy, name, value)
    copy.version = int(dispute.version or 0) + 1
    return Dispute.from_raw_data(copy.serialize())


def _actions(fields: dict[str, Any]) -> list:
    return [
        getattr(Dispute, name).remove() if value is None else getattr(Dispute, name).set(value)
        for name, value in fields.items()
    ]


def _audit(
    dispute: Dispute,
    *,
    actor: Actor,
    action: str,
    at: datetime,
    before: Dispute | None,
    after: Dispute,
    detail: str | None = None,
) -> Any:
    return audit_event_new(
        merchant_id=dispute.merchant_id,
        actor=actor,
        action=action,
        entity_type="dispute",
        entity_id=dispute.dispute_id,
        before=dispute_snapshot(before) if before is not None else None,
        after=dispute_snapshot(after),
        detail=detail,
        at=at,
    )


# --- opening -----------------------------------------------------------------------------------


def dispute_open(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    amount: int | None = None,
    reason: str = DisputeReason.FRAUDULENT,
    now: datetime | None = None,
) -> Dispute:
    """Open a dispute on a captured payment (the processor's chargeback): for `amount` (default: all
    that was captured and not refunded), evidence due `EVIDENCE_DAYS` later. One transaction writes
    the dispute, the payment's `disputed` flag, the ledger entries (the amount and the fee), the
    summary counters, the audit event and the `dispute.created` event. A payment has one dispute."""
    if reason not in tuple(DisputeReason):
        raise ValidationFailed(
            f"The reason must be one of {', '.join(DisputeReason)}.", param="reason", code="invalid_reason"
        )

    def attempt() -> Dispute:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.dispute_id:
            raise InvalidDisputeState(
                f"The payment already has a dispute ({payment.dispute_id}).", dispute_id=payment.dispute_id
            )
        if payment.status not in REFUNDABLE_STATUSES:
            raise InvalidDisputeState(f"A {payment.status} payment cannot be disputed: only captured money can.")
        disputable = int(payment.amount_captured or 0) - int(payment.amount_refunded or 0)
        to_dispute = disputable if amount is None else amount
        amount_check(to_dispute)
        if to_dispute > disputable:
            raise ValidationFailed(
                f"At most {disputable} can be disputed (captured and not refunded).",
                param="amount",
                code="amount_exceeds_disputable",
            )
        fee = dispute_fee(payment.currency)
        due = at + timedelta(days=EVIDENCE_DAYS)
        dispute = Dispute(
            dispute_id=new_id("dp", at),
            merchant_id=merchant_id,
            merchant_status=f"{merchant_id}#{DisputeStatus.NEEDS_RESPONSE}",
            payment_id=payment.payment_id,
            amount=to_dispute,
            currency=payment.currency,
            fee=fee,
            reason=str(reason),
            status=DisputeStatus.NEEDS_RESPONSE.value,
            evidence_due_by=due,
            evidence=Evidence(text=None, files=[], submitted_at=None),
            open_status=DisputeStatus.NEEDS_RESPONSE.value,
            due_at=due,
            created=at,
            updated=at,
        )
        after = Dispute.from_raw_data(dispute.serialize())
        after.version = 1
        ledger = [ledger_entry(payment, TransactionKind.DISPUTE, to_dispute, at, reason=str(reason))]
        if fee > 0:
            ledger.append(ledger_entry(payment, TransactionKind.DISPUTE_FEE, fee, at + timedelta(milliseconds=1)))
        change = _Change(
            dispute=dispute,
            after=after,
            is_new=True,
            payment=payment,
            payment_actions=[
                Payment.disputed.set(True),
                Payment.dispute_id.set(dispute.dispute_id),
                Payment.dispute_status.set(DisputeStatus.NEEDS_RESPONSE.value),
                Payment.updated.set(at),
            ],
            payment_condition=Payment.dispute_id.does_not_exist() & Payment.status.is_in(*REFUNDABLE_STATUSES),
            ledger=ledger,
            summaries=SummaryChanges(payment).disputed(amount=to_dispute, fee=fee, at=at),
            audit=_audit(
                dispute,
                actor=actor,
                action=DisputeAction.OPEN,
                at=at,
                before=None,
                after=after,
                detail=f"payment {payment.payment_id}",
            ),
            event_type=WebhookEventType.DISPUTE_CREATED,
        )
        return _commit(change, at=at, also_in_transaction=None)

    return retry.transaction_retrying(attempt, reread_on_condition=True)


# --- evidence ----------------------------------------------------------------------------------


def _open_for_evidence(dispute: Dispute, at: datetime) -> None:
    if dispute.status != DisputeStatus.NEEDS_RESPONSE:
        raise InvalidDisputeState(f"A dispute that is {dispute.status} takes no more evidence.")
    if at >= dispute.evidence_due_by:
        raise InvalidDisputeState(
            f"The evidence was due by {dispute.evidence_due_by:%Y-%m-%d %H:%M} UTC; the dispute is being closed as lost."
        )


def _evidence(dispute: Dispute) -> Evidence:
    current = dispute.evidence
    return Evidence(
        text=current.text if current is not None else None,
        files=list(current.files or []) if current is not None else [],
        submitted_at=current.submitted_at if current is not None else None,
    )


def dispute_evidence_update(
    *,
    merchant_id: str,
    dispute_id: str,
    actor: Actor,
    text: str | None = None,
    submit: bool = False,
    now: datetime | None = None,
    also_in_transaction: DisputeHook | None = None,
) -> Dispute:
    """Save the evidence text as a draft (`submit=False`; None keeps the text saved before) or submit
    the evidence (the dispute goes `under_review` and the processor decides `DECISION_DELAY` later).
    Only while the dispute `needs_response` and before `evidence_due_by` (else 409 `invalid_state`)."""
    if text is not None and len(text) > MAX_EVIDENCE_TEXT:
        raise ValidationFailed(
            f"The evidence text is limited to {MAX_EVIDENCE_TEXT} characters.", param="text", code="text_too_long"
        )

    def attempt() -> Dispute:
        at = now or clock_now()
        dispute = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
        _open_for_evidence(dispute, at)
        evidence = _evidence(dispute)
        if text is not None:
            evidence.text = text.strip() or None
        if submit and not (evidence.text or evidence.files):
            raise ValidationFailed(
                "Add evidence (text or files) before submitting it.", param="text", code="evidence_missing"
            )
        fields: dict[str, Any] = {"evidence": evidence, "updated": at}
        payment, payment_actions = None, []
        if submit:  # the payment's copy of the dispute status moves with it
            evidence.submitted_at = at
            status = DisputeStatus.UNDER_REVIEW.value
            fields.update(
                status=status,
                merchant_status=f"{merchant_id}#{status}",
                open_status=status,
                due_at=at + DECISION_DELAY,
            )
            payment = payment_get(merchant_id=merchant_id, payment_id=dispute.payment_id)
            payment_actions = [Payment.dispute_status.set(status)]
        after = _after(dispute, fields)
        change = _Change(
            dispute=dispute,
            after=after,
            dispute_actions=_actions(fields),
            dispute_condition=Dispute.status == DisputeStatus.NEEDS_RESPONSE,
            payment=payment,
            payment_actions=payment_actions,
            payment_condition=Payment.dispute_id == dispute.dispute_id,
            audit=_audit(
                dispute,
                actor=actor,
                at=at,
                before=dispute,
                after=after,
                action=DisputeAction.EVIDENCE_SUBMIT if submit else DisputeAction.EVIDENCE_SAVE,
            ),
        )
        return _commit(change, at=at, also_in_transaction=also_in_transaction)

    return retry.transaction_retrying(attempt, reread_on_condition=True)


def dispute_evidence_file_add(
    *, merchant_id: str, dispute_id: str, actor: Actor, upload: UploadedFile, now: datetime | None = None
) -> Dispute:
    """Keep an evidence file (PDF or an image, at most 5 MB, told by its bytes) with the dispute's
    draft evidence. The file is stored first under a server-generated name, then recorded; when the
    record fails the file is deleted again."""
    at = now or clock_now()
    dispute = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
    _open_for_evidence(dispute, at)
    if len(_evidence(dispute).files) >= evidence_files.MAX_FILES:
        raise ValidationFailed(
            f"A dispute keeps at most {evidence_files.MAX_FILES} evidence files.", param="file", code="too_many_files"
        )
    evidence_files.evidence_size_check(int(upload.size or 0))
    upload.seek(0)
    kind = evidence_files.evidence_file_type(upload.read(16))
    upload.seek(0)
    file_id = new_id("file", at)
    storage = evidence_storage()
    name = storage.save(
        evidence_storage_name(
            merchant_id=merchant_id, dispute_id=dispute.dispute_id, file_id=file_id, extension=kind.extension
        ),
        upload,
    )
    record = EvidenceFile(
        file_id=file_id,
        filename=evidence_files.display_name(upload.name),
        content_type=kind.content_type,
        size=int(upload.size or 0),
        storage_name=name,
        uploaded=at,
    )

    def attempt() -> Dispute:
        current = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
        _open_for_evidence(current, at)
        evidence = _evidence(current)
        if len(evidence.files) >= evidence_files.MAX_FILES:
            raise ValidationFailed(
                f"A dispute keeps at most {evidence_files.MAX_FILES} evidence files.",
                param="file",
                code="too_many_files",
            )
        evidence.files.append(record)
        fields = {"evidence": evidence, "updated": at}
        after = _after(current, fields)
        change = _Change(
            dispute=current,
            after=after,
            dispute_actions=_actions(fields),
            dispute_condition=Dispute.status == DisputeStatus.NEEDS_RESPONSE,
            payment=None,
            payment_actions=[],
            audit=_audit(
                current,
                actor=actor,
                at=at,
                before=current,
                after=after,
                action=DisputeAction.EVIDENCE_FILE_ADD,
                detail=f"{record.filename} ({kind.content_type})",
            ),
        )
        return _commit(change, at=at, also_in_transaction=None)

    try:
        return retry.transaction_retrying(attempt, reread_on_condition=True)
    except BaseException:
        storage.delete(name)
        raise


# --- closing -----------------------------------------------------------------------------------


def _close(
    dispute: Dispute,
    *,
    status: DisputeStatus,
    actor: Actor,
    action: str,
    at: datetime,
    detail: str | None,
    also_in_transaction: DisputeHook | None,
) -> Dispute:
    payment = payment_get(merchant_id=dispute.merchant_id, payment_id=dispute.payment_id)
    fields: dict[str, Any] = {
        "status": status.value,
        "merchant_status": f"{dispute.merchant_id}#{status}",
        "open_status": None,
        "due_at": None,
        "closed_at": at,
        "updated": at,
    }
    after = _after(dispute, fields)
    summaries = SummaryChanges(payment)
    ledger = []
    if status == DisputeStatus.WON:
        ledger.append(ledger_entry(payment, TransactionKind.DISPUTE_REVERSAL, int(dispute.amount), at))
        summaries.dispute_won(amount=int(dispute.amount), at=at)
    change = _Change(
        dispute=dispute,
        after=after,
        dispute_actions=_actions(fields),
        dispute_condition=Dispute.status.is_in(*OPEN_STATUSES),
        payment=payment,
        payment_actions=[Payment.dispute_status.set(status.value), Payment.updated.set(at)],
        payment_condition=Payment.dispute_id == dispute.dispute_id,
        ledger=ledger,
        summaries=summaries,
        audit=_audit(dispute, actor=actor, action=action, at=at, before=dispute, after=after, detail=detail),
        event_type=WebhookEventType.DISPUTE_CLOSED,
    )
    return _commit(change, at=at, also_in_transaction=also_in_transaction)


def dispute_accept(
    *,
    merchant_id: str,
    dispute_id: str,
    actor: Actor,
    now: datetime | None = None,
    also_in_transaction: DisputeHook | None = None,
) -> Dispute:
    """The merchant gives the dispute up: it closes as `accepted` (lost; nothing is credited back).
    Only an open dispute can be accepted (else 409 `invalid_state`)."""

    def attempt() -> Dispute:
        at = now or clock_now()
        dispute = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
        if dispute.status not in OPEN_STATUSES:
            raise InvalidDisputeState(f"A dispute that is {dispute.status} cannot be accepted.")
        return _close(
            dispute,
            status=DisputeStatus.ACCEPTED,
            actor=actor,
            action=DisputeAction.ACCEPT,
            at=at,
            detail="accepted by the merchant",
            also_in_transaction=also_in_transaction,
        )

    return retry.transaction_retrying(attempt, reread_on_condition=True)


def _decision(dispute: Dispute, at: datetime) -> tuple[DisputeStatus, str] | None:
    """What the sandbox processor decides for `dispute` at `at`, and why; None when nothing is due."""
    if dispute.status == DisputeStatus.NEEDS_RESPONSE and at >= dispute.evidence_due_by:
        return DisputeStatus.LOST, "no evidence was submitted by the deadline"
    if dispute.status == DisputeStatus.UNDER_REVIEW and dispute.due_at is not None and at >= dispute.due_at:
        text = (dispute.evidence.text if dispute.evidence is not None else None) or ""
        if WINNING_EVIDENCE in text:
            return DisputeStatus.WON, "the processor accepted the evidence"
        return DisputeStatus.LOST, "the processor did not accept the evidence"
    return None


def dispute_decide(*, merchant_id: str, dispute_id: str, now: datetime | None = None) -> Dispute | None:
    """Apply the processor's decision to one dispute when it is due (see `_decision`): closed as won
    (the amount credited back) or lost, with the `dispute.closed` event. None when nothing was due."""

    def attempt() -> Dispute | None:
        at = now or clock_now()
        dispute = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
        decided = _decision(dispute, at)
        if decided is None:
            return None
        status, why = decided
        return _close(
            dispute,
            status=status,
            actor=PROCESSOR,
            action=DisputeAction.CLOSE,
            at=at,
            detail=why,
            also_in_transaction=None,
        )

    return retry.transaction_retrying(attempt, reread_on_condition=True)


@dataclass
class SweepReport:
    checked: int = 0
    won: int = 0
    lost: int = 0
    failed: int = 0


def disputes_sweep(*, now: datetime | None = None) -> SweepReport:
    """Decide every open dispute whose next step is due (every merchant): submitted evidence a
    `DECISION_DELAY` old, and disputes past `evidence_due_by` without submitted evidence (lost)."""
    at = now or clock_now()
    report = SweepReport()
    for status in OPEN_STATUSES:
        for due in list(disputes_due(status=status, now=at)):
            report.checked += 1
            try:
                closed = dispute_decide(merchant_id=due.merchant_id, dispute_id=due.dispute_id, now=at)
            except Exception:
                report.failed += 1
                logger.exception(
                    "dispute %s: the decision could not be recorded; the next sweep retries", due.dispute_id
                )
                continue
            if closed is not None and closed.status == DisputeStatus.WON:
                report.won += 1
            elif closed is not None:
                report.lost += 1
    return report
