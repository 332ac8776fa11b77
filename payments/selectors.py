"""Reads. Every read of merchant data takes `merchant_id`; another merchant's object is not found."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from core import dynamodb
from core.ids import id_ceiling, id_floor, is_id
from core.pagination import Page
from payments.enums import PaymentStatus, RefundRequestStatus, TransactionKind
from payments.errors import PaymentNotFound, RefundRequestNotFound
from payments.models import PAYMENT_STATUSES, DailySummary, Payment, RefundRequest, Transaction

# --- merchants -------------------------------------------------------------------------------


# --- API keys --------------------------------------------------------------------------------


# --- payments --------------------------------------------------------------------------------


def payment_get(*, merchant_id: str, payment_id: str) -> Payment:
    """A payment by key (strongly consistent). Another merchant's payment is not found."""
    payment = dynamodb.item_of_merchant(Payment, payment_id, prefix="pay", merchant_id=merchant_id)
    if payment is None:
        raise PaymentNotFound(f"No payment {payment_id}.", param="id")
    return payment


def payment_list_by_ids(*, merchant_id: str, payment_ids: list[str]) -> list[Payment]:
    """These payments in the given order (a search result page), in one BatchGetItem; ids that are
    missing or another merchant's are left out."""
    wanted = [payment_id for payment_id in dict.fromkeys(payment_ids) if is_id(payment_id, "pay")]
    found = {p.payment_id: p for p in Payment.batch_get(wanted) if p.merchant_id == merchant_id} if wanted else {}
    return [found[payment_id] for payment_id in wanted if payment_id in found]


_KIND_RANK = {kind: rank for rank, kind in enumerate(TransactionKind)}


def transaction_list_for_payment(*, payment_id: str) -> list[Transaction]:
    """The ledger of a payment, oldest first; entries of the same moment in the order of a payment's
    life (`TransactionKind`: authorization, capture, refund...), whatever their ids' random parts say
    (an imported payment's entries all have its `created`)."""
    entries = list(Transaction.query(payment_id, consistent_read=True))
    return sorted(entries, key=lambda entry: (entry.created, _KIND_RANK.get(entry.kind, len(_KIND_RANK))))


def payment_list_for_merchant(
    *,
    merchant_id: str,
    limit: int = 20,
    starting_after: str | None = None,
    status: str | None = None,
    customer_id: str | None = None,
    created_gte: datetime | None = None,
    created_lt: datetime | None = None,
    newest_first: bool = True,
    amount_gte: int | None = None,
    amount_lte: int | None = None,
    card_last4: str | None = None,
    currency: str | None = None,
) -> Page[Payment]:
    """One page of a merchant's payments from the GSIs (never a Scan). The index is picked by the
    filter; a date range is a key condition on ULID bounds. The page is filled even when a filter
    drops items, and one more item is read to tell whether more exist.

    `amount_gte`/`amount_lte` (minor units) and `card_last4` are not index keys: they are a
    FilterExpression over the same index pages. The first page reads `limit + 1` items, as without
    them, and each page that does not fill the list reads 4 times more (up to 500): a common match
    costs one small read, a rare one a few round trips, not one per `limit` items. Without these
    filters the query is exactly the one the API has always made.
    `currency` (the dashboard's amount filter, whose amounts mean one currency) is one more of them."""
    post_filtered = amount_gte is not None or amount_lte is not None or bool(card_last4) or bool(currency)
    items = list(
        _payment_iter(
            merchant_id=merchant_id,
            starting_after=starting_after,
            status=status,
            customer_id=customer_id,
            created_gte=created_gte,
            created_lt=created_lt,
            newest_first=newest_first,
            amount_gte=amount_gte,
            amount_lte=amount_lte,
            card_last4=card_last4,
            currency=currency,
            page_size=limit + 1,
            stop_after=limit + 1,
            grow_pages=post_filtered,
        )
    )
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="payment_id")


POST_FILTER_PAGE_SIZE = 500


