"""The API objects of API.md (settlement, discrepancy), shared by the API and the pages."""

from __future__ import annotations

from typing import Any

from core.wire import rfc3339
from reconciliation.enums import Outcome
from reconciliation.models import Discrepancy, Settlement


def settlement_object(settlement: Settlement) -> dict[str, Any]:
    counts = {outcome.value: 0 for outcome in Outcome}
    counts.update({key: int(value) for key, value in (settlement.counts or {}).items()})
    return {
        "id": settlement.settlement_id,
        "object": "settlement",
        "status": settlement.status,
        "filename": settlement.filename,
        "sha256": settlement.sha256,
        "rows_total": int(settlement.rows_total),
        "rows_processed": int(settlement.rows_processed),
        "period_start": settlement.period_start,
        "period_end": settlement.period_end,
        "totals": {
            currency: {key: int(total.get(key, 0)) for key in ("gross", "fees", "net")}
            for currency, total in sorted((settlement.totals or {}).items())
        },
        "counts": counts,
        "created": rfc3339(settlement.created),
        "completed": rfc3339(settlement.completed),
    }


def discrepancy_object(discrepancy: Discrepancy) -> dict[str, Any]:
    return {
        "id": discrepancy.discrepancy_id,
        "object": "discrepancy",
        "kind": discrepancy.kind,
        "line": int(discrepancy.line) if discrepancy.line is not None else None,
        "payment_id": discrepancy.payment_id,
        "expected": discrepancy.expected,
        "actual": discrepancy.actual,
        "detail": discrepancy.detail,
        "resolved": bool(discrepancy.resolved),
    }
