"""The capacity the app really consumes, recorded from every DynamoDB call.

`install(events)` registers two botocore handlers on the shared DynamoDB client
(`core.dynamodb`): before a call it asks for `ReturnConsumedCapacity=INDEXES` and names the
activity the call belongs to (a payment created, a list page, a summary...); after the call it adds
the table and index units of the response to counters in memory. The counters go to the database
(`costs.models.CapacityUsage`) at most every `COSTS_CAPACITY_FLUSH_SECONDS`, from whichever call
comes next, and when a cost page is read: no request pays an extra write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from core import dynamodb
from costs.models import CapacityUsage

log = logging.getLogger(__name__)

READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "ExecuteStatement"})
ACTIVITY_KEY = "paysite_costs_activity"
CALLS = ""  # the `table` of the row that counts calls of an (activity, operation)


@dataclass
class Usage:
    calls: int = 0
    reported_calls: int = 0
    read_units: Decimal = Decimal(0)
    write_units: Decimal = Decimal(0)

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.reported_calls += other.reported_calls
        self.read_units += other.read_units
        self.write_units += other.write_units


Key = tuple[date, str, str, str, str]  # day, activity, operation, table, index ("" = the table)


def _base(table: str, prefix: str) -> str:
    return table[len(prefix) :] if prefix and table.startswith(prefix) else table


def classify(operation: str, params: dict[str, Any], prefix: str) -> str:
    """Which product activity a call belongs to, from its request alone."""
    if operation == "TransactWriteItems":
        actions = {
            (kind, _base(body.get("TableName", ""), prefix))
            for entry in params.get("TransactItems", [])
            for kind, body in entry.items()
        }
        if ("Put", "payments") in actions:
            return "payment.create"
        if ("Update", "payments") in actions:
            return "payment.change"
        return "transaction.other"
    table = _base(params.get("TableName", ""), prefix)
    if operation == "Query" and params.get("Select") == "COUNT":
        return "count"
    if operation == "Query" and table == "payments":
        return "payment.list"
    if operation == "Query" and table == "daily_summaries":
        return "summary"
    if operation == "GetItem" and table == "payments":
        return "payment.get"
    if operation == "Query" and table == "transactions":
        return "ledger"
    return "other"


class Recorder:
    """Counters per day, activity, operation, table and index, kept in memory between flushes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Key, Usage] = defaultdict(Usage)
        self._last_flush = time.monotonic()
        self._warned = False

    def record(self, *, activity: str, operation: str, consumed: Any, prefix: str, today: date | None = None) -> None:
        day = today or datetime.now(UTC).date()
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        is_read = operation in READ_OPERATIONS
        with self._lock:
            calls = self._pending[(day, activity, operation, CALLS, "")]
            calls.calls += 1
            calls.reported_calls += 1 if entries else 0
            for entry in entries:
                table = _base(entry.get("TableName", ""), prefix)
                parts = [("", entry.get("Table"))] + list((entry.get("GlobalSecondaryIndexes") or {}).items())
                parts += list((entry.get("LocalSecondaryIndexes") or {}).items())
                if entry.get("Table") is None:  # only a total was reported
                    parts[0] = ("", {"CapacityUnits": entry.get("CapacityUnits", 0)})
                for index, part in parts:
                    if not part:
                        continue
                    usage = self._pending[(day, activity, operation, table, index)]
                    reads, writes = _units(part, is_read)
                    usage.read_units += reads
                    usage.write_units += writes

    def drain(self) -> dict[Key, Usage]:
        with self._lock:
            pending, self._pending = self._pending, defaultdict(Usage)
            self._last_flush = time.monotonic()
            return pending

    def restore(self, pending: dict[Key, Usage]) -> None:
        with self._lock:
            for key, usage in pending.items():
                self._pending[key].add(usage)

    def due(self, interval: float) -> bool:
        return interval > 0 and time.monotonic() - self._last_flush >= interval

    def flush(self) -> int:
        """Add the pending counters to the database; returns the rows written. Never raises: a failed
        flush keeps the counters for the next one."""
        pending = self.drain()
        if not pending:
            return 0
        try:
            CapacityUsage.objects.add_usage(pending)
        except Exception:  # measurement must never break the request that happened to flush
            self.restore(pending)
            if not self._warned:
                log.warning("Consumed capacity could not be saved yet; kept in memory.", exc_info=True)
                self._warned = True
            return 0
        return len(pending)


def _units(part: dict[str, Any], is_read: bool) -> tuple[Decimal, Decimal]:
    reads = part.get("ReadCapacityUnits")
    writes = part.get("WriteCapacityUnits")
    if reads is None and writes is None:
        total = Decimal(str(part.get("CapacityUnits", 0)))
        return (total, Decimal(0)) if is_read else (Decimal(0), total)
    return Decimal(str(reads or 0)), Decimal(str(writes or 0))


RECORDER = Recorder()


def _prefix() -> str:
    return dynamodb.table_name("")


def _before_parameter_build(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    if "ReturnConsumedCapacity" not in model.input_shape.members:
        return
    params["ReturnConsumedCapacity"] = "INDEXES"
    context[ACTIVITY_KEY] = classify(model.name, params, _prefix())


def _after_call(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    activity = context.get(ACTIVITY_KEY)
    if activity is None:
        return
    RECORDER.record(activity=activity, operation=model.name, consumed=parsed.get("ConsumedCapacity"), prefix=_prefix())
    if RECORDER.due(float(getattr(settings, "COSTS_CAPACITY_FLUSH_SECONDS", 60))):
        RECORDER.flush()


def install_on_client(client: Any) -> None:
    """Meter every call of a new DynamoDB client (`core.dynamodb.on_new_client`)."""
    install(client.meta.events)


def install(events: Any) -> None:
    """Meter every call of a botocore DynamoDB client (its `meta.events`)."""
    events.register("before-parameter-build.dynamodb", _before_parameter_build, unique_id="paysite-costs-before")
    events.register("after-call.dynamodb", _after_call, unique_id="paysite-costs-after")