def payment_iter_for_merchant(**filters) -> Iterator[Payment]:
    """Every matching payment, page by page (exports). Takes the filters of `payment_list_for_merchant`
    (all keyword, `merchant_id` required); absent ones default to "no filter", newest first."""
    filters.setdefault("starting_after", None)
    filters.setdefault("status", None)
    filters.setdefault("customer_id", None)
    filters.setdefault("created_gte", None)
    filters.setdefault("created_lt", None)
    filters.setdefault("newest_first", True)
    return _payment_iter(page_size=500, stop_after=None, **filters)


def _payment_iter(
    *,
    merchant_id: str,
    starting_after: str | None,
    status: str | None,
    customer_id: str | None,
    created_gte: datetime | None,
    created_lt: datetime | None,
    newest_first: bool,
    page_size: int,
    stop_after: int | None,
    grow_pages: bool = False,
    amount_gte: int | None = None,
    amount_lte: int | None = None,
    card_last4: str | None = None,
    currency: str | None = None,
) -> Iterator[Payment]:
    condition = None
    if created_gte is not None and created_lt is not None:
        condition = Payment.payment_id.between(id_floor("pay", created_gte), id_ceiling("pay", created_lt))
    elif created_gte is not None:
        condition = Payment.payment_id >= id_floor("pay", created_gte)
    elif created_lt is not None:
        condition = Payment.payment_id <= id_ceiling("pay", created_lt)

    filter_condition = None
    if customer_id:
        index, hash_key = Payment.by_customer, customer_id
        filter_condition = Payment.merchant_id == merchant_id
        if status:
            filter_condition &= Payment.status == status
    elif status:
        index, hash_key = Payment.by_merchant_status, f"{merchant_id}#{status}"
    else:
        index, hash_key = Payment.by_merchant, merchant_id

    for extra in _post_filters(amount_gte=amount_gte, amount_lte=amount_lte, card_last4=card_last4, currency=currency):
        filter_condition = extra if filter_condition is None else filter_condition & extra

    last_key = None
    if starting_after:
        if not is_id(starting_after, "pay"):
            raise PaymentNotFound(f"No payment {starting_after}.", param="starting_after")
        last_key = {"payment_id": {"S": starting_after}}
        key_attr = {Payment.by_customer: "customer_id", Payment.by_merchant_status: "merchant_status"}.get(
            index, "merchant_id"
        )
        last_key[key_attr] = {"S": hash_key}

    results = index.query(
        hash_key,
        range_key_condition=condition,
        filter_condition=filter_condition,
        scan_index_forward=not newest_first,
        page_size=page_size,
        last_evaluated_key=last_key,
    )
    pages = results.page_iter  # page by page, so that each page can be bigger than the last
    count = 0
    for page in pages:
        for raw in page.get("Items", ()):
            yield Payment.from_raw_data(raw)
            count += 1
            if stop_after is not None and count >= stop_after:
                return
        if grow_pages:
            pages.page_size = min(pages.page_size * 4, POST_FILTER_PAGE_SIZE)


def _post_filters(
    *, amount_gte: int | None, amount_lte: int | None, card_last4: str | None, currency: str | None = None
) -> list:
    """Conditions on attributes that are not index keys (a FilterExpression; the page is still filled)."""
    conditions = []
    if amount_gte is not None and amount_lte is not None:
        conditions.append(Payment.amount.between(amount_gte, amount_lte))
    elif amount_gte is not None:
        conditions.append(Payment.amount >= amount_gte)
    elif amount_lte is not None:
        conditions.append(Payment.amount <= amount_lte)
    if card_last4:
        conditions.append(Payment.card.last4 == card_last4)
    if currency:
        conditions.append(Payment.currency == currency)
    return conditions


# --- summaries -------------------------------------------------------------------------------


@dataclass
class CurrencySummary:
    currency: str
    count_by_status: dict[str, int]
    amount_by_status: dict[str, int]
    captured: int = 0
    refunded: int = 0
    refund_count: int = 0

    @property
    def count(self) -> int:
        return sum(self.count_by_status.values())

    @property
    def net(self) -> int:
        return self.captured - self.refunded

    @property
    def success_rate(self) -> float | None:
        """Share of decided payments (not awaiting capture or the processor) that did not fail, 0..1."""
        undecided = self.count_by_status.get(PaymentStatus.REQUIRES_CAPTURE, 0) + self.count_by_status.get(
            PaymentStatus.PROCESSING, 0
        )
        decided = self.count - undecided
        if decided <= 0:
            return None
        return 1 - self.count_by_status.get(PaymentStatus.FAILED, 0) / decided


