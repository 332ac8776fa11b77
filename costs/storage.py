"""What stays stored at steady state, and what storing it costs a month after the free tier."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from costs import sizes, write_path
from costs.inputs import Inputs
from costs.prices import ClassPrices, PriceTable
from costs.units import variants

DAYS_PER_MONTH = Decimal(365) / Decimal(12)
GB = Decimal(1024**3)


@dataclass(frozen=True)
class StoredItems:
    table: str
    table_bytes: Decimal  # per payment, with DynamoDB's 100 bytes of overhead per item
    index_bytes: Decimal
    days: int  # how long they stay (retention or TTL)


@dataclass(frozen=True)
class Storage:
    per_day: Decimal  # payments created a day
    items: tuple[StoredItems, ...]

    @property
    def table_gb(self) -> Decimal:
        return sum((self.per_day * item.days * item.table_bytes for item in self.items), Decimal(0)) / GB

    @property
    def index_gb(self) -> Decimal:
        return sum((self.per_day * item.days * item.index_bytes for item in self.items), Decimal(0)) / GB


@dataclass(frozen=True)
class StorageCost:
    """A month of storage in USD, unrounded; the free tier is used by table data first."""

    free_gb: Decimal  # free GB per region (Standard only)
    table: Decimal
    index: Decimal


def _retention(table: str, inputs: Inputs) -> int:
    if table == "audit_events":
        return max(inputs.retention_days, int(getattr(settings, "AUDIT_RETENTION_DAYS", 365)))
    if table == "webhook_deliveries":
        return int(getattr(settings, "WEBHOOK_RETENTION_DAYS", 30))
    if table == "events":
        return 30  # the Events API's window (API.md), then TTL
    if table == "idempotency":
        return 1  # 24 hours, then TTL
    return inputs.retention_days


def storage_of(inputs: Inputs) -> Storage:
    """What stays stored at steady state: the items each payment puts, for `retention_days` (payments
    and their ledger), the audit retention (`AUDIT_RETENTION_DAYS`, at least 365 days), the webhook
    TTL (`WEBHOOK_RETENTION_DAYS`) or a day (Idempotency-Key records); each item with DynamoDB's 100
    bytes of overhead, in the table and in every index it is projected into. TTL deletes are free."""
    totals: dict[str, list] = {}
    for share, variant in variants(write_path.PAYMENT_CREATE, inputs):
        for item in variant.writes + variant.after:
            if item.action != "put":
                continue
            index_bytes = sum(sizes.stored_bytes(index.size_bytes) for index in item.indexes)
            if item.table == "payments" and inputs.gsis is not None:
                index_bytes = sizes.stored_bytes(item.size_bytes) * inputs.gsis
            entry = totals.setdefault(item.table + "#" + item.what, [Decimal(0), Decimal(0), item.table])
            entry[0] += share * sizes.stored_bytes(item.size_bytes)
            entry[1] += share * index_bytes
    items = tuple(
        StoredItems(table, table_bytes, index_bytes, _retention(table, inputs))
        for table_bytes, index_bytes, table in totals.values()
    )
    return Storage(per_day=Decimal(inputs.monthly_transactions) / DAYS_PER_MONTH, items=items)


def storage_cost(storage: Storage, inputs: Inputs, *, rates: ClassPrices, table: PriceTable) -> StorageCost:
    """Table and index data a month: the free GB (Standard) go to table data first, then to index
    data; every replica region stores everything again at full price (the free tier is per region)."""
    free = table.free_storage_gb_standard if inputs.table_class == "standard" else Decimal(0)
    table_gb, index_gb = storage.table_gb, storage.index_gb
    table_billable = max(Decimal(0), table_gb - free) + table_gb * inputs.replicas
    index_billable = max(Decimal(0), index_gb - max(Decimal(0), free - table_gb)) + index_gb * inputs.replicas
    return StorageCost(
        free_gb=free,
        table=table_billable * rates.storage_gb_month,
        index=index_billable * rates.storage_gb_month,
    )
