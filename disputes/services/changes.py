"""What every dispute change shares: its commit, the dispute as it reads after, its audit event.

Each change is one TransactWriteItems: the dispute (with its version condition), the payment's
dispute fields (with the payment's version condition, so a refund racing the change reads again and
is refused), the ledger entries, the summary and balance counters, the audit event and the webhook
event, so all of it exists or none of it does. Each operation is a read-modify-write run by
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
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb
from core.actor import Actor
from disputes.models import Dispute
from disputes.representations import dispute_object, dispute_snapshot
from payments.models import Payment
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
class DisputeChange:
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


def dispute_change_commit(change: DisputeChange, *, at: datetime, also_in_transaction: DisputeHook | None) -> Dispute:
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
            moved = change.summaries.payment_actions() if change.summaries is not None else []
            transaction.update(
                change.payment, actions=[*change.payment_actions, *moved], condition=change.payment_condition
            )
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


def dispute_after(dispute: Dispute, fields: dict[str, Any]) -> Dispute:
    """The dispute as a read returns it once an update setting `fields` commits (None: removed)."""
    copy = Dispute.from_raw_data(dispute.serialize())
    for name, value in fields.items():
        setattr(copy, name, value)
    copy.version = int(dispute.version or 0) + 1
    return Dispute.from_raw_data(copy.serialize())


def dispute_actions(fields: dict[str, Any]) -> list:
    return [
        getattr(Dispute, name).remove() if value is None else getattr(Dispute, name).set(value)
        for name, value in fields.items()
    ]


def dispute_audit(
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