@dataclass
class Summary:
    start: date
    end: date  # inclusive
    currencies: dict[str, CurrencySummary]
    days: dict[date, dict[str, CurrencySummary]]  # every day in range, per currency


def payment_summary(*, merchant_id: str, start: date, end: date) -> Summary:
    """Totals per currency and per day from the pre-aggregated counters: one Query over
    days x currencies x shards items, never the payments. `end` is inclusive."""

    def empty(currency: str) -> CurrencySummary:
        zero = dict.fromkeys(PAYMENT_STATUSES, 0)
        return CurrencySummary(currency=currency, count_by_status=dict(zero), amount_by_status=dict(zero))

    totals: dict[str, CurrencySummary] = {}
    days: dict[date, dict[str, CurrencySummary]] = {}
    day = start
    while day <= end:
        days[day] = {}
        day += timedelta(days=1)
    items = DailySummary.query(
        merchant_id,
        range_key_condition=DailySummary.day_currency_shard.between(f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}#~"),
    )
    for item in items:
        day_text, currency, _ = item.day_currency_shard.split("#")
        item_day = date.fromisoformat(day_text)
        for target in (
            totals.setdefault(currency, empty(currency)),
            days[item_day].setdefault(currency, empty(currency)),
        ):
            for status in PAYMENT_STATUSES:
                target.count_by_status[status] += item.value(f"count_{status}")
                target.amount_by_status[status] += item.value(f"amount_{status}")
            target.captured += item.value("captured")
            target.refunded += item.value("refunded")
            target.refund_count += item.value("refund_count")
    return Summary(start=start, end=end, currencies=totals, days=days)


# --- customers -------------------------------------------------------------------------------


# --- webhook deliveries ----------------------------------------------------------------------


# --- settling (read by the reconciliation app) -----------------------------------------------

# What matching a settlement line reads of a payment (`version` for the version-checked update).
SETTLING_FIELDS = [
    "payment_id",
    "merchant_id",
    "status",
    "currency",
    "amount_captured",
    "settlement_id",
    "balance_pending",
    "version",
]


@dataclass(frozen=True)
class PaymentBatchRead:
    """Payments by id, read in the caller's own BatchGetItem together with keys of its tables, so one
    call reads both: pass `keys` and `fields` to the batch read, then `payments(items)` picks the
    payments out of what it returned (the other items are the caller's)."""

    keys: list[tuple[type[Payment], dict[str, str]]]
    fields: dict[type[Payment], list[str]]

    def payments(self, items: list) -> dict[str, Payment]:
        return {item.payment_id: item for item in items if isinstance(item, Payment)}


def payment_batch_read(*, payment_ids: list[str]) -> PaymentBatchRead:
    """The payments to settle, projected to `SETTLING_FIELDS`, strongly consistent. An id that is
    not a payment id is not read (no item, no call); repeated ids are read once."""
    wanted = [payment_id for payment_id in dict.fromkeys(payment_ids) if is_id(payment_id, "pay")]
    return PaymentBatchRead(
        keys=[(Payment, {"payment_id": payment_id}) for payment_id in wanted], fields={Payment: SETTLING_FIELDS}
    )


CAPTURED_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
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


def payment_iter_captured_for_merchant(
    *,
    merchant_id: str,
    created_gte: datetime,
    created_lt: datetime,
    after: str | None = None,
    unsettled_only: bool = False,
) -> Iterator[tuple[str, Payment]]:
    """The merchant's captured payments created in [created_gte, created_lt), with a cursor each
    (`<status>|<payment_id>`) that `after` resumes from. One Query per captured status on the
    by-merchant-status index with ULID key bounds and a few attributes: no other payment is read.
    `unsettled_only`: those without a `settlement_id`, filtered by DynamoDB (it reads, and bills,
    the same items, but sends back only these)."""
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
            filter_condition=Payment.settlement_id.does_not_exist() if unsettled_only else None,
        )
        for payment in results:
            yield f"{status}|{payment.payment_id}", payment


