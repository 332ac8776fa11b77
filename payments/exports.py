"""CSV export of payments: streamed row by row from the paged GSI query, so memory stays constant
for any number of rows. Text cells that a spreadsheet would run as a formula are neutralised
(OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from core.money_format import major_units
from core.wire import rfc3339
from payments.models import Payment
from payments.selectors import payment_iter_for_merchant

HEADER = (
    "id",
    "created",
    "amount",
    "currency",
    "status",
    "amount_captured",
    "amount_refunded",
    "customer_id",
    "card_brand",
    "card_last4",
    "description",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell starting like a formula gets a leading `'`, so spreadsheets show it as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _row(payment: Payment, *, major: bool) -> list[Any]:
    def amount(value: Any) -> Any:
        return major_units(int(value or 0), payment.currency) if major else int(value or 0)

    return [
        payment.payment_id,
        rfc3339(payment.created),
        amount(payment.amount),
        payment.currency,
        payment.status,
        amount(payment.amount_captured),
        amount(payment.amount_refunded),
        payment.customer_id or "",
        payment.card.brand if payment.card else "",
        payment.card.last4 if payment.card else "",
        payment.description or "",
    ]


def csv_lines(payments: Iterable[Payment], *, major: bool = False) -> Iterator[str]:
    """The header line, then one line per payment (RFC 4180 quoting, CRLF line ends). Amounts in
    integer minor units as API.md says (the API export), or with `major` in decimal major units
    ("1234.56", "5000" for JPY) as the dashboard's export gives them to people and spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(cell) for cell in cells])
        return buffer.getvalue()

    yield line(list(HEADER))
    for payment in payments:
        yield line(_row(payment, major=major))


def payment_export_lines(
    *, merchant_id: str, batch_rows: int = 200, major: bool = False, **filters: Any
) -> Iterator[str]:
    """The export of a merchant's payments matching `filters` (the list's filters), as CSV chunks of
    `batch_rows` lines. The first page is read before this returns, so a bad filter raises here,
    before any byte of a response is sent."""
    payments = payment_iter_for_merchant(merchant_id=merchant_id, **filters)
    first = list(itertools.islice(payments, 1))
    lines = csv_lines(itertools.chain(first, payments), major=major)
    return _batched(lines, batch_rows)


def _batched(lines: Iterator[str], size: int) -> Iterator[str]:
    while True:
        chunk = "".join(itertools.islice(lines, size))
        if not chunk:
            return
        yield chunk
