"""Reads of the reconciliation app. Every read takes `merchant_id`; another merchant's settlement
is not found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from core import dynamodb
from core.errors import ValidationFailed
from core.ids import is_id
from core.pagination import Page
from reconciliation.enums import Kind
from reconciliation.errors import DiscrepancyNotFound, PayoutNotFound, SettlementNotFound
from reconciliation.models import Discrepancy, Payout, Settlement, SettlementLine


def settlement_get(*, merchant_id: str, settlement_id: str) -> Settlement:
    """By key, strongly consistent (the progress bar reads it while a worker writes it)."""
    settlement = dynamodb.item_of_merchant(Settlement, settlement_id, prefix="set", merchant_id=merchant_id)
    if settlement is None:
        raise SettlementNotFound(f"No settlement {settlement_id}.", param="id")
    return settlement


def settlement_list_for_merchant(
    *, merchant_id: str, limit: int = 20, starting_after: str | None = None
) -> Page[Settlement]:
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


def kind_check(kind: str | None) -> Kind | None:
    if kind in (None, ""):
        return None
    try:
        return Kind(kind)
    except ValueError:
        raise ValidationFailed(f"kind must be one of {', '.join(Kind)}.", param="kind", code="invalid_kind") from None


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
) -> Page[Discrepancy]:
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


@dataclass(frozen=True)
class KindTally:
    kind: Kind
    total: int
    resolved: int

    @property
    def open(self) -> int:
        return max(0, self.total - self.resolved)


def discrepancy_tally(settlement: Settlement) -> list[KindTally]:
    """Per kind, how many discrepancies the file has and how many are resolved, from the settlement's
    counters alone (no discrepancy is read): open = found - resolved."""
    resolved = resolved_by_kind(settlement)
    counts = settlement.counts or {}
    return [KindTally(kind, int(counts.get(kind, 0)), int(resolved.get(kind, 0))) for kind in Kind]


def resolved_by_kind(settlement: Settlement) -> dict[str, int]:
    """kind -> discrepancies resolved: the settlement's counters, or for a settlement processed before
    them (no `resolved_counts` at all), its resolved discrepancies counted once more."""
    if settlement.resolved_counts is not None:
        return {kind: int(n) for kind, n in settlement.resolved_counts.as_dict().items()}
    is_resolved = Discrepancy.resolved == True  # noqa: E712 (a DynamoDB condition, not a comparison)
    resolved = Discrepancy.query(settlement.settlement_id, filter_condition=is_resolved, attributes_to_get=["kind"])
    return dict(Counter(d.kind for d in resolved))


# --- payouts ---------------------------------------------------------------------------------------


def payout_get(*, merchant_id: str, payout_id: str) -> Payout:
    """By key; another merchant's payout is not found."""
    payout = dynamodb.item_of_merchant(Payout, payout_id, prefix="po", merchant_id=merchant_id)
    if payout is None:
        raise PayoutNotFound(f"No payout {payout_id}.", param="id")
    return payout


def payout_list_for_merchant(*, merchant_id: str, limit: int = 20, starting_after: str | None = None) -> Page[Payout]:
    """Newest first, from the by-merchant index; one more item is read to tell whether more exist."""
    last_key = None
    if starting_after:
        last_key = {"merchant_id": {"S": merchant_id}, "payout_id": {"S": starting_after}}
    results = Payout.by_merchant.query(
        merchant_id, scan_index_forward=False, page_size=limit + 1, last_evaluated_key=last_key
    )
    items = []
    for payout in results:
        items.append(payout)
        if len(items) > limit:
            break
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="payout_id")


def payout_lines(*, payout: Payout) -> Iterator[SettlementLine]:
    """The settlement's lines in the payout's currency, in file order: its payments with their fees."""
    return SettlementLine.iter(payout.settlement_id, currency=payout.currency)
