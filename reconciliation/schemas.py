from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field

from core.pagination import PageQuery
from core.wire import rfc3339
from reconciliation.enums import Outcome
from reconciliation.models import Discrepancy, Payout, Settlement


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

    @staticmethod
    def resolve_id(settlement: Settlement) -> str:
        return settlement.settlement_id

    @staticmethod
    def resolve_object(settlement: Settlement) -> str:
        return "settlement"

    @staticmethod
    def resolve_totals(settlement: Settlement) -> dict[str, dict[str, int]]:
        return {
            currency: {key: int(total.get(key, 0)) for key in ("gross", "fees", "net")}
            for currency, total in sorted((settlement.totals or {}).items())
        }

    @staticmethod
    def resolve_counts(settlement: Settlement) -> dict[str, int]:
        """Every outcome, zero when none of the file's lines had it."""
        counts = {outcome.value: 0 for outcome in Outcome}
        counts.update({key: int(value) for key, value in (settlement.counts or {}).items()})
        return counts

    @staticmethod
    def resolve_created(settlement: Settlement) -> str | None:
        return rfc3339(settlement.created)

    @staticmethod
    def resolve_completed(settlement: Settlement) -> str | None:
        return rfc3339(settlement.completed)


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

    @staticmethod
    def resolve_id(discrepancy: Discrepancy) -> str:
        return discrepancy.discrepancy_id

    @staticmethod
    def resolve_object(discrepancy: Discrepancy) -> str:
        return "discrepancy"

    @staticmethod
    def resolve_resolved(discrepancy: Discrepancy) -> bool:
        return bool(discrepancy.resolved)


class DiscrepancyListOut(Schema):
    object: str = "list"
    data: list[DiscrepancyOut]
    has_more: bool
    next_cursor: str | None


class ResolveIn(Schema):
    reason: str


class PayoutOut(Schema):
    id: str
    object: str = "payout"
    settlement_id: str
    currency: str
    gross: int
    fees: int
    net: int
    payment_count: int
    arrival_date: str

    @staticmethod
    def resolve_id(payout: Payout) -> str:
        return payout.payout_id

    @staticmethod
    def resolve_object(payout: Payout) -> str:
        return "payout"


class PayoutListOut(Schema):
    object: str = "list"
    data: list[PayoutOut]
    has_more: bool
    next_cursor: str | None


class PayoutListQuery(PageQuery):
    cursor_prefix, cursor_noun = "po", "a payout"

    starting_after: str | None = Field(None, description="A payout id (`next_cursor`): the page after it.")


class BalanceAmount(Schema):
    currency: str
    amount: int


class BalanceOut(Schema):
    object: str = "balance"
    available: list[BalanceAmount]
    pending: list[BalanceAmount]
