"""The DynamoDB cost model: a month of Paysite's traffic priced by AWS's billing rules.

One "transaction" is a payment created and captured (`write_path.PAYMENT_CREATE`); a share of them
is refunded later (`refund_rate`, `write_path.REFUND_CREATE`). Queries read `items_per_query`
payment-sized items each. Everything is Decimal; money is rounded to cents per line item only, so
the lines add up to the total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from costs import sizes, write_path
from costs.prices import TABLE_CLASSES, PriceTable, RegionPrices, price_table

MILLION = Decimal(1_000_000)
HOURS_PER_MONTH = Decimal(730)  # AWS bills provisioned capacity by the hour; its month is 730 hours
DAYS_PER_MONTH = Decimal(365) / Decimal(12)
GB = Decimal(1024**3)
CENT = Decimal("0.01")
CAPACITY_MODES = {"on_demand": "On-demand", "provisioned": "Provisioned"}
CONSISTENCIES = tuple(sizes.READ_FACTORS)
LINE_ITEMS = ("read", "write", "storage", "gsi", "streams", "backup")
LINE_LABELS = {
    "read": "Read Operations",
    "write": "Write Operations",
    "storage": "Storage",
    "gsi": "GSI",
    "streams": "Streams",
    "backup": "Backup",
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Inputs:
    monthly_transactions: int = 1_000_000
    queries_per_transaction: Decimal = Decimal("5.2")
    retention_days: int = 90
    region: str = "us-east-1"
    table_class: str = "standard"
    capacity_mode: str = "on_demand"
    utilisation: Decimal = Decimal("0.5")  # provisioned capacity's average use, 0 < u <= 1
    item_size_bytes: int | None = None  # a payment item; None: as the app writes it
    items_per_query: int = 1
    read_consistency: str = "eventual"
    gsis: int | None = None  # GSIs on the payments table; None: the app's own, from the models
    refund_rate: Decimal = Decimal(0)
    customer_share: Decimal = Decimal(0)  # payments with a customer: also in the `by-customer` index
    api_share: Decimal = Decimal(0)  # payments made through the API: key lookup and Idempotency-Key
    webhooks: bool = False  # merchants have a webhook URL: an event per change and its delivery
    streams: bool = True
    pitr: bool = True
    backups: int = 0  # on-demand backups kept (each a full copy of the tables)
    restores_per_month: int = 0
    replicas: int = 0  # other regions of a global table, priced at this region's rates

    def validate(self) -> dict[str, str]:
        """Problems per field; empty when the inputs can be priced."""
        problems = {}
        if self.monthly_transactions < 0 or self.monthly_transactions > 10**12:
            problems["monthly_transactions"] = "Must be between 0 and 10^12."
        if self.queries_per_transaction < 0 or self.queries_per_transaction > 10_000:
            problems["queries_per_transaction"] = "Must be between 0 and 10,000."
        if not 1 <= self.retention_days <= 36_500:
            problems["retention_days"] = "Must be between 1 and 36,500 days."
        if self.region not in price_table().regions:
            problems["region"] = f"Must be one of {', '.join(price_table().regions)}."
        if self.table_class not in TABLE_CLASSES:
            problems["table_class"] = f"Must be one of {', '.join(TABLE_CLASSES)}."
        if self.capacity_mode not in CAPACITY_MODES:
            problems["capacity_mode"] = f"Must be one of {', '.join(CAPACITY_MODES)}."
        if not Decimal("0.01") <= self.utilisation <= 1:
            problems["utilisation"] = "Must be between 0.01 and 1."
        if self.item_size_bytes is not None and not 1 <= self.item_size_bytes <= 400 * 1024:
            problems["item_size_bytes"] = "Must be between 1 and 409,600 bytes (DynamoDB's item limit)."
        if not 1 <= self.items_per_query <= 1000:
            problems["items_per_query"] = "Must be between 1 and 1,000."
        if self.read_consistency not in CONSISTENCIES:
            problems["read_consistency"] = f"Must be one of {', '.join(CONSISTENCIES)}."
        if self.gsis is not None and not 0 <= self.gsis <= 20:
            problems["gsis"] = "Must be between 0 and 20 (DynamoDB's GSI limit)."
        for name in ("refund_rate", "customer_share", "api_share"):
            if not 0 <= getattr(self, name) <= 1:
                problems[name] = "Must be between 0 and 1."
        if not 0 <= self.backups <= 100:
            problems["backups"] = "Must be between 0 and 100."
        if not 0 <= self.restores_per_month <= 100:
            problems["restores_per_month"] = "Must be between 0 and 100."
        if not 0 <= self.replicas <= 10:
            problems["replicas"] = "Must be between 0 and 10."
        return problems


@dataclass(frozen=True)
class UnitsPerTransaction:
    """Capacity units one transaction consumes; from the write path or from measurements."""

    table_write: Decimal  # base-table write units (transactional writes already doubled)
    index_write: Decimal  # GSI write units
    read: Decimal  # read units of the transaction's queries and reads
    replicated_write: Decimal  # write units each replica region replays (standard, not transactional)
    source: str = "model"


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
class LineItem:
    key: str
    label: str
    amount: Decimal  # USD a month, to the cent
    detail: str


@dataclass(frozen=True)
class Recommendation:
    key: str
    advice: str
    monthly_saving: Decimal  # what following the advice saves a month (0 when staying is best)


@dataclass
class Estimate:
    inputs: Inputs
    units: UnitsPerTransaction
    storage: Storage
    line_items: list[LineItem]
    requests_per_month: Decimal
    comparison: dict = field(default_factory=dict)
    recommendations: list[Recommendation] = field(default_factory=list)

    @property
    def total_monthly(self) -> Decimal:
        return sum((item.amount for item in self.line_items), Decimal(0))

    @property
    def total_yearly(self) -> Decimal:
        return self.total_monthly * 12

    @property
    def cost_per_transaction(self) -> Decimal:
        if not self.inputs.monthly_transactions:
            return Decimal(0)
        return (self.total_monthly / self.inputs.monthly_transactions).quantize(Decimal("0.0000001"))

    @property
    def cost_per_request(self) -> Decimal:
        if not self.requests_per_month:
            return Decimal(0)
        return (self.total_monthly / self.requests_per_month).quantize(Decimal("0.0000001"))

    def line(self, key: str) -> LineItem:
        return next(item for item in self.line_items if item.key == key)


# --- units per transaction from the write path -----------------------------------------------


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


def _variants(operation: write_path.Operation, inputs: Inputs) -> list[tuple[Decimal, write_path.Operation]]:
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
    for share, variant in _variants(operation, inputs):
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


def _retention(table: str, inputs: Inputs) -> int:
    if table == "audit_events":
        return max(inputs.retention_days, int(getattr(settings, "AUDIT_RETENTION_DAYS", 365)))
    if table == "webhook_deliveries":
        return int(getattr(settings, "WEBHOOK_RETENTION_DAYS", 30))
    if table == "idempotency":
        return 1  # 24 hours, then TTL
    return inputs.retention_days


def storage_of(inputs: Inputs) -> Storage:
    """What stays stored at steady state: the items each payment puts, for `retention_days` (payments
    and their ledger), the audit retention (`AUDIT_RETENTION_DAYS`, at least 365 days), the webhook
    TTL (`WEBHOOK_RETENTION_DAYS`) or a day (Idempotency-Key records); each item with DynamoDB's 100
    bytes of overhead, in the table and in every index it is projected into. TTL deletes are free."""
    totals: dict[str, list] = {}
    for share, variant in _variants(write_path.PAYMENT_CREATE, inputs):
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


# --- pricing ---------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _units_text(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def _throughput_cost(units: Decimal, *, per_million: Decimal, hourly: Decimal, inputs: Inputs) -> Decimal:
    """A month of `units` on demand, or as provisioned capacity sized for the average at `utilisation`."""
    if inputs.capacity_mode == "on_demand":
        return units / MILLION * per_million
    return units / (Decimal(3600) * inputs.utilisation) * hourly


def price(inputs: Inputs, units: UnitsPerTransaction | None = None, *, table: PriceTable | None = None) -> Estimate:
    """Price a month. `units` replaces the model's units per transaction (the measured ones)."""
    table = table or price_table()
    region: RegionPrices = table.region(inputs.region)
    rates = region.classes[inputs.table_class]
    units = units or model_units(inputs)
    storage = storage_of(inputs)
    n = Decimal(inputs.monthly_transactions)
    mode = CAPACITY_MODES[inputs.capacity_mode]

    reads = n * units.read
    table_writes = n * units.table_write
    index_writes = n * units.index_write
    replica_writes = n * units.replicated_write * inputs.replicas
    replica_index_writes = index_writes * inputs.replicas
    read_cost = _throughput_cost(
        reads, per_million=rates.read_request_per_million, hourly=rates.rcu_hour, inputs=inputs
    )
    write_cost = _throughput_cost(
        table_writes, per_million=rates.write_request_per_million, hourly=rates.wcu_hour, inputs=inputs
    ) + _throughput_cost(
        replica_writes,
        per_million=rates.replicated_write_request_per_million,
        hourly=rates.replicated_wcu_hour,
        inputs=inputs,
    )
    index_write_cost = _throughput_cost(
        index_writes + replica_index_writes,
        per_million=rates.write_request_per_million,
        hourly=rates.wcu_hour,
        inputs=inputs,
    )

    free = table.free_storage_gb_standard if inputs.table_class == "standard" else Decimal(0)
    copies = 1 + inputs.replicas  # every replica stores everything; the free tier is per region
    table_gb, index_gb = storage.table_gb, storage.index_gb
    table_billable = max(Decimal(0), table_gb - free) + table_gb * inputs.replicas
    index_billable = max(Decimal(0), index_gb - max(Decimal(0), free - table_gb)) + index_gb * inputs.replicas
    storage_cost = table_billable * rates.storage_gb_month
    index_storage_cost = index_billable * rates.storage_gb_month

    stream_reads = n * (1 + inputs.refund_rate) if inputs.streams else Decimal(0)
    stream_cost = max(Decimal(0), stream_reads - table.free_stream_reads) / 100_000 * region.stream_reads_per_100k

    backup_gb = table_gb  # PITR and backups cover table data, not GSIs
    pitr_cost = backup_gb * region.pitr_gb_month * copies if inputs.pitr else Decimal(0)
    backup_cost = backup_gb * region.backup_gb_month * inputs.backups
    restore_cost = backup_gb * region.restore_gb * inputs.restores_per_month

    read_detail = (
        f"{_units_text(units.read)} read units a transaction x {n:,} = {_units_text(reads)} units, {mode.lower()}"
    )
    write_detail = (
        f"{_units_text(units.table_write)} write units a transaction (transactional writes count twice) "
        f"x {n:,} = {_units_text(table_writes)} units, {mode.lower()}"
    )
    if inputs.replicas:
        write_detail += f"; {_units_text(replica_writes)} replicated write units in {inputs.replicas} other region(s)"
    line_items = [
        LineItem("read", LINE_LABELS["read"], cents(read_cost), read_detail),
        LineItem("write", LINE_LABELS["write"], cents(write_cost), write_detail),
        LineItem(
            "storage",
            LINE_LABELS["storage"],
            cents(storage_cost),
            f"{table_gb:.2f} GB of table data, {TABLE_CLASSES[inputs.table_class]}"
            + (f", first {free} GB free" if free else ""),
        ),
        LineItem(
            "gsi",
            LINE_LABELS["gsi"],
            cents(index_write_cost + index_storage_cost),
            f"{_units_text(units.index_write)} index write units a transaction x {n:,} "
            f"(writes {_money(cents(index_write_cost))}); {index_gb:.2f} GB of index data "
            f"(storage {_money(cents(index_storage_cost))})",
        ),
        LineItem(
            "streams",
            LINE_LABELS["streams"],
            cents(stream_cost),
            (
                f"{stream_reads:,.0f} stream read requests (one per payment change), "
                f"first {table.free_stream_reads:,.0f} free; a Lambda trigger reads for free"
            )
            if inputs.streams
            else "no stream",
        ),
        LineItem(
            "backup",
            LINE_LABELS["backup"],
            cents(pitr_cost + backup_cost + restore_cost),
            f"PITR {'on' if inputs.pitr else 'off'} ({_money(cents(pitr_cost))}), {inputs.backups} on-demand "
            f"backup(s) ({_money(cents(backup_cost))}), {inputs.restores_per_month} restore(s) "
            f"({_money(cents(restore_cost))}) of {backup_gb:.2f} GB",
        ),
    ]
    requests = n * requests_per_transaction(inputs)
    return Estimate(inputs=inputs, units=units, storage=storage, line_items=line_items, requests_per_month=requests)


