"""Reads. Every read of merchant data takes `merchant_id`; another merchant's object is not found."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from payments.models import ApiKey, Customer, Merchant, Payment, Transaction
from paysite import dynamodb
from paysite.errors import ApiKeyNotFound, CustomerNotFound, MerchantNotFound, PaymentNotFound
from paysite.ids import id_ceiling, id_floor, is_id

# --- merchants -------------------------------------------------------------------------------


def merchant_get_or_none(*, merchant_id: str) -> Merchant | None:
    if not is_id(merchant_id, "mer"):
        return None
    try:
        return Merchant.get(merchant_id)
    except DoesNotExist:
        return None


def merchant_get(*, merchant_id: str) -> Merchant:
    merchant = merchant_get_or_none(merchant_id=merchant_id)
    if merchant is None:
        raise MerchantNotFound(f"No merchant {merchant_id}.", param="merchant_id")
    return merchant


def merchant_list() -> list[Merchant]:
    """Every merchant, oldest first: one Query on the `all-merchants` index."""
    return list(Merchant.all_merchants.query("merchant"))


def merchant_names(*, merchant_ids: list[str]) -> dict[str, str]:
    wanted = [m for m in dict.fromkeys(merchant_ids) if is_id(m, "mer")]
    if not wanted:
        return {}
    return {m.merchant_id: m.name for m in Merchant.batch_get(wanted, attributes_to_get=["merchant_id", "name"])}


# --- API keys --------------------------------------------------------------------------------


def api_key_get_by_hash(*, key_hash: str) -> ApiKey | None:
    try:
        return ApiKey.get(key_hash)
    except DoesNotExist:
        return None


def api_key_get_by_id(*, key_id: str) -> ApiKey:
    if is_id(key_id, "key"):
        for keys_only in ApiKey.by_key_id.query(key_id, limit=1):
            key = api_key_get_by_hash(key_hash=keys_only.key_hash)
            if key is not None:
                return key
    raise ApiKeyNotFound(f"No API key {key_id}.", param="key_id")


def api_key_list_for_merchant(*, merchant_id: str) -> list[ApiKey]:
    """The merchant's keys, newest first."""
    return list(ApiKey.by_merchant.query(merchant_id, scan_index_forward=False))


# --- payments --------------------------------------------------------------------------------


def payment_get(*, merchant_id: str, payment_id: str) -> Payment:
    """A payment by key (strongly consistent). Another merchant's payment is not found."""
    payment = dynamodb.item_of_merchant(Payment, payment_id, prefix="pay", merchant_id=merchant_id)
    if payment is None:
        raise PaymentNotFound(f"No payment {payment_id}.", param="id")
    return payment


def transaction_list_for_payment(*, payment_id: str) -> list[Transaction]:
    """The ledger of a payment, oldest first."""
    return list(Transaction.query(payment_id, consistent_read=True))


@dataclass(frozen=True)
class Page:
    items: list
    has_more: bool

    @property
    def next_cursor(self) -> str | None:
        return self.items[-1].payment_id if self.has_more and self.items else None


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
) -> Page:
    """One page of a merchant's payments from the GSIs (never a Scan). The index is picked by the
    filter; a date range is a key condition on ULID bounds. The page is filled even when a filter
    drops items, and one more item is read to tell whether more exist.

    `amount_gte`/`amount_lte` (minor units) and `card_last4` are not index keys: they are a
    FilterExpression over the same index pages, read in bigger pages so a rare match does not cost
    one round trip per `limit` items. Without them the query is exactly the one the API has always made."""
    post_filtered = amount_gte is not None or amount_lte is not None or bool(card_last4)
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
            page_size=max(limit + 1, POST_FILTER_PAGE_SIZE) if post_filtered else limit + 1,
            stop_after=limit + 1,
        )
    )
    return Page(items=items[:limit], has_more=len(items) > limit)


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
    amount_gte: int | None = None,
    amount_lte: int | None = None,
    card_last4: str | None = None,
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

    for extra in _post_filters(amount_gte=amount_gte, amount_lte=amount_lte, card_last4=card_last4):
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
    for count, payment in enumerate(results, start=1):
        yield payment
        if stop_after is not None and count >= stop_after:
            return


def _post_filters(*, amount_gte: int | None, amount_lte: int | None, card_last4: str | None) -> list:
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
        decided = (
            self.count - self.count_by_status.get("requires_capture", 0) - self.count_by_status.get("processing", 0)
        )
        if decided <= 0:
            return None
        return 1 - self.count_by_status.get("failed", 0) / decided


