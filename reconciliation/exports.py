"""The discrepancies of a settlement as CSV, streamed, with cells that a spreadsheet would run as a
formula neutralised (OWASP CSV injection). Money in `expected`/`actual` (the amount kinds) is written in
decimal major units with its currency in a column, as people and spreadsheets read it."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator

from core.money_format import major_units
from reconciliation.enums import Kind
from reconciliation.models import Discrepancy

HEADER = (
    "id",
    "kind",
    "line",
    "payment_id",
    "expected",
    "actual",
    "currency",
    "detail",
    "resolved",
    "resolved_by",
    "resolved_reason",
)
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
MONEY_KINDS = frozenset({Kind.AMOUNT_MISMATCH, Kind.FEE_MISMATCH, Kind.MISSING_IN_FILE})  # expected/actual are amounts


def cell_safe(value: object) -> str:
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return "'" + text if text.startswith(_DANGEROUS) else text


def csv_stream(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header, then each row, as CSV text one line at a time, every cell made safe (`cell_safe`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in itertools.chain([header], ([cell_safe(value) for value in cells] for cells in rows)):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def discrepancy_csv(
    discrepancies: Iterable[Discrepancy], *, currency_of: Callable[[str], str | None] = lambda payment_id: None
) -> Iterator[str]:
    """`currency_of(payment_id)` is the payment's currency (the amount kinds always name a payment);
    without it amounts stay in minor units and the currency cell is empty."""
    return csv_stream(HEADER, (_discrepancy_row(d, currency_of) for d in discrepancies))


def _discrepancy_row(d: Discrepancy, currency_of: Callable[[str], str | None]) -> tuple[object, ...]:
    currency = currency_of(d.payment_id) if d.kind in MONEY_KINDS and d.payment_id else None
    expected, actual = (
        (_major(d.expected, currency), _major(d.actual, currency)) if currency else (d.expected, d.actual)
    )
    return (
        d.discrepancy_id,
        d.kind,
        int(d.line) if d.line is not None else "",
        d.payment_id,
        expected,
        actual,
        currency or "",
        d.detail,
        "true" if d.resolved else "false",
        d.resolved_by,
        d.resolved_reason,
    )


def _major(value: object, currency: str) -> object:
    return major_units(value, currency) if isinstance(value, int) and not isinstance(value, bool) else value
