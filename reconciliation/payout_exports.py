"""A payout's payments as CSV, streamed: the settlement's lines in the payout's currency with their
fees, amounts in decimal major units; formula-like cells are neutralised (`exports.csv_stream`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from core.money_format import major_units
from reconciliation.exports import csv_stream
from reconciliation.models import Payout, SettlementLine

HEADER = (
    "payout_id",
    "settlement_id",
    "line",
    "payment_id",
    "outcome",
    "currency",
    "amount",
    "fee",
    "net",
    "settled_at",
)


def payout_csv(payout: Payout, lines: Iterable[SettlementLine]) -> Iterator[str]:
    return csv_stream(HEADER, (_line_row(payout, line) for line in lines))


def _line_row(payout: Payout, line: SettlementLine) -> tuple[object, ...]:
    money = [major_units(int(v), payout.currency) if v is not None else "" for v in (line.amount, line.fee, line.net)]
    cells = (payout.payout_id, payout.settlement_id, int(line.line), line.payment_id, line.outcome, payout.currency)
    return (*cells, *money, line.settled_at)
