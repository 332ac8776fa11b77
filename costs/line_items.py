"""The estimate's six line items (read, write, storage, GSI, streams, backup), each a month in USD
rounded to the cent, so the lines add up to the total, with the arithmetic behind it in words."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from costs.inputs import CAPACITY_MODES, Inputs
from costs.prices import TABLE_CLASSES, PriceTable, RegionPrices
from costs.storage import Storage, StorageCost
from costs.throughput import Throughput
from costs.units import UnitsPerTransaction

CENT = Decimal("0.01")
LINE_LABELS = {
    "read": "Read Operations",
    "write": "Write Operations",
    "storage": "Storage",
    "gsi": "GSI",
    "streams": "Streams",
    "backup": "Backup",
}


@dataclass(frozen=True)
class LineItem:
    key: str
    label: str
    amount: Decimal  # USD a month, to the cent
    detail: str


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _units_text(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def _line(key: str, amount: Decimal, detail: str) -> LineItem:
    return LineItem(key, LINE_LABELS[key], cents(amount), detail)


def read_line(inputs: Inputs, units: UnitsPerTransaction, throughput: Throughput) -> LineItem:
    n = Decimal(inputs.monthly_transactions)
    mode = CAPACITY_MODES[inputs.capacity_mode].lower()
    detail = (
        f"{_units_text(units.read)} read units a transaction x {n:,} = {_units_text(throughput.reads)} units, {mode}"
    )
    return _line("read", throughput.read_cost, detail)


def write_line(inputs: Inputs, units: UnitsPerTransaction, throughput: Throughput) -> LineItem:
    n = Decimal(inputs.monthly_transactions)
    mode = CAPACITY_MODES[inputs.capacity_mode].lower()
    detail = (
        f"{_units_text(units.table_write)} write units a transaction (transactional writes count twice) "
        f"x {n:,} = {_units_text(throughput.table_writes)} units, {mode}"
    )
    if inputs.replicas:
        detail += (
            f"; {_units_text(throughput.replica_writes)} replicated write units in {inputs.replicas} other region(s)"
        )
    return _line("write", throughput.write_cost, detail)


def storage_line(inputs: Inputs, storage: Storage, cost: StorageCost) -> LineItem:
    detail = f"{storage.table_gb:.2f} GB of table data, {TABLE_CLASSES[inputs.table_class]}" + (
        f", first {cost.free_gb} GB free" if cost.free_gb else ""
    )
    return _line("storage", cost.table, detail)


def gsi_line(
    inputs: Inputs, units: UnitsPerTransaction, throughput: Throughput, storage: Storage, cost: StorageCost
) -> LineItem:
    n = Decimal(inputs.monthly_transactions)
    detail = (
        f"{_units_text(units.index_write)} index write units a transaction x {n:,} "
        f"(writes {money(cents(throughput.index_write_cost))}); {storage.index_gb:.2f} GB of index data "
        f"(storage {money(cents(cost.index))})"
    )
    return _line("gsi", throughput.index_write_cost + cost.index, detail)


def streams_line(inputs: Inputs, *, table: PriceTable, region: RegionPrices) -> LineItem:
    """One stream read request per payment change (its creation and its refunds), after the free
    tier; a Lambda trigger's reads are free."""
    if not inputs.streams:
        return _line("streams", Decimal(0), "no stream")
    reads = Decimal(inputs.monthly_transactions) * (1 + inputs.refund_rate)
    cost = max(Decimal(0), reads - table.free_stream_reads) / 100_000 * region.stream_reads_per_100k
    detail = (
        f"{reads:,.0f} stream read requests (one per payment change), "
        f"first {table.free_stream_reads:,.0f} free; a Lambda trigger reads for free"
    )
    return _line("streams", cost, detail)


def backup_line(inputs: Inputs, storage: Storage, *, region: RegionPrices) -> LineItem:
    """Point-in-time recovery in every region, on-demand backups and restores; all of them cover
    table data, not GSIs."""
    backup_gb = storage.table_gb
    copies = 1 + inputs.replicas
    pitr_cost = backup_gb * region.pitr_gb_month * copies if inputs.pitr else Decimal(0)
    backup_cost = backup_gb * region.backup_gb_month * inputs.backups
    restore_cost = backup_gb * region.restore_gb * inputs.restores_per_month
    detail = (
        f"PITR {'on' if inputs.pitr else 'off'} ({money(cents(pitr_cost))}), {inputs.backups} on-demand "
        f"backup(s) ({money(cents(backup_cost))}), {inputs.restores_per_month} restore(s) "
        f"({money(cents(restore_cost))}) of {backup_gb:.2f} GB"
    )
    return _line("backup", pitr_cost + backup_cost + restore_cost, detail)
