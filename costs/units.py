"""Capacity units a transaction consumes, from the app's declared write path (`costs.write_path`).

A transaction is a payment created and captured (`write_path.PAYMENT_CREATE`) plus its share of
refunds (`Inputs.refund_rate`, `write_path.REFUND_CREATE`), in the mix of payments with and without
a customer, through the API or not, and of merchants' enabled webhook endpoints, that the inputs
describe.
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


# The event item names the endpoints it fans out to (`fanout`): each id beyond the first that the
# declared sizes include, `we_` + ULID and DynamoDB's byte for a list element.
FANOUT_ID_BYTES = 30
# An endpoint's delivery (`evt_...:we_...`, with `endpoint_id`) is larger than a wave-1 URL's
# (`write_path.WEBHOOK_DELIVERY`) by its endpoint id and longer sort key, as measured on the code.
ENDPOINT_DELIVERY_BYTES = 91
# Each attempt reads its delivery and its endpoint (URL, secrets, enabled), both strongly consistent.
ENDPOINT_ITEM_BYTES = 400


def _endpoint_delivery(item: write_path.ItemWrite) -> write_path.ItemWrite:
    attributes = item.attributes | {"endpoint_id"} if item.action == "put" else item.attributes
    return replace(item, size_bytes=item.size_bytes + ENDPOINT_DELIVERY_BYTES, attributes=attributes)


def with_endpoints(operation: write_path.Operation, endpoints: int) -> write_path.Operation:
    """The change at a merchant with `endpoints` enabled endpoints subscribed to its event: the event
    names them, and after the commit each gets its delivery (put, then the first attempt's claim and
    record, after reading the delivery and its endpoint); the event's fan-out is marked done once.
    With none, only the event is written (every merchant's changes write it)."""
    if endpoints <= 0:
        return operation
    grow = FANOUT_ID_BYTES * (endpoints - 1)

    def fanout(item: write_path.ItemWrite) -> write_path.ItemWrite:
        return replace(item, size_bytes=item.size_bytes + grow) if item.table == "events" else item

    delivery = tuple(_endpoint_delivery(i) for i in write_path.WEBHOOK_DELIVERY if i.table == "webhook_deliveries")
    reads = (
        write_path.ItemRead("webhook_deliveries", delivery[-1].size_bytes, "strong", what="the delivery to attempt"),
        write_path.ItemRead("webhook_endpoints", ENDPOINT_ITEM_BYTES, "strong", what="the delivery's endpoint"),
    )
    once = tuple(fanout(item) for item in write_path.WEBHOOK_DELIVERY if item.table == "events")
    plural = "s" if endpoints > 1 else ""
    return replace(
        operation,
        name=f"{operation.name}, with {endpoints} webhook endpoint{plural}",
        service=f"{operation.service} at a merchant with {endpoints} enabled webhook endpoint{plural}",
        writes=tuple(fanout(item) for item in operation.writes),
        reads=operation.reads + reads * endpoints,
        after=delivery * endpoints + once,
    )


def _endpoint_mix(operation: write_path.Operation, average: Decimal) -> list[tuple[Decimal, write_path.Operation]]:
    """An average of enabled endpoints per merchant as a mix of the two whole numbers around it
    (1.25: a quarter of the changes reach 2 endpoints, the rest 1)."""
    whole = int(average)
    part = average - whole
    mix = [(1 - part, with_endpoints(operation, whole)), (part, with_endpoints(operation, whole + 1))]
    return [(share, variant) for share, variant in mix if share]


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
    or not, and of endpoint counts, that `customer_share`, `api_share` and `webhook_endpoints` describe."""
    out = []
    for endpoint_share, endpoint_variant in _endpoint_mix(operation, inputs.webhook_endpoints):
        for customer_share, with_customer in ((1 - inputs.customer_share, False), (inputs.customer_share, True)):
            for api_share, through_api in ((1 - inputs.api_share, False), (inputs.api_share, True)):
                share = endpoint_share * customer_share * api_share
                if not share:
                    continue
                variant = write_path.with_customer(endpoint_variant) if with_customer else endpoint_variant
                variant = write_path.via_api(variant) if through_api else variant
                out.append((share, _resized(variant, inputs.item_size_bytes)))
    return out


def operations(inputs: Inputs) -> tuple[write_path.Operation, write_path.Operation]:
    """The create and refund operations without customer or API, at the whole number of endpoints
    below the average (the first variants)."""
    endpoints = int(inputs.webhook_endpoints)
    create = with_endpoints(write_path.PAYMENT_CREATE, endpoints)
    refund = with_endpoints(write_path.REFUND_CREATE, endpoints)
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