# --- refund requests (four-eyes approval) ----------------------------------------------------


def refund_request_get(*, merchant_id: str, request_id: str) -> RefundRequest:
    """A refund request by key (strongly consistent). Another merchant's request is not found."""
    request = dynamodb.item_of_merchant(RefundRequest, request_id, prefix="rr", merchant_id=merchant_id)
    if request is None:
        raise RefundRequestNotFound(f"No refund request {request_id}.", param="id")
    return request


def refund_request_status(request: RefundRequest, *, now: datetime | None = None) -> str:
    """The request's status as everyone reads it: a pending request past `expires_at` is expired,
    whether or not the sweep has marked it yet."""
    at = now or datetime.now(UTC)
    if request.status == RefundRequestStatus.PENDING_APPROVAL and request.expires_at <= at:
        return RefundRequestStatus.EXPIRED
    return request.status


def _refund_request_status_filter(status: str, now: datetime) -> Any:
    pending = RefundRequest.status == RefundRequestStatus.PENDING_APPROVAL
    if status == RefundRequestStatus.PENDING_APPROVAL:
        return pending & (RefundRequest.expires_at > now)
    if status == RefundRequestStatus.EXPIRED:
        return (RefundRequest.status == RefundRequestStatus.EXPIRED) | (pending & (RefundRequest.expires_at <= now))
    return RefundRequest.status == status


def refund_request_list_for_merchant(
    *,
    merchant_id: str,
    limit: int = 20,
    starting_after: str | None = None,
    status: str | None = None,
    payment_id: str | None = None,
    now: datetime | None = None,
) -> Page[RefundRequest]:
    """One page of a merchant's refund requests, newest first, from the GSIs (never a Scan): by
    payment when `payment_id` is given, by merchant and status for a decided status, by merchant
    otherwise; the effective status (expiry included) is a filter on the index pages."""
    at = now or datetime.now(UTC)
    before = RefundRequest.request_id < starting_after if starting_after else None
    filter_condition = _refund_request_status_filter(status, at) if status else None
    if payment_id:
        mine = RefundRequest.merchant_id == merchant_id
        filter_condition = mine if filter_condition is None else mine & filter_condition
        results = RefundRequest.by_payment.query(
            payment_id, before, filter_condition, scan_index_forward=False, page_size=max(limit + 1, 100)
        )
    elif status in (RefundRequestStatus.APPROVED, RefundRequestStatus.REJECTED, RefundRequestStatus.PENDING_APPROVAL):
        if status != RefundRequestStatus.PENDING_APPROVAL:
            filter_condition = None  # the index key is the status
        results = RefundRequest.by_merchant_status.query(
            f"{merchant_id}#{status}", before, filter_condition, scan_index_forward=False, page_size=limit + 1
        )
    else:
        results = RefundRequest.by_merchant.query(
            merchant_id, before, filter_condition, scan_index_forward=False, page_size=max(limit + 1, 100)
        )
    items = list(itertools.islice(results, limit + 1))
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="request_id")


def refund_request_list_due(*, merchant_id: str, now: datetime | None = None) -> list[RefundRequest]:
    """The merchant's requests still stored as pending whose lifetime is over (for the sweep)."""
    at = now or datetime.now(UTC)
    return list(
        RefundRequest.by_merchant_status.query(
            f"{merchant_id}#{RefundRequestStatus.PENDING_APPROVAL}", filter_condition=RefundRequest.expires_at <= at
        )
    )


def refund_request_list_due_for_payment(*, payment_id: str, now: datetime | None = None) -> list[RefundRequest]:
    """A payment's requests still stored as pending whose lifetime is over (their hold is released)."""
    at = now or datetime.now(UTC)
    pending = RefundRequest.status == RefundRequestStatus.PENDING_APPROVAL
    return list(RefundRequest.by_payment.query(payment_id, filter_condition=pending & (RefundRequest.expires_at <= at)))
