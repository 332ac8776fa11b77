"""Reads of disputes. Every read takes `merchant_id`; another merchant's dispute is not found."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import dynamodb
from core.pagination import Page
from disputes.enums import OPEN_STATUSES, DisputeStatus
from disputes.errors import DisputeNotFound
from disputes.models import Dispute, EvidenceFile


def dispute_get(*, merchant_id: str, dispute_id: str) -> Dispute:
    """A dispute by key (strongly consistent)."""
    dispute = dynamodb.item_of_merchant(Dispute, dispute_id, prefix="dp", merchant_id=merchant_id)
    if dispute is None:
        raise DisputeNotFound(f"No dispute {dispute_id}.", param="id")
    return dispute


def dispute_list_for_merchant(
    *,
    merchant_id: str,
    limit: int = 20,
    starting_after: str | None = None,
    status: str | None = None,
    payment_id: str | None = None,
) -> Page[Dispute]:
    """One page of a merchant's disputes, newest first, from the GSIs (never a Scan): by status
    (`by-merchant-status`), by payment (`by-payment`, the merchant checked on each item), or all
    (`by-merchant`). One more item is read to tell whether more exist."""
    items = list(
        dispute_iter_for_merchant(
            merchant_id=merchant_id,
            starting_after=starting_after,
            status=status,
            payment_id=payment_id,
            page_size=limit + 1,
            stop_after=limit + 1,
        )
    )
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="dispute_id")


def dispute_iter_for_merchant(
    *,
    merchant_id: str,
    starting_after: str | None = None,
    status: str | None = None,
    payment_id: str | None = None,
    page_size: int = 100,
    stop_after: int | None = None,
) -> Iterator[Dispute]:
    range_condition = Dispute.dispute_id < starting_after if starting_after else None
    filter_condition = None
    index: Any
    if payment_id:
        index, hash_key = Dispute.by_payment, payment_id
        filter_condition = Dispute.merchant_id == merchant_id
        if status:
            filter_condition &= Dispute.status == status
    elif status:
        index, hash_key = Dispute.by_merchant_status, f"{merchant_id}#{status}"
    else:
        index, hash_key = Dispute.by_merchant, merchant_id
    results = index.query(
        hash_key,
        range_key_condition=range_condition,
        filter_condition=filter_condition,
        scan_index_forward=False,
        page_size=page_size,
    )
    for count, item in enumerate(results, start=1):
        yield item
        if stop_after is not None and count >= stop_after:
            return


def dispute_for_payment(*, merchant_id: str, payment_id: str) -> Dispute | None:
    """The payment's dispute (the latest, were there several), or None."""
    return next(dispute_iter_for_merchant(merchant_id=merchant_id, payment_id=payment_id, stop_after=1), None)


@dataclass(frozen=True)
class StatusCount:
    status: str
    count: int


def dispute_counts(*, merchant_id: str) -> list[StatusCount]:
    """How many disputes the merchant has in each status: one keys-only count query per status."""
    return [
        StatusCount(status=status, count=Dispute.by_merchant_status.count(f"{merchant_id}#{status}"))
        for status in DisputeStatus
    ]


def disputes_due(*, status: str, now: datetime) -> Iterator[Dispute]:
    """Open disputes (every merchant) in `status` whose next step is due by `now`: the sweep's work,
    from the sparse `by-due` index (eventually consistent: the service re-reads each one)."""
    if status not in OPEN_STATUSES:
        raise ValueError(f"{status!r} is not an open dispute status")
    return Dispute.by_due.query(status, range_key_condition=Dispute.due_at <= now)


def evidence_file_get(*, dispute: Dispute, file_id: str) -> EvidenceFile:
    for file in (dispute.evidence.files or []) if dispute.evidence is not None else []:
        if file.file_id == file_id:
            return file
    raise DisputeNotFound(f"No evidence file {file_id}.", param="file_id")
