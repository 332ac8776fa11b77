"""Daily summary counters, updated with ADD inside each payment's transaction.

A payment's status counters live on its creation day; money moved (captured, refunded) on the day
it moved. The shard comes from the payment id, so every change of one payment hits the same item
of a day, and a busy merchant's writes spread over `SUMMARY_SHARDS` items.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import datetime

from django.conf import settings

from merchants.zones import merchant_day
from payments.balance import BalanceChanges
from payments.models import DailySummary, Payment


def summary_key(*, payment: Payment, day: datetime) -> str:
    """The item of the merchant's day of `day` (its local day once it set a time zone: `merchants.zones`)."""
    return summary_key_of(
        merchant_id=payment.merchant_id, payment_id=payment.payment_id, currency=payment.currency, day=day
    )


def summary_key_of(*, merchant_id: str, payment_id: str, currency: str, day: datetime) -> str:
    """`summary_key` from the payment's fields (bulk imports build no `Payment` per row)."""
    shard = zlib.crc32(payment_id.encode()) % settings.SUMMARY_SHARDS
    local_day = merchant_day(merchant_id=merchant_id, at=day)
    return f"{local_day:%Y-%m-%d}#{currency}#{shard}"


class SummaryChanges:
    """Collects ADDs per summary item; one update per item (a transaction may touch an item once).
    The money moved also goes to the balance counters (`payments.balance`): pending while the
    payment is unsettled (and to its own `balance_pending`), available once it is settled."""

    def __init__(self, payment: Payment):
        self.payment = payment
        self._adds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.balance = BalanceChanges(payment.merchant_id)
        self.payment_pending = 0  # what the change ADDs to the payment's `balance_pending`

    def _money(self, amount: int) -> None:
        payment = self.payment
        if payment.settlement_id:
            self.balance.add(currency=payment.currency, key=payment.payment_id, available=amount)
        else:
            self.balance.add(currency=payment.currency, key=payment.payment_id, pending=amount)
            self.payment_pending += amount

    def payment_actions(self) -> list:
        """The payment update's share of the change: its `balance_pending` ADD, if any."""
        return [Payment.balance_pending.add(self.payment_pending)] if self.payment_pending else []

    def _add(self, day: datetime, attribute: str, value: int) -> None:
        self._adds[summary_key(payment=self.payment, day=day)][attribute] += value

    def status(self, *, old: str | None, new: str) -> SummaryChanges:
        if old == new:
            return self
        created = self.payment.created
        if old is not None:
            self._add(created, f"count_{old}", -1)
            self._add(created, f"amount_{old}", -int(self.payment.amount))
        self._add(created, f"count_{new}", 1)
        self._add(created, f"amount_{new}", int(self.payment.amount))
        return self

    def captured(self, *, amount: int, at: datetime) -> SummaryChanges:
        self._add(at, "captured", amount)
        self._money(amount)
        return self

    def refunded(self, *, amount: int, at: datetime) -> SummaryChanges:
        self._add(at, "refunded", amount)
        self._add(at, "refund_count", 1)
        self._money(-amount)
        return self

    def disputed(self, *, amount: int, fee: int, at: datetime) -> SummaryChanges:
        self._add(at, "disputed", amount)
        self._add(at, "dispute_count", 1)
        self._add(at, "dispute_fees", fee)
        self._money(-amount - fee)
        return self

    def dispute_won(self, *, amount: int, at: datetime) -> SummaryChanges:
        self._add(at, "dispute_won", amount)
        self._money(amount)
        return self

    def updates(self) -> list[tuple[DailySummary, list]]:
        """(item, actions) pairs for `TransactWrite.update`: the day's counters, then the balance's."""
        out: list = []
        for key, adds in self._adds.items():
            item = DailySummary(merchant_id=self.payment.merchant_id, day_currency_shard=key)
            actions = [getattr(DailySummary, name).add(value) for name, value in adds.items() if value]
            if actions:
                out.append((item, actions))
        return out + self.balance.updates()
