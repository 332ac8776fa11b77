"""Reads of what the app really spent: measured capacity per activity and the tables' sizes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum

from core import dynamodb
from core.tables import tables_describe
from costs import capacity
from costs.models import CapacityUsage
from costs.storage import GB
from costs.units import UnitsPerTransaction

ACTIVITIES = {
    "payment.create": "per payment created",
    "payment.change": "per capture, cancel or refund",
    "payment.list": "per payment list page (one Query)",
    "summary": "per summary (one Query of the daily counters)",
    "payment.get": "per payment read by id",
}


@dataclass(frozen=True)
class ActivityUsage:
    activity: str
    label: str
    calls: int
    reported_calls: int
    table_read: Decimal
    table_write: Decimal
    index_read: Decimal
    index_write: Decimal

    def _per_call(self, value: Decimal) -> Decimal:
        return (value / self.reported_calls).quantize(Decimal("0.01")) if self.reported_calls else Decimal(0)

    @property
    def read_per_call(self) -> Decimal:
        return self._per_call(self.table_read + self.index_read)

    @property
    def table_write_per_call(self) -> Decimal:
        return self._per_call(self.table_write)

    @property
    def index_write_per_call(self) -> Decimal:
        return self._per_call(self.index_write)


@dataclass(frozen=True)
class MeasuredUsage:
    since: date
    engine: str  # "dynamodb-local" or "aws"
    activities: dict[str, ActivityUsage]

    def get(self, activity: str) -> ActivityUsage | None:
        usage = self.activities.get(activity)
        return usage if usage is not None and usage.reported_calls else None

    def units(self, *, queries_per_transaction: Decimal) -> UnitsPerTransaction | None:
        """Units per payment from the measurements: a payment created, plus `queries_per_transaction`
        list pages. None until both were measured."""
        create, page = self.get("payment.create"), self.get("payment.list")
        if create is None or page is None:
            return None
        return UnitsPerTransaction(
            table_write=create.table_write_per_call,
            index_write=create.index_write_per_call,
            read=(queries_per_transaction * page.read_per_call).quantize(Decimal("0.01")),
            replicated_write=(create.table_write_per_call / 2).quantize(Decimal("0.01")),
            source="measured",
        )


def engine() -> str:
    return "dynamodb-local" if settings.DYNAMODB.get("ENDPOINT") else "aws"


def measured_usage(*, days: int = 30) -> MeasuredUsage:
    """The last `days` of measured capacity, this process's unsaved counters included."""
    capacity.RECORDER.flush()
    since = datetime.now(UTC).date() - timedelta(days=days)
    rows = (
        CapacityUsage.objects.filter(day__gte=since, activity__in=list(ACTIVITIES))
        .values("activity", "table", "index")
        .annotate(
            calls=Sum("calls"), reported=Sum("reported_calls"), reads=Sum("read_units"), writes=Sum("write_units")
        )
    )
    totals: dict[str, dict] = {}
    for row in rows:
        entry = totals.setdefault(
            row["activity"],
            {"calls": 0, "reported": 0, "table_read": Decimal(0), "table_write": Decimal(0), "index_read": Decimal(0),
             "index_write": Decimal(0)},
        )  # fmt: skip
        if row["table"] == capacity.CALLS:
            entry["calls"] += row["calls"]
            entry["reported"] += row["reported"]
        elif row["index"]:
            entry["index_read"] += row["reads"]
            entry["index_write"] += row["writes"]
        else:
            entry["table_read"] += row["reads"]
            entry["table_write"] += row["writes"]
    activities = {
        activity: ActivityUsage(
            activity=activity,
            label=ACTIVITIES[activity],
            calls=entry["calls"],
            reported_calls=entry["reported"],
            table_read=entry["table_read"],
            table_write=entry["table_write"],
            index_read=entry["index_read"],
            index_write=entry["index_write"],
        )
        for activity, entry in totals.items()
    }
    ordered = {name: activities[name] for name in ACTIVITIES if name in activities}
    return MeasuredUsage(since=since, engine=engine(), activities=ordered)


@dataclass(frozen=True)
class TableSize:
    name: str
    item_count: int
    size_bytes: int

    @property
    def size_gb(self) -> Decimal:
        return Decimal(self.size_bytes) / GB


TABLE_SIZES_SECONDS = 300


def table_sizes() -> list[TableSize]:
    """Item counts and sizes from DescribeTable. AWS refreshes them only about every six hours, so
    they are kept `TABLE_SIZES_SECONDS` in the cache: the page would otherwise make two DescribeTable
    calls per table on every view (most of its time)."""
    key = f"costs:table-sizes:{settings.DYNAMODB.get('ENDPOINT')}:{dynamodb.table_name('')}"
    sizes = cache.get(key)
    if sizes is None:
        sizes = [TableSize(t.name, t.item_count, t.size_bytes) for t in tables_describe() if t.status != "MISSING"]
        cache.set(key, sizes, TABLE_SIZES_SECONDS)
    return sizes
