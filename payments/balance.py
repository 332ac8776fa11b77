"""The merchant's balance: sharded counters (`payments.models.Balance`) that every change moving
money ADDs to in its own transaction, never computed by scanning.

Where money sits (docs/DECISIONS.md, "Balance"):

- a capture adds to **pending**; the payment keeps its own share of pending (`balance_pending`);
- a refund, a dispute (amount and fee) and a won dispute move pending while the payment is not
  settled, and **available** once a settlement paid it out (the money left already: it is taken
  back from what was paid);
- a settlement moves each payment's share from pending to available, less the line's fee, in the
  transaction that settles it, one counter update per currency of the transaction (not per line).

`balance_recompute` derives the same figures from the ledger alone: the rebuild command writes
them, and the money-invariant tests compare them with the counters."""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from payments.enums import TransactionKind, TransactionStatus
from payments.models import Balance

BALANCE_SHARDS = 8


def balance_shard(key: str) -> int:
    """The shard of a change: from the payment (or settlement) id, so writes spread over the shards."""
    return zlib.crc32(key.encode()) % BALANCE_SHARDS


class BalanceChanges:
    """Collects ADDs per counter item; one update per item (a transaction may touch an item once)."""

    def __init__(self, merchant_id: str):
        self.merchant_id = merchant_id
        self._adds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, *, currency: str, key: str, pending: int = 0, available: int = 0) -> BalanceChanges:
        item = self._adds[f"{currency}#{balance_shard(key)}"]
        item["pending"] += pending
        item["available"] += available
        return self

    def updates(self) -> list[tuple[Balance, list]]:
        """(item, actions) pairs for `TransactWrite.update`."""
        out = []
        for key, adds in self._adds.items():
            actions = [getattr(Balance, name).add(value) for name, value in adds.items() if value]
            if actions:
                out.append((Balance(merchant_id=self.merchant_id, currency_shard=key), actions))
        return out


@dataclass(frozen=True)
class CurrencyBalance:
    currency: str
    pending: int = 0
    available: int = 0


def balance_get(*, merchant_id: str) -> list[CurrencyBalance]:
    """The merchant's balance per currency (sorted): one Query over its few counter items."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in Balance.query(merchant_id, consistent_read=True):
        currency = item.currency_shard.split("#", 1)[0]
        sums[currency][0] += int(item.pending or 0)
        sums[currency][1] += int(item.available or 0)
    return [CurrencyBalance(currency, pending, available) for currency, (pending, available) in sorted(sums.items())]


# What each ledger entry does to the payment's money (the settlement entry moves it instead).
SIGNS = {
    TransactionKind.CAPTURE: 1,
    TransactionKind.REFUND: -1,
    TransactionKind.DISPUTE: -1,
    TransactionKind.DISPUTE_FEE: -1,
    TransactionKind.DISPUTE_REVERSAL: 1,
}


@dataclass(frozen=True)
class PaymentShare:
    """One payment's part of the balance, from its ledger entries."""

    currency: str
    pending: int
    available: int


def payment_share(entries: Iterable, *, currency: str) -> PaymentShare:
    """A payment's share: the sum of its money movements sits in pending until a settlement entry
    exists, then in available less the settlement's fee (every later movement goes to available
    too, so the order does not matter)."""
    total, fee, settled = 0, 0, False
    for entry in entries:
        if entry.status != TransactionStatus.SUCCEEDED:
            continue
        if entry.kind == TransactionKind.SETTLEMENT:
            settled, fee = True, fee + int(entry.fee or 0)
            continue
        total += SIGNS.get(entry.kind, 0) * int(entry.amount)
    if settled:
        return PaymentShare(currency, 0, total - fee)
    return PaymentShare(currency, total, 0)


def balance_recompute(shares: Iterable[PaymentShare]) -> list[CurrencyBalance]:
    """The balance per currency as the ledger says it (sorted like `balance_get`)."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for share in shares:
        sums[share.currency][0] += share.pending
        sums[share.currency][1] += share.available
    return [CurrencyBalance(currency, pending, available) for currency, (pending, available) in sorted(sums.items())]
