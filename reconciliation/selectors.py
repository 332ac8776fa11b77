"""Reads of the reconciliation app. Every read takes `merchant_id`; another merchant's settlement
is not found."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from core import dynamodb
from core.errors import ValidationFailed
from core.ids import id_ceiling, id_floor, is_id
from payments.models import Payment
from reconciliation.errors import DiscrepancyNotFound, SettlementNotFound
from reconciliation.models import KINDS, Discrepancy, Settlement


def settlement_get(*, merchant_id: str, settlement_id: str) -> Settlement:
    """By key, strongly consistent (the progress bar reads it while a worker writes it)."""
    settlement = dynamodb.item_of_merchant(Settlement, settlement_id, prefix="set", merchant_id=merchant_id)
    if settlement is None:
        raise SettlementNotFound(f"No settlement {settlement_id}.", param="id")
    return settlement


@dataclass(frozen=True)
class Page:
    items: list
    has_more: bool
    cursor_attribute: str

    @property
    def next_cursor(self) -> str | None:
        return getattr(self.items[-1], self.cursor_attribute) if self.has_more and self.items else None


def settlement_list_for_merchant(*, merchant_id: str, limit: int = 20, starting_after: str | None = None) -> Page:
    """Newest first, from the by-merchant index."""
    last_key = None
    if starting_after:
        if not is_id(starting_after, "set"):
            raise SettlementNotFound(f"No settlement {starting_after}.", param="starting_after")
        last_key = {"merchant_id": {"S": merchant_id}, "settlement_id": {"S": starting_after}}
    results = Settlement.by_merchant.query(
        merchant_id, scan_index_forward=False, page_size=limit + 1, last_evaluated_key=last_key
    )
    items = []
    for settlement in results:
        items.append(settlement)
        if len(items) > limit:
            break
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="settlement_id")


def kind_check(kind: str | None) -> str | None:
    if kind in (None, ""):
        return None
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}.", param="kind", code="invalid_kind")
    return kind


def _discrepancy_query(*, settlement_id: str, kind: str | None, starting_after: str | None, page_size: int | None):
    last_key = None
    if starting_after:
        if not is_id(starting_after, "dis"):
            raise DiscrepancyNotFound(f"No discrepancy {starting_after}.", param="starting_after")
        last_key = {"settlement_id": {"S": settlement_id}, "discrepancy_id": {"S": starting_after}}
        if kind:
            last_key["settlement_kind"] = {"S": f"{settlement_id}#{kind}"}
    if kind:
        return Discrepancy.by_kind.query(f"{settlement_id}#{kind}", page_size=page_size, last_evaluated_key=last_key)
    return Discrepancy.query(settlement_id, page_size=page_size, last_evaluated_key=last_key)


def discrepancy_list(
    *, merchant_id: str, settlement_id: str, limit: int = 20, starting_after: str | None = None, kind: str | None = None
) -> Page:
    """One page in line order (`missing_in_file` ones last); `kind` reads the by-kind index."""
    settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)
    kind = kind_check(kind)
    items = []
    for discrepancy in _discrepancy_query(
        settlement_id=settlement_id, kind=kind, starting_after=starting_after, page_size=limit + 1
    ):
        items.append(discrepancy)
        if len(items) > limit:
            break
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="discrepancy_id")


def discrepancy_iter(*, merchant_id: str, settlement_id: str, kind: str | None = None) -> Iterator[Discrepancy]:
    """Every discrepancy, page by page (the CSV download)."""
    settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)
    return iter(
        _discrepancy_query(settlement_id=settlement_id, kind=kind_check(kind), starting_after=None, page_size=500)
    )


def discrepancy_get(*, merchant_id: str, settlement_id: str, discrepancy_id: str) -> Discrepancy:
    settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)
    if is_id(discrepancy_id, "dis"):
        try:
            return Discrepancy.get(settlement_id, discrepancy_id, consistent_read=True)
        except DoesNotExist:
            pass
    raise DiscrepancyNotFound(f"No discrepancy {discrepancy_id}.", param="discrepancy_id")


CAPTURED_STATUSES = ("succeeded", "partially_refunded", "refunded")
_CAPTURED_FIELDS = [
    "payment_id",
    "merchant_id",
    "merchant_status",
    "status",
    "currency",
    "amount_captured",
    "settlement_id",
    "created",
]


def captured_payments_in_period(
    *, merchant_id: str, created_gte: datetime, created_lt: datetime, after: str | None = None
) -> Iterator[tuple[str, Payment]]:
    """The merchant's captured payments created in [created_gte, created_lt), with a cursor each
    (`<status>|<payment_id>`) that `after` resumes from. One Query per captured status on the
    by-merchant-status index with ULID key bounds: no other payment is read."""
    resume_status, _, resume_id = (after or "").partition("|")
    statuses = (
        CAPTURED_STATUSES[CAPTURED_STATUSES.index(resume_status) :]
        if resume_status in CAPTURED_STATUSES
        else CAPTURED_STATUSES
    )
    bounds = Payment.payment_id.between(id_floor("pay", created_gte), id_ceiling("pay", created_lt))
    for status in statuses:
        hash_key = f"{merchant_id}#{status}"
        last_key = None
        if status == resume_status and resume_id:
            last_key = {"payment_id": {"S": resume_id}, "merchant_status": {"S": hash_key}}
        results = Payment.by_merchant_status.query(
            hash_key,
            range_key_condition=bounds,
            page_size=1000,
            last_evaluated_key=last_key,
            attributes_to_get=_CAPTURED_FIELDS,
        )
        for payment in results:
            yield f"{status}|{payment.payment_id}", payment
