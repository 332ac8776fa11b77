"""The discrepancies of a settlement as CSV, streamed, with cells that a spreadsheet would run as a
formula neutralised (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from reconciliation.models import Discrepancy

HEADER = (
    "id",
    "kind",
    "line",
    "payment_id",
    "expected",
    "actual",
    "detail",
    "resolved",
    "resolved_by",
    "resolved_reason",
)
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: object) -> str:
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return "'" + text if text.startswith(_DANGEROUS) else text


def discrepancy_csv(discrepancies: Iterable[Discrepancy]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(HEADER)
    yield flush()
    for d in discrepancies:
        writer.writerow(
            [
                cell_safe(value)
                for value in (
                    d.discrepancy_id,
                    d.kind,
                    int(d.line) if d.line is not None else "",
                    d.payment_id,
                    d.expected,
                    d.actual,
                    d.detail,
                    "true" if d.resolved else "false",
                    d.resolved_by,
                    d.resolved_reason,
                )
            ]
        )
        yield flush()
