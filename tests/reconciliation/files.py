"""Settlement files for the tests: CSV rows and bytes in the format reconciliation reads."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from core.money import CURRENCIES
from reconciliation.enums import LineStatus

HEADER = ["payment_id", "amount", "currency", "fee", "net", "status", "settled_at"]


def major(amount: int, currency: str) -> str:
    places = CURRENCIES[currency]
    whole, fraction = divmod(amount, 10**places)
    return f"{whole}.{fraction:0{places}d}" if places else str(whole)


def fee_of(amount: int) -> int:
    return amount * 29 // 1000 + 30


def line_for(
    payment, *, fee: int | None = None, status: str = LineStatus.SETTLED, settled_at: str | None = None, **override
) -> dict:
    """A correct line for a payment; `override` replaces cells."""
    amount = int(payment.amount_captured)
    fee = fee_of(amount) if fee is None else fee
    row = {
        "payment_id": payment.payment_id,
        "amount": major(amount, payment.currency),
        "currency": payment.currency.upper(),
        "fee": major(fee, payment.currency),
        "net": major(amount - fee, payment.currency),
        "status": status,
        "settled_at": settled_at or payment.created.date().isoformat(),
    }
    row.update(override)
    return row


def csv_bytes(rows: list[dict], header: list[str] | None = None, *, bom: bool = False, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=header or HEADER, delimiter=delimiter, extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def days_ago(days: int, hour: int = 12) -> datetime:
    base = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return base - timedelta(days=days)
