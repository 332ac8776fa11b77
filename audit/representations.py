"""The audit event as the API, the CSV export and the pages show it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from audit.models import AuditEvent
from audit.schemas import AuditEventOut

CSV_COLUMNS = [
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "action",
    "outcome",
    "entity_type",
    "entity_id",
    "source_ip",
    "user_agent",
    "request_id",
    "detail",
    "before",
    "after",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def audit_event_object(event: AuditEvent) -> dict[str, Any]:
    return AuditEventOut.from_orm(event).model_dump(mode="json")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text  # OWASP CSV injection


def audit_csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    for event in events:
        buffer.seek(0)
        buffer.truncate()
        row = audit_event_object(event)
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
        yield buffer.getvalue()


def audit_diff(event: AuditEvent) -> list[dict[str, Any]]:
    """Field by field: what it was, what it became, and whether it changed."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    rows = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        rows.append(
            {
                "field": key,
                "before": _cell(old) if key in before else "—",
                "after": _cell(new) if key in after else "—",
                "changed": key not in before or key not in after or old != new,
            }
        )
    return rows
