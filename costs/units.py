"""Capacity units a transaction consumes, from the app's declared write path (`costs.write_path`).

A transaction is a payment created and captured (`write_path.PAYMENT_CREATE`) plus its share of
refunds (`Inputs.refund_rate`, `write_path.REFUND_CREATE`), in the mix of payments with and without
a customer, through the API or not, that the inputs describe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from costs import sizes, write_path
from costs.inputs import Inputs


@dataclass(frozen=True)
class UnitsPerTransaction:
    """Capacity units one transaction consumes; from the write path or from measurements."""

    table_write: Decimal  # base-table write units (transactional writes already doubled)
    index_write: Decimal  # GSI write units
    read: Decimal  # read units of the transaction's queries and reads
    replicated_write: Decimal  # write units each replica region replays (standard, not transactional)
    source: str = "model"


def _resized(operation: write_path.Operation, payment_bytes: int | None) -> write_path.Operation:
    if payment_bytes is None:
        return operation
    writes = tuple(
        replace(item, size_bytes=payment_bytes) if item.table == "payments" else item for item in operation.writes
    )
    reads = tuple(
        replace(read, size_bytes=payment_bytes) if read.table == "payments" else read for read in operation.reads
    )
    return replace(operation, writes=writes, reads=reads)


def _index_units(operation: write_path.Operation, gsis: int | None) -> int:
    """GSI write units; with `gsis` the payments table has that many indexes instead of its own
    (extra ones are written like `by-merchant`: once per payment write, never moved)."""
    total = 0
    for item in operation.writes + operation.after:
        indexes = list(item.indexes)
        if item.table == "payments" and gsis is not None:
            extra = max(0, gsis - len(write_path.table_indexes("payments")))
            kept = indexes[: min(gsis, len(indexes))]
            unit = max(1, math.ceil(item.size_bytes / sizes.WRITE_UNIT_BYTES))
            total += sum(index.units for index in kept) + extra * unit
            continue
        total += sum(index.units for index in indexes)
    return total


def _read_units(operation: write_path.Operation) -> Decimal:
    return sum(
        (sizes.read_units(read.size_bytes, consistency=read.consistency) for read in operation.reads), Decimal(0)
    )


def variants(operation: write_path.Operation, inputs: Inputs) -> list[tuple[Decimal, write_path.Operation]]:
    """(share, operation) pairs: the mix of payments with and without a customer, through the API
    or not, that `customer_share` and `api_share` describe."""
    if inputs.webhooks:
        operation = write_path.with_webhook(operation)
    out = []
    for customer_share, with_customer in ((1 - inputs.customer_share, False), (inputs.customer_share, True)):
        for api_share, through_api in ((1 - inputs.api_share, False), (inputs.api_share, True)):
            share = customer_share * api_share
            if not share:
                continue
            variant = write_path.with_customer(operation) if with_customer else operation
            variant = write_path.via_api(variant) if through_api else variant
            out.append((share, _resized(variant, inputs.item_size_bytes)))
    return out


def operations(inputs: Inputs) -> tuple[write_path.Operation, write_path.Operation]:
    """The create and refund operations without customer or API (the first variants)."""
    create, refund = write_path.PAYMENT_CREATE, write_path.REFUND_CREATE
    if inputs.webhooks:
        create, refund = write_path.with_webhook(create), write_path.with_webhook(refund)
    return _resized(create, inputs.item_size_bytes), _resized(refund, inputs.item_size_bytes)


def _mix(operation: write_path.Operation, inputs: Inputs) -> dict[str, Decimal]:
    units = {
        "table": Decimal(0),
        "index": Decimal(0),
        "read": Decimal(0),
        "replicated": Decimal(0),
        "requests": Decimal(0),
    }
    for share, variant in variants(operation, inputs):
        units["table"] += share * variant.table_write_units
        units["index"] += share * _index_units(variant, inputs.gsis)
        units["read"] += share * _read_units(variant)
        units["replicated"] += share * sum(item.units for item in variant.writes + variant.after)
        units["requests"] += share * (1 + len(variant.reads) + len(variant.after))
    return units


def model_units(inputs: Inputs) -> UnitsPerTransaction:
    create = _mix(write_path.PAYMENT_CREATE, inputs)
    refund = _mix(write_path.REFUND_CREATE, inputs)
    payment_bytes = inputs.item_size_bytes or write_path.PAYMENT_CREATE.writes[0].size_bytes
    query = sizes.query_read_units([payment_bytes] * inputs.items_per_query, consistency=inputs.read_consistency)
    rate = inputs.refund_rate
    return UnitsPerTransaction(
        table_write=create["table"] + rate * refund["table"],
        index_write=create["index"] + rate * refund["index"],
        read=inputs.queries_per_transaction * query + create["read"] + rate * refund["read"],
        replicated_write=create["replicated"] + rate * refund["replicated"],
    )


def requests_per_transaction(inputs: Inputs) -> Decimal:
    """DynamoDB requests a payment makes: its transaction, reads and other writes, its queries and
    its share of refunds."""
    create = _mix(write_path.PAYMENT_CREATE, inputs)
    refund = _mix(write_path.REFUND_CREATE, inputs)
    return create["requests"] + inputs.queries_per_transaction + inputs.refund_rate * refund["requests"]