# --- comparison and advice -------------------------------------------------------------------


def break_even_utilisation(inputs: Inputs) -> dict[str, Decimal]:
    """The provisioned utilisation at which provisioned capacity costs what on-demand does."""
    rates = price_table().region(inputs.region).classes[inputs.table_class]
    return {
        "write": rates.wcu_hour * MILLION / (Decimal(3600) * rates.write_request_per_million),
        "read": rates.rcu_hour * MILLION / (Decimal(3600) * rates.read_request_per_million),
    }


def _throughput_and_storage(estimate: Estimate) -> tuple[Decimal, Decimal]:
    storage = estimate.line("storage").amount
    throughput = estimate.line("read").amount + estimate.line("write").amount + estimate.line("gsi").amount
    return throughput, storage


def ia_break_even_ratio(inputs: Inputs) -> Decimal:
    """Standard-IA is cheaper when storage spend (priced at Standard) exceeds this multiple of
    throughput spend: (IA/Standard throughput price - 1) / (1 - IA/Standard storage price)."""
    classes = price_table().region(inputs.region).classes
    standard, ia = classes["standard"], classes["standard_ia"]
    throughput_ratio = ia.write_request_per_million / standard.write_request_per_million
    storage_ratio = ia.storage_gb_month / standard.storage_gb_month
    return (throughput_ratio - 1) / (1 - storage_ratio)


