"""Settling payments: a settlement file (the reconciliation app) says the processor paid a payment out.

The caller commits many settlements in one TransactWriteItems of its own; each adds
`ITEMS_PER_SETTLEMENT` items to it (TransactWriteItems takes 100), and the caller adds the balance
counters the settlements moved (`balance.updates()`, one item per currency) once."""

from __future__ import annotations

from datetime import datetime

from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core.actor import Actor
from payments.balance import BalanceChanges
from payments.enums import TransactionKind, TransactionStatus
from payments.models import Payment, Transaction

ITEMS_PER_SETTLEMENT = 3  # the payment, its ledger entry, the audit event


def payment_settle_in(
    *,
    transaction: TransactWrite,
    payment: Payment,
    settlement_id: str,
    settleable_statuses: tuple[str, ...],
    txn_id: str,
    amount: int,
    currency: str,
    reason: str,
    actor: Actor,
    at: datetime,
    fee: int = 0,
    balance: BalanceChanges | None = None,
    line: int | None = None,
) -> None:
    """Add to the caller's `transaction`: `payment` settled under `settlement_id` (`settlement_id` and
    `updated` set, version-checked, on condition that it is not settled yet and its status is one of
    `settleable_statuses`), its `settlement` ledger entry `txn_id` (deterministic: written at most
    once however often the caller retries), and the `payment.settle` audit event.

    `payment` is the item as read (at least its key, `merchant_id` and `version`); `amount`,
    `currency`, `fee` and `reason` are what the settlement says of it. The payment's share of the
    pending balance (`balance_pending`, as read: the version check keeps it so) moves to available
    less `fee` in `balance`, which the caller writes once for all its settlements. `line` is the
    file's line that settled it (`settlement_line`: the file's claim on the payment)."""
    if balance is not None:
        share = int(payment.balance_pending or 0)
        balance.add(currency=currency, key=settlement_id, pending=-share, available=share - fee)
    actions = [Payment.settlement_id.set(settlement_id), Payment.balance_pending.set(0), Payment.updated.set(at)]
    if line is not None:
        actions.append(Payment.settlement_line.set(line))
    transaction.update(
        payment,
        actions=actions,
        condition=Payment.settlement_id.does_not_exist() & Payment.status.is_in(*settleable_statuses),
    )
    transaction.save(
        Transaction(
            payment_id=payment.payment_id,
            txn_id=txn_id,
            merchant_id=payment.merchant_id,
            kind=TransactionKind.SETTLEMENT,
            amount=amount,
            currency=currency,
            status=TransactionStatus.SUCCEEDED,
            reason=reason,
            settlement_id=settlement_id,
            fee=fee,
            created=at,
        ),
        condition=Transaction.txn_id.does_not_exist(),
    )
    transaction.save(
        audit_event_new(
            merchant_id=payment.merchant_id,
            actor=actor,
            action="payment.settle",
            entity_type="payment",
            entity_id=payment.payment_id,
            before={"settlement_id": None},
            after={"settlement_id": settlement_id, "amount": amount, "currency": currency},
            at=at,
        ),
        condition=audit_condition(),
    )
