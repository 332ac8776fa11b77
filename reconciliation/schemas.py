from __future__ import annotations

from typing import Any

from ninja import Schema


class CurrencyTotals(Schema):
    gross: int
    fees: int
    net: int


class SettlementOut(Schema):
    id: str
    object: str = "settlement"
    status: str
    filename: str
    sha256: str
    rows_total: int
    rows_processed: int
    period_start: str | None
    period_end: str | None
    totals: dict[str, CurrencyTotals]
    counts: dict[str, int]
    created: str
    completed: str | None


class SettlementListOut(Schema):
    object: str = "list"
    data: list[SettlementOut]
    has_more: bool
    next_cursor: str | None


class DiscrepancyOut(Schema):
    id: str
    object: str = "discrepancy"
    kind: str
    line: int | None
    payment_id: str | None
    expected: Any
    actual: Any
    detail: str
    resolved: bool


class DiscrepancyListOut(Schema):
    object: str = "list"
    data: list[DiscrepancyOut]
    has_more: bool
    next_cursor: str | None


class ResolveIn(Schema):
    reason: str