def estimate(inputs: Inputs, units: UnitsPerTransaction | None = None) -> Estimate:
    """The estimate for `inputs`, with the other capacity mode and table class priced beside it and
    advice in both directions."""
    result = price(inputs, units)
    other_mode = "provisioned" if inputs.capacity_mode == "on_demand" else "on_demand"
    other_class = "standard_ia" if inputs.table_class == "standard" else "standard"
    as_other_mode = price(replace(inputs, capacity_mode=other_mode), units)
    as_other_class = price(replace(inputs, table_class=other_class), units)
    by_mode = {
        inputs.capacity_mode: result.total_monthly,
        other_mode: as_other_mode.total_monthly,
    }
    by_class = {inputs.table_class: result.total_monthly, other_class: as_other_class.total_monthly}
    standard = result if inputs.table_class == "standard" else as_other_class
    throughput, storage = _throughput_and_storage(standard)
    result.comparison = {
        "capacity_mode": {
            "on_demand": by_mode["on_demand"],
            "provisioned": by_mode["provisioned"],
            "utilisation": inputs.utilisation,
            "break_even_utilisation": break_even_utilisation(inputs),
        },
        "table_class": {
            "standard": by_class["standard"],
            "standard_ia": by_class["standard_ia"],
            "break_even_storage_to_throughput": ia_break_even_ratio(inputs),
            "storage_to_throughput": (storage / throughput) if throughput else None,
        },
    }
    result.recommendations = _advice(inputs, result, by_mode, by_class)
    return result


