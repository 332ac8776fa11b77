"""Settling the matched payments of a chunk through the payments service, many per transaction.

A payment that changed since it was read (captured, refunded, settled by another file) cancels its
group's transaction; the group's payments are then read again, judged again and settled one by one
under `core.retry`'s one policy for transactions."""

from __future__ import annotations

import logging
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from core import dynamodb
from core.actor import SYSTEM
from core.retry import transaction_retrying
from payments.balance import BalanceChanges
from payments.selectors import payment_batch_read
from payments.services.settlements import ITEMS_PER_SETTLEMENT, payment_settle_in
from reconciliation import csvfile
from reconciliation.batch import batch_get
from reconciliation.matching import SETTLEABLE, PaymentFacts, Verdict, ledger_id_for, ledger_reason, line_judge, settles
from reconciliation.models import Settlement

logger = logging.getLogger(__name__)

# TransactWriteItems takes 100 items; each settled payment adds ITEMS_PER_SETTLEMENT (3), and the
# transaction one balance counter (its payments share a currency).
SETTLE_PER_TRANSACTION = (100 - 1) // ITEMS_PER_SETTLEMENT


def _settle(settlement: Settlement, pairs: list[tuple[csvfile.Line, PaymentFacts]], at: datetime) -> None:
    """Mark payments settled with their ledger entry and audit event, version-checked, and move
    their balance from pending to available (one counter update per currency), in one transaction."""
    balance = BalanceChanges(settlement.merchant_id)
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        for line, payment in pairs:
            payment_settle_in(
                transaction=transaction,
                payment=payment,
                settlement_id=settlement.settlement_id,
                settleable_statuses=SETTLEABLE[line.status],
                txn_id=ledger_id_for(
                    settlement_id=settlement.settlement_id,
                    settlement_created=settlement.created,
                    payment_id=payment.payment_id,
                ),
                amount=line.amount,
                currency=line.currency,
                reason=ledger_reason(line),
                actor=SYSTEM,
                at=at,
                fee=line.fee,
                balance=balance,
            )
        for item, actions in balance.updates():
            transaction.update(item, actions=actions)


def settle_all(
    settlement: Settlement, pending: list[tuple[csvfile.Line, PaymentFacts]], at: datetime
) -> dict[int, Verdict]:
    """Settle the matched pairs; returns the verdicts of lines that changed on the way (by line number)."""
    changed: dict[int, Verdict] = {}
    groups = []
    for currency in dict.fromkeys(line.currency for line, _ in pending):
        same = [pair for pair in pending if pair[0].currency == currency]
        groups += [
            same[start : start + SETTLE_PER_TRANSACTION] for start in range(0, len(same), SETTLE_PER_TRANSACTION)
        ]
    for group in groups:
        try:
            _settle(settlement, group, at)
            continue
        except TransactWriteError:
            logger.info(
                "settlement %s: a payment changed while settling; settling one by one", settlement.settlement_id
            )
        for line, _ in group:
            changed[line.line] = _settle_one(settlement, line, at)
    return changed


def _settle_one(settlement: Settlement, line: csvfile.Line, at: datetime) -> Verdict:
    """Re-read a payment that changed under us, judge the line again and settle it alone. Run again
    by `transaction_retrying` when the transaction meets a conflict or a failed condition."""

    def attempt() -> Verdict:
        read = payment_batch_read(payment_ids=[line.payment_id])
        payment = read.payments(batch_get(read.keys, fields=read.fields)).get(line.payment_id)
        verdict = line_judge(line, payment, merchant_id=settlement.merchant_id, settlement_id=settlement.settlement_id)
        if settles(verdict, payment, settlement_id=settlement.settlement_id):
            _settle(settlement, [(line, payment)], at)
        return verdict

    return transaction_retrying(attempt, reread_on_condition=True)
