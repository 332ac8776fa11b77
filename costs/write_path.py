"""What one payment change writes, item by item: the declared write path of `payments.services`.

Each operation lists the items its TransactWriteItems puts or updates, with the attributes that
decide which global secondary indexes are written. Which indexes those are, and whether a write
moves an index key (a delete and a put in the index), is derived from the pynamodb models' GSIs,
never written down by hand. `tests/costs/test_write_path.py` runs the real services and checks
that they write exactly this: an added item, table or index makes it fail.

Sizes are those of the items the services write for a card payment without description, metadata or
customer (the test payment); what decides the cost is the number of 1 KB units each one rounds to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cache

from core import dynamodb
from costs.sizes import WRITE_UNIT_BYTES


@dataclass(frozen=True)
class IndexWrite:
    index: str
    writes: int  # 1 for a put or an in-place update, 2 when the index key moved (delete + put)
    size_bytes: int

    @property
    def units(self) -> int:
        """Index writes are standard writes, even inside a transaction."""
        return self.writes * max(1, math.ceil(self.size_bytes / WRITE_UNIT_BYTES))


@dataclass(frozen=True)
class ItemWrite:
    table: str  # base name, as in `core.dynamodb.meta()`
    action: str  # "put" | "update"
    size_bytes: int  # the item's size (for an update, the larger of before and after)
    attributes: frozenset[str]  # put: the item's attributes; update: the attributes it sets or adds
    stored: frozenset[str] = frozenset()  # update: attributes the stored item already has
    what: str = ""

    @property
    def units(self) -> int:
        """Standard write units of the item itself (1 KB rounded up); a transaction doubles them."""
        return max(1, math.ceil(self.size_bytes / WRITE_UNIT_BYTES))

    @property
    def indexes(self) -> tuple[IndexWrite, ...]:
        return index_writes(self)


@dataclass(frozen=True)
class ItemRead:
    table: str
    size_bytes: int
    consistency: str  # strong | eventual | transactional
    what: str = ""


@dataclass(frozen=True)
class Operation:
    name: str
    service: str
    writes: tuple[ItemWrite, ...]
    reads: tuple[ItemRead, ...] = ()
    after: tuple[ItemWrite, ...] = ()  # standard writes outside the transaction (before or after it)
    transactional: bool = True

    @property
    def table_write_units(self) -> int:
        factor = 2 if self.transactional else 1
        return sum(item.units * factor for item in self.writes) + sum(item.units for item in self.after)

    @property
    def index_write_units(self) -> int:
        return sum(index.units for item in self.writes + self.after for index in item.indexes)

    @property
    def write_units(self) -> int:
        return self.table_write_units + self.index_write_units

    def signature(self) -> list[tuple]:
        """What the cost depends on, order-free: (table, action, item units, index writes)."""
        return signature_of(self.writes)


# --- indexes, from the models ----------------------------------------------------------------


@dataclass(frozen=True)
class IndexShape:
    name: str
    keys: frozenset[str]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key: frozenset[str] = field(default_factory=frozenset)


@cache
def _indexes_by_table() -> dict[str, tuple[IndexShape, ...]]:
    out: dict[str, tuple[IndexShape, ...]] = {}
    for model in dynamodb.models():
        shapes = []
        for index in model._indexes.values():
            schema = index._get_schema()
            keys = frozenset(part.get("AttributeName") or part.get("attribute_name") for part in schema["key_schema"])
            projection = schema["projection"]
            shapes.append(
                IndexShape(
                    name=schema["index_name"],
                    keys=keys,
                    projection=projection.get("ProjectionType", "ALL"),
                    non_key=frozenset(projection.get("NonKeyAttributes", ())),
                )
            )
        out[model.Meta.base_name] = tuple(shapes)
    return out


def table_indexes(table: str) -> tuple[IndexShape, ...]:
    return _indexes_by_table().get(table, ())


def _projected_size(index: IndexShape, size_bytes: int) -> int:
    # A keys-only entry holds the keys, well under 1 KB; the one INCLUDE (the request log's) a few short ones.
    return size_bytes if index.projection == "ALL" else min(size_bytes, WRITE_UNIT_BYTES)


def index_writes(item: ItemWrite) -> tuple[IndexWrite, ...]:
    """The GSI writes one table write causes (DynamoDB Developer Guide, "Global secondary indexes":
    an item without an index key is not in that index; an update that changes an index key deletes
    the old index entry and puts a new one; an update of a projected attribute updates the entry)."""
    out = []
    for index in table_indexes(item.table):
        size = _projected_size(index, item.size_bytes)
        if item.action == "put":
            if index.keys <= item.attributes:
                out.append(IndexWrite(index.name, 1, size))
            continue
        if not index.keys <= (item.stored | item.attributes):
            continue
        if index.keys & item.attributes:
            out.append(IndexWrite(index.name, 2, size))
        elif index.projection == "ALL" or (index.projection == "INCLUDE" and index.non_key & item.attributes):
            out.append(IndexWrite(index.name, 1, size))
    return tuple(out)


# --- the declared write path -----------------------------------------------------------------

_PAYMENT = frozenset(
    {"payment_id", "merchant_id", "merchant_status", "status", "amount", "currency", "amount_captured",
     "amount_refunded", "metadata", "card", "created", "updated", "version"}
)  # fmt: skip
_LEDGER = frozenset({"payment_id", "txn_id", "merchant_id", "kind", "amount", "currency", "status", "created"})
_AUDIT = frozenset(
    {"merchant_id", "occurred_event", "event_id", "occurred_at", "actor_type", "actor_id", "action", "outcome",
     "entity_type", "entity_id", "after", "expires_at"}
)  # fmt: skip
_SUMMARY_KEY = frozenset({"merchant_id", "day_currency_shard"})
_BALANCE_KEY = frozenset({"merchant_id", "currency_shard"})
# The balance (`payments.balance`): one sharded counter item ADDed in each change that moves money.
BALANCE_PENDING = ItemWrite("balances", "update", 70, frozenset({"pending"}), _BALANCE_KEY,
                            what="balance counter (ADD pending)")  # fmt: skip
_STATUS_CHANGE = frozenset({"status", "merchant_status", "updated", "version"})
_WEBHOOK = frozenset(
    {"merchant_id", "event_id", "event_type", "entity_id", "url", "payload", "status", "attempts", "attempt_count",
     "next_attempt_at", "created", "expires_at"}
)  # fmt: skip

_EVENT = frozenset({"merchant_id", "event_id", "event_type", "entity_id", "payload", "created", "expires_at"})
# Every change that reports an event writes it for every merchant (the Events API, kept 30 days).
EVENT = ItemWrite("events", "put", 760, _EVENT, what="the event (Events API)")

_MERCHANT_READ = ItemRead("merchants", 358, "eventual", what="the merchant's webhook URL")
# The endpoints subscribed to the event (an eventually consistent Query; none, or at most 16 small items).
_ENDPOINTS_READ = ItemRead("webhook_endpoints", 0, "eventual", what="the merchant's webhook endpoints (Query)")
_EVENT_READS = (_MERCHANT_READ, _ENDPOINTS_READ)
# The service returns the payment it built, so nothing is read after the change.
_PAYMENT_READS = (ItemRead("payments", 394, "strong", what="the payment before the change"),)
WEBHOOK_EVENT = ItemWrite("webhook_deliveries", "put", 943, _WEBHOOK, what="webhook event (pending delivery)")
# After the commit: one delivery per endpoint, the event's fan-out done, then the first delivery
# attempt: claim the attempt, then record its outcome.
WEBHOOK_DELIVERY = (
    WEBHOOK_EVENT,
    ItemWrite("events", "update", 760, frozenset({"fanout"}), _EVENT, what="the event's fan-out done"),
    ItemWrite("webhook_deliveries", "update", 1040, frozenset({"attempt_count", "status"}), _WEBHOOK,
              what="webhook delivery: claim the attempt"),
    ItemWrite("webhook_deliveries", "update", 1040, frozenset({"attempt_count", "attempts", "next_attempt_at", "url"}),
              _WEBHOOK, what="webhook delivery: record the attempt"),
)  # fmt: skip
WEBHOOK_DELIVERY_READS = (
    ItemRead("webhook_deliveries", 1040, "strong", what="the delivery to attempt"),
    _MERCHANT_READ,
)

PAYMENT_CREATE = Operation(
    name="payment created and captured",
    service="payments.services.payment_create(capture=True)",
    reads=_EVENT_READS,
    writes=(
        ItemWrite("payments", "put", 394, _PAYMENT | {"balance_pending"}, what="the payment"),
        ItemWrite("transactions", "put", 206, _LEDGER | {"reason"}, what="ledger: authorization"),
        ItemWrite("transactions", "put", 200, _LEDGER, what="ledger: capture"),
        ItemWrite("daily_summaries", "update", 120, frozenset({"count_succeeded", "amount_succeeded", "captured"}),
                  _SUMMARY_KEY, what="summary counters (ADD)"),
        BALANCE_PENDING,
        ItemWrite("audit_events", "put", 908, _AUDIT, what="audit event payment.create"),
        EVENT,
    ),
)  # fmt: skip

PAYMENT_AUTHORIZE = Operation(
    name="payment authorized (captured later)",
    service="payments.services.payment_create(capture=False)",
    writes=(
        ItemWrite("payments", "put", 408, _PAYMENT, what="the payment"),
        ItemWrite("transactions", "put", 206, _LEDGER | {"reason"}, what="ledger: authorization"),
        ItemWrite("daily_summaries", "update", 124, frozenset({"count_requires_capture", "amount_requires_capture"}),
                  _SUMMARY_KEY, what="summary counters (ADD)"),
        ItemWrite("audit_events", "put", 912, _AUDIT, what="audit event payment.create"),
    ),
)  # fmt: skip

PAYMENT_CAPTURE = Operation(
    name="payment captured",
    service="payments.services.payment_capture",
    reads=(*_PAYMENT_READS, *_EVENT_READS),
    writes=(
        ItemWrite("payments", "update", 394, _STATUS_CHANGE | {"amount_captured", "balance_pending"}, _PAYMENT,
                  what="the payment"),
        ItemWrite("transactions", "put", 200, _LEDGER, what="ledger: capture"),
        ItemWrite("daily_summaries", "update", 169,
                  frozenset({"count_requires_capture", "amount_requires_capture", "count_succeeded", "amount_succeeded",
                             "captured"}), _SUMMARY_KEY, what="summary counters (ADD)"),
        BALANCE_PENDING,
        ItemWrite("audit_events", "put", 1445, _AUDIT | {"before"}, what="audit event payment.capture"),
        EVENT,
    ),
)  # fmt: skip

REFUND_CREATE = Operation(
    name="payment refunded",
    service="payments.services.refund_create",
    reads=(*_PAYMENT_READS, *_EVENT_READS),
    writes=(
        ItemWrite("payments", "update", 392, _STATUS_CHANGE | {"amount_refunded", "balance_pending"},
                  _PAYMENT | {"balance_pending"}, what="the payment"),
        ItemWrite("transactions", "put", 237, _LEDGER | {"reason", "refund_id"}, what="ledger: refund"),
        ItemWrite("daily_summaries", "update", 177,
                  frozenset({"count_succeeded", "amount_succeeded", "count_refunded", "amount_refunded", "refunded",
                             "refund_count"}), _SUMMARY_KEY, what="summary counters (ADD)"),
        BALANCE_PENDING,
        ItemWrite("audit_events", "put", 1442, _AUDIT | {"before"}, what="audit event payment.refund"),
        EVENT,
    ),
)  # fmt: skip

# Four-eyes approval of large refunds (`payments.services.refund_requests`): a request holds its amount
# on the payment; approval is the refund's own transaction plus the request, its audit event and event.
_REFUND_REQUEST = frozenset(
    {"request_id", "merchant_id", "merchant_status", "payment_id", "amount", "currency", "status", "requested_by",
     "requested_by_type", "expires_at", "created", "updated"}
)  # fmt: skip
_REFUND_REQUEST_DECIDED = frozenset({"status", "merchant_status", "decided_by", "updated"})
_PAYMENT_HOLD = ItemWrite(
    "payments", "update", 435, frozenset({"amount_pending_refund", "version"}), _PAYMENT | {"amount_pending_refund"},
    what="the payment: the amount held by requests awaiting approval",
)  # fmt: skip

REFUND_REQUEST_CREATE = Operation(
    name="refund request (awaiting approval)",
    service="payments.services.refund_requests.refund_request_create",
    writes=(
        _PAYMENT_HOLD,
        ItemWrite("refund_requests", "put", 377, _REFUND_REQUEST, what="the refund request"),
        ItemWrite("audit_events", "put", 862, _AUDIT | {"detail"}, what="audit event refund_request.create"),
    ),
)  # fmt: skip

REFUND_REQUEST_APPROVE = Operation(
    name="refund request approved (the refund made)",
    service="payments.services.refund_requests.refund_request_approve",
    writes=REFUND_CREATE.writes + (
        ItemWrite("refund_requests", "update", 414, _REFUND_REQUEST_DECIDED | {"refund_id"}, _REFUND_REQUEST,
                  what="the request: approved"),
        ItemWrite("audit_events", "put", 864, _AUDIT | {"before", "detail"}, what="audit event refund_request.approve"),
        EVENT,
    ),
)  # fmt: skip

REFUND_REQUEST_REJECT = Operation(
    name="refund request rejected",
    service="payments.services.refund_requests.refund_request_reject",
    writes=(
        _PAYMENT_HOLD,
        ItemWrite("refund_requests", "update", 400, _REFUND_REQUEST_DECIDED | {"decision_reason"}, _REFUND_REQUEST,
                  what="the request: rejected"),
        ItemWrite("audit_events", "put", 853, _AUDIT | {"before", "detail"}, what="audit event refund_request.reject"),
        EVENT,
    ),
)  # fmt: skip


# Disputes (`disputes.services`): the dispute item, the payment's dispute fields, the ledger entries
# (the disputed amount and the fee; the credit of a won dispute), the counters, the audit event and
# the event, in one transaction. Opening comes from the processor (a task), closing from the sweep;
# the evidence and accept POSTs are the API's request path.
_DISPUTE = frozenset(
    {"dispute_id", "merchant_id", "merchant_status", "payment_id", "amount", "currency", "fee", "reason", "status",
     "evidence_due_by", "evidence", "open_status", "due_at", "created", "updated", "version"}
)  # fmt: skip
_DISPUTE_CLOSE = frozenset({"status", "merchant_status", "open_status", "due_at", "closed_at", "updated", "version"})
_PAYMENT_DISPUTED = _PAYMENT | {"disputed", "dispute_id", "dispute_status"}

DISPUTE_OPEN = Operation(
    name="dispute opened",
    service="disputes.services.dispute_open",
    reads=(*_PAYMENT_READS, *_EVENT_READS),
    writes=(
        ItemWrite("disputes", "put", 560, _DISPUTE, what="the dispute"),
        ItemWrite("payments", "update", 470,
                  frozenset({"disputed", "dispute_id", "dispute_status", "updated", "version", "balance_pending"}),
                  _PAYMENT | {"balance_pending"}, what="the payment: disputed"),
        ItemWrite("transactions", "put", 230, _LEDGER | {"reason"}, what="ledger: dispute"),
        ItemWrite("transactions", "put", 210, _LEDGER, what="ledger: dispute fee"),
        ItemWrite("daily_summaries", "update", 120, frozenset({"disputed", "dispute_count", "dispute_fees"}),
                  _SUMMARY_KEY, what="summary counters (ADD)"),
        BALANCE_PENDING,
        ItemWrite("audit_events", "put", 1000, _AUDIT | {"detail"}, what="audit event dispute.open"),
        EVENT,
    ),
)  # fmt: skip

DISPUTE_EVIDENCE_SUBMIT = Operation(
    name="dispute evidence submitted",
    service="disputes.services.dispute_evidence_update(submit=True)",
    reads=(ItemRead("disputes", 560, "strong", what="the dispute before the change"), *_PAYMENT_READS),
    writes=(
        ItemWrite("disputes", "update", 640,
                  frozenset({"evidence", "updated", "status", "merchant_status", "open_status", "due_at", "version"}),
                  _DISPUTE, what="the dispute: under review"),
        ItemWrite("payments", "update", 470, frozenset({"dispute_status", "version"}), _PAYMENT_DISPUTED,
                  what="the payment: its dispute's status"),
        ItemWrite("audit_events", "put", 1300, _AUDIT | {"before"}, what="audit event dispute.evidence_submit"),
    ),
)  # fmt: skip

DISPUTE_WON = Operation(
    name="dispute won (the amount credited back)",
    service="disputes.services.dispute_decide",
    reads=(ItemRead("disputes", 640, "strong", what="the dispute before the change"), *_PAYMENT_READS,
           *_EVENT_READS),
    writes=(
        ItemWrite("disputes", "update", 640, _DISPUTE_CLOSE, _DISPUTE, what="the dispute: won"),
        ItemWrite("payments", "update", 470, frozenset({"dispute_status", "updated", "version", "balance_pending"}),
                  _PAYMENT_DISPUTED | {"balance_pending"}, what="the payment: its dispute's status"),
        ItemWrite("transactions", "put", 210, _LEDGER, what="ledger: dispute reversal"),
        ItemWrite("daily_summaries", "update", 120, frozenset({"dispute_won"}), _SUMMARY_KEY,
                  what="summary counters (ADD)"),
        BALANCE_PENDING,
        ItemWrite("audit_events", "put", 1300, _AUDIT | {"before", "detail"}, what="audit event dispute.close"),
        EVENT,
    ),
)  # fmt: skip


def with_webhook(operation: Operation) -> Operation:
    """The same change at a merchant with a webhook URL (or one endpoint): the event in the transaction
    names the endpoint; after the commit its delivery is put, the event's fan-out marked done, and the
    first delivery attempt updates the delivery twice."""
    return Operation(
        name=operation.name + ", with a webhook",
        service=operation.service + " at a merchant with a webhook URL",
        reads=operation.reads + WEBHOOK_DELIVERY_READS,
        writes=operation.writes,
        after=WEBHOOK_DELIVERY,
    )


def with_customer(operation: Operation) -> Operation:
    """The same change for a payment with a customer: the payment is also in `by-customer`."""

    def attach(item: ItemWrite) -> ItemWrite:
        if item.table != "payments":
            return item
        if item.action == "put":
            return replace(item, attributes=item.attributes | {"customer_id"})
        return replace(item, stored=item.stored | {"customer_id"})

    return replace(operation, name=operation.name + ", with a customer", writes=tuple(map(attach, operation.writes)))


API_READS = (
    ItemRead("api_keys", 235, "eventual", what="the API key (every request)"),
    ItemRead("merchants", 323, "eventual", what="the merchant's status and rate limit (every write)"),
)
_IDEMPOTENCY = frozenset(
    {"idempotency_key", "merchant_id", "fingerprint", "status", "lock_expires_at", "created", "expires_at"}
)
IDEMPOTENCY_CLAIM = ItemWrite("idempotency", "put", 336, _IDEMPOTENCY, what="Idempotency-Key claim (conditional put)")
IDEMPOTENCY_COMPLETE = ItemWrite(
    "idempotency",
    "update",
    830,
    frozenset({"status", "response_status", "response_body", "lock_expires_at", "lock_token"}),
    _IDEMPOTENCY,
    what="Idempotency-Key completed with the stored response, in the transaction",
)


# Every API request is logged (`apilog`): one put after the response, in its two indexes (no bodies).
API_REQUEST_LOG = ItemWrite("api_requests", "put", 1500, frozenset(
    {"merchant_id", "log_id", "request_id", "merchant_request_id", "method", "path", "status", "latency_ms", "key_id",
     "idempotency_key", "idempotent_replayed", "payment_id", "request_body", "request_body_truncated", "response_body",
     "response_body_truncated", "expires_at"}), what="the API request log entry")  # fmt: skip


def via_api(operation: Operation) -> Operation:
    """The same change through `POST /api/v1/...`: the key lookup and rate limit reads (the event's
    merchant read is that one), the Idempotency-Key claim before the transaction and its completion
    inside it, the log entry after."""
    return replace(
        operation,
        name=operation.name + ", through the API",
        reads=tuple(read for read in operation.reads if read is not _MERCHANT_READ) + API_READS,
        writes=operation.writes + (IDEMPOTENCY_COMPLETE,),
        after=operation.after + (IDEMPOTENCY_CLAIM, API_REQUEST_LOG),
    )


OPERATIONS = {
    "payment_create": PAYMENT_CREATE,
    "payment_authorize": PAYMENT_AUTHORIZE,
    "payment_capture": PAYMENT_CAPTURE,
    "refund_create": REFUND_CREATE,
    "dispute_open": DISPUTE_OPEN,
    "dispute_evidence_submit": DISPUTE_EVIDENCE_SUBMIT,
    "dispute_won": DISPUTE_WON,
}


def signature_of(writes: list[ItemWrite] | tuple[ItemWrite, ...]) -> list[tuple]:
    return sorted(
        (item.table, item.action, item.units, tuple(sorted((i.index, i.writes, i.units) for i in item.indexes)))
        for item in writes
    )
