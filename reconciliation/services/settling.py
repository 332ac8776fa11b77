"""Settling the matched payments of a chunk through the payments service, many per transaction.

A payment that changed since it was read (captured, refunded, settled by another file) cancels its
group's transaction; the group's payments are then read again, judged again and settled one by one
under `core.retry`'s one policy for transactions."""

from __future__ import annotations

import contextvars
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.conf import settings
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from core import dynamodb
from core.actor import SYSTEM
from core.batch import batch_get
from core.retry import transaction_retrying
from payments.balance import BALANCE_SHARDS, BalanceChanges, balance_shard
from payments.selectors import payment_batch_read
from payments.services.settlements import ITEMS_PER_SETTLEMENT, payment_settle_in
from reconciliation import csvfile
from reconciliation.matching import SETTLEABLE, PaymentFacts, Verdict, ledger_id_for, ledger_reason, line_judge, settles
from reconciliation.models import Settlement

logger = logging.getLogger(__name__)

# TransactWriteItems takes 100 items; each settled payment adds ITEMS_PER_SETTLEMENT (3), and the
# transaction one balance counter (its payments share a currency).
SETTLE_PER_TRANSACTION = (100 - 1) // ITEMS_PER_SETTLEMENT


class _LaneBalance(BalanceChanges):
    """The balance changes of one lane, all on the lane's own counter shard: transactions of
    different lanes never write the same counter item, so they do not conflict."""

    def __init__(self, merchant_id: str, lane_key: str):
        super().__init__(merchant_id)
        self.lane_key = lane_key

    def add(self, *, currency: str, key: str, pending: int = 0, available: int = 0) -> BalanceChanges:
        return super().add(currency=currency, key=self.lane_key, pending=pending, available=available)


def lane_keys(settlement_id: str, lanes: int) -> list[str]:
    """A key per lane whose balance shards differ (deterministic)."""
    keys: list[str] = []
    shards: set[int] = set()
    for n in range(1000):
        key = f"{settlement_id}#{n}"
        if balance_shard(key) not in shards:
            keys.append(key)
            shards.add(balance_shard(key))
            if len(keys) == min(lanes, BALANCE_SHARDS):
                break
    return keys


def _settle(
    settlement: Settlement, pairs: list[tuple[csvfile.Line, PaymentFacts]], at: datetime, lane_key: str
) -> None:
    """Mark payments settled with their ledger entry and audit event, version-checked, and move
    their balance from pending to available (one counter update per currency), in one transaction."""
    balance = _LaneBalance(settlement.merchant_id, lane_key)
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
                line=line.line,
            )
        for item, actions in balance.updates():
            transaction.update(item, actions=actions)


def _lane(
    settlement: Settlement, groups: list[list[tuple[csvfile.Line, PaymentFacts]]], at: datetime, lane_key: str
) -> dict[int, Verdict]:
    changed: dict[int, Verdict] = {}
    for group in groups:
        try:
            # a conflict (another lane's transaction in flight on the engine) is retried whole; a
            # failed condition (a payment changed) is settled one by one below
            transaction_retrying(lambda group=group: _settle(settlement, group, at, lane_key))
            continue
        except TransactWriteError:
            logger.info(
                "settlement %s: a payment changed while settling; settling one by one", settlement.settlement_id
            )
        for line, _ in group:
            changed[line.line] = _settle_one(settlement, line, at, lane_key)
    return changed


def settle_all(
    settlement: Settlement, pending: list[tuple[csvfile.Line, PaymentFacts]], at: datetime
) -> dict[int, Verdict]:
    """Settle the matched pairs; returns the verdicts of lines that changed on the way (by line number).
    The transactions run in `SETTLEMENT_SETTLE_LANES` concurrent lanes (threads, each on its own
    balance shard)."""
    groups = []
    for currency in dict.fromkeys(line.currency for line, _ in pending):
        same = [pair for pair in pending if pair[0].currency == currency]
        groups += [
            same[start : start + SETTLE_PER_TRANSACTION] for start in range(0, len(same), SETTLE_PER_TRANSACTION)
        ]
    keys = lane_keys(settlement.settlement_id, max(1, int(settings.SETTLEMENT_SETTLE_LANES)))
    lanes = [(groups[n :: len(keys)], key) for n, key in enumerate(keys) if groups[n :: len(keys)]]
    changed: dict[int, Verdict] = {}
    if len(lanes) <= 1:
        for lane_groups, key in lanes:
            changed.update(_lane(settlement, lane_groups, at, key))
        return changed
    with ThreadPoolExecutor(len(lanes), thread_name_prefix="settle") as pool:
        # each lane in a copy of this context (the request id and the like, which audit events record)
        futures = [
            pool.submit(contextvars.copy_context().run, _lane, settlement, lane_groups, at, key)
            for lane_groups, key in lanes
        ]
        for future in futures:
            changed.update(future.result())
    return changed


def _settle_one(settlement: Settlement, line: csvfile.Line, at: datetime, lane_key: str) -> Verdict:
    """Re-read a payment that changed under us, judge the line again and settle it alone. Run again
    by `transaction_retrying` when the transaction meets a conflict or a failed condition."""

    def attempt() -> Verdict:
        read = payment_batch_read(payment_ids=[line.payment_id])
        payment = read.payments(batch_get(read.keys, fields=read.fields)).get(line.payment_id)
        verdict = line_judge(line, payment, merchant_id=settlement.merchant_id, settlement_id=settlement.settlement_id)
        if settles(verdict, payment, settlement_id=settlement.settlement_id):
            _settle(settlement, [(line, payment)], at, lane_key)
        return verdict

    return transaction_retrying(attempt, reread_on_condition=True)