@dataclass
class Summary:
    start: date
    end: date  # inclusive
    currencies: dict[str, CurrencySummary]
    days: dict[date, dict[str, CurrencySummary]]  # every day in range, per currency


def payment_summary(*, merchant_id: str, start: date, end: date) -> Summary:
    """Totals per currency and per day from the pre-aggregated counters: one Query over
    days x currencies x shards items, never the payments. `end` is inclusive."""
    from payments.models import PAYMENT_STATUSES, DailySummary

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


def customer_get(*, merchant_id: str, customer_id: str) -> Customer:
    customer = dynamodb.item_of_merchant(Customer, customer_id, prefix="cus", merchant_id=merchant_id)
    if customer is None:
        raise CustomerNotFound(f"No customer {customer_id}.", param="id")
    return customer


@dataclass(frozen=True)
class CustomerPage:
    items: list
    has_more: bool

    @property
    def next_cursor(self) -> str | None:
        return self.items[-1].customer_id if self.has_more and self.items else None


def customer_list_for_merchant(
    *, merchant_id: str, limit: int = 20, starting_after: str | None = None, email: str | None = None
) -> CustomerPage:
    """Newest first. `email` is an exact match through the keyed-hash index (no decryption)."""
    from payments.services.customers import email_index_key

    if starting_after is not None and not is_id(starting_after, "cus"):
        raise CustomerNotFound(f"No customer {starting_after}.", param="starting_after")
    if email:
        index, hash_key, hash_attr = (
            Customer.by_email,
            email_index_key(merchant_id=merchant_id, email=email),
            "merchant_email",
        )
    else:
        index, hash_key, hash_attr = Customer.by_merchant, merchant_id, "merchant_id"
    last_key = None
    if starting_after:
        last_key = {"customer_id": {"S": starting_after}, hash_attr: {"S": hash_key}}
    results = index.query(hash_key, scan_index_forward=False, page_size=limit + 1, last_evaluated_key=last_key)
    items = []
    for customer in results:
        items.append(customer)
        if len(items) > limit:
            break
    return CustomerPage(items=items[:limit], has_more=len(items) > limit)


# --- webhook deliveries ----------------------------------------------------------------------

from payments.models import WebhookDelivery  # noqa: E402  (imported where its section starts)
from paysite.errors import NotFound  # noqa: E402


@dataclass(frozen=True)
class DeliveryPage:
    items: list
    has_more: bool

    @property
    def next_cursor(self) -> str | None:
        return self.items[-1].event_id if self.has_more and self.items else None


def webhook_delivery_get(*, merchant_id: str, event_id: str) -> WebhookDelivery:
    if is_id(event_id, "evt"):
        try:
            return WebhookDelivery.get(merchant_id, event_id, consistent_read=True)
        except DoesNotExist:
            pass
    raise NotFound(f"No webhook event {event_id}.", param="id")


def webhook_delivery_list_for_merchant(
    *, merchant_id: str, limit: int = 20, starting_after: str | None = None, status: str | None = None
) -> DeliveryPage:
    """The merchant's webhook events, newest first (a Query on the table's own key)."""
    last_key = None
    if starting_after:
        if not is_id(starting_after, "evt"):
            raise NotFound(f"No webhook event {starting_after}.", param="starting_after")
        last_key = {"merchant_id": {"S": merchant_id}, "event_id": {"S": starting_after}}
    results = WebhookDelivery.query(
        merchant_id,
        filter_condition=(WebhookDelivery.status == status) if status else None,
        scan_index_forward=False,
        page_size=limit + 1,
        last_evaluated_key=last_key,
    )
    items = []
    for delivery in results:
        items.append(delivery)
        if len(items) > limit:
            break
    return DeliveryPage(items=items[:limit], has_more=len(items) > limit)


def webhook_delivery_list_for_entity(*, merchant_id: str, entity_id: str, limit: int = 100) -> list[WebhookDelivery]:
    """The events about one payment (or settlement), newest first, from the `by-entity` index."""
    results = WebhookDelivery.by_entity.query(
        entity_id, filter_condition=WebhookDelivery.merchant_id == merchant_id, scan_index_forward=False
    )
    return [delivery for _, delivery in zip(range(limit), results, strict=False)]


def webhook_delivery_list_due(*, merchant_id: str, before: datetime, window: timedelta) -> list[WebhookDelivery]:
    """Pending deliveries whose next attempt was due by `before`, among the merchant's events of the
    last `window`: a Query on the merchant's partition bounded by event id (ids sort by time)."""
    results = WebhookDelivery.query(
        merchant_id,
        range_key_condition=WebhookDelivery.event_id >= id_floor("evt", before - window),
        filter_condition=(WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= before),
    )
    return list(results)
