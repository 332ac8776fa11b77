"""A payout's payments as CSV, streamed: the settlement's lines in the payout's currency with their
fees, amounts in decimal major units; formula-like cells are neutralised (`exports.cell_safe`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from core.money_format import major_units
from reconciliation.exports import cell_safe
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
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(HEADER)
    yield flush()
    for line in lines:
        money = [
            major_units(int(v), payout.currency) if v is not None else "" for v in (line.amount, line.fee, line.net)
        ]
        cells = (payout.payout_id, payout.settlement_id, int(line.line), line.payment_id, line.outcome, payout.currency)
        writer.writerow([cell_safe(value) for value in (*cells, *money, line.settled_at)])
        yield flush()