def _advice(inputs: Inputs, result: Estimate, by_mode: dict, by_class: dict) -> list[Recommendation]:
    advice = []
    current, other = inputs.capacity_mode, "provisioned" if inputs.capacity_mode == "on_demand" else "on_demand"
    saving = by_mode[current] - by_mode[other]
    break_even = break_even_utilisation(inputs)["write"]
    utilisation = f"{inputs.utilisation * 100:.0f}%"
    if saving > 0:
        text = (
            f"Switch to provisioned capacity at {utilisation} average utilisation: saves {_money(saving)} a month "
            f"(provisioned pays off above {break_even * 100:.1f}% utilisation)."
            if other == "provisioned"
            else f"Switch to on-demand: saves {_money(saving)} a month; provisioned capacity at {utilisation} "
            f"utilisation is below the {break_even * 100:.1f}% break-even."
        )
        advice.append(Recommendation("capacity_mode", text, saving))
    else:
        text = (
            f"Stay on on-demand: provisioned capacity at {utilisation} utilisation would cost {_money(-saving)} more "
            f"a month (it pays off above {break_even * 100:.1f}% utilisation)."
            if current == "on_demand"
            else f"Stay on provisioned capacity: on-demand would cost {_money(-saving)} more a month at "
            f"{utilisation} utilisation (break-even {break_even * 100:.1f}%)."
        )
        advice.append(Recommendation("capacity_mode", text, Decimal(0)))
    current_class = inputs.table_class
    other_class = "standard_ia" if current_class == "standard" else "standard"
    saving = by_class[current_class] - by_class[other_class]
    ratio = ia_break_even_ratio(inputs)
    if saving > 0:
        advice.append(
            Recommendation(
                "table_class",
                f"Switch the tables to {TABLE_CLASSES[other_class]}: saves {_money(saving)} a month "
                f"(Standard-IA pays off when storage costs more than {ratio:.2f}x the throughput).",
                saving,
            )
        )
    else:
        advice.append(
            Recommendation(
                "table_class",
                f"Stay on {TABLE_CLASSES[current_class]}: {TABLE_CLASSES[other_class]} would cost "
                f"{_money(-saving)} more a month (Standard-IA pays off when storage costs more than "
                f"{ratio:.2f}x the throughput).",
                Decimal(0),
            )
        )
    streams = result.line("streams").amount
    if streams > 0:
        advice.append(
            Recommendation(
                "streams",
                f"Consume the payments stream with a Lambda trigger: its stream reads are free (saves {_money(streams)}).",
                streams,
            )
        )
    return advice
