"""Each line item: its amount to the cent and the arithmetic behind it in words."""

from dataclasses import replace
from decimal import Decimal

import pytest

from costs.inputs import Inputs
from costs.line_items import (
    LINE_LABELS,
    backup_line,
    cents,
    gsi_line,
    money,
    read_line,
    storage_line,
    streams_line,
    write_line,
)
from costs.prices import price_table
from costs.storage import StorageCost, storage_of
from costs.throughput import throughput_of
from costs.units import UnitsPerTransaction

SEED = Inputs(monthly_transactions=1_000_000, queries_per_transaction=Decimal("5.2"), retention_days=90)
TABLE = price_table()
US_EAST = TABLE.region("us-east-1")
UNITS = UnitsPerTransaction(
    table_write=Decimal(10), index_write=Decimal(3), read=Decimal("3.1"), replicated_write=Decimal(5)
)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [(Decimal("0.005"), Decimal("0.01")), (Decimal("0.3875"), Decimal("0.39")), (Decimal("2.8549"), Decimal("2.85"))],
)
def test_money_is_rounded_half_up_to_the_cent(value, rounded):
    assert cents(value) == rounded


def test_money_reads_as_dollars_with_thousands_separators():
    assert money(Decimal("1234.5")) == "$1,234.50"


def test_the_read_line_names_units_volume_and_mode():
    line = read_line(SEED, UNITS, throughput_of(SEED, UNITS, rates=US_EAST.classes["standard"]))

    assert (line.key, line.label, line.amount) == ("read", "Read Operations", Decimal("0.39"))
    assert line.detail == "3.1 read units a transaction x 1,000,000 = 3,100,000 units, on-demand"


def test_the_write_line_adds_the_replicated_writes_of_a_global_table():
    inputs = replace(SEED, replicas=2)
    line = write_line(inputs, UNITS, throughput_of(inputs, UNITS, rates=US_EAST.classes["standard"]))

    assert line.amount == Decimal("6.25") + Decimal("6.25")  # 10 M here, 2 x 5 M replicated at the same rate
    assert line.detail.endswith("; 10,000,000 replicated write units in 2 other region(s)")


@pytest.mark.parametrize(("free_gb", "free_text"), [(Decimal(25), ", first 25 GB free"), (Decimal(0), "")])
def test_the_storage_line_mentions_the_free_tier_only_when_there_is_one(free_gb, free_text):
    storage = storage_of(SEED)

    line = storage_line(SEED, storage, StorageCost(free_gb=free_gb, table=Decimal("1.234"), index=Decimal(0)))

    assert line.amount == Decimal("1.23")
    assert line.detail == f"{storage.table_gb:.2f} GB of table data, Standard{free_text}"


def test_the_gsi_line_adds_index_writes_and_the_index_storage_the_free_tier_leaves():
    storage = storage_of(SEED)
    throughput = throughput_of(SEED, UNITS, rates=US_EAST.classes["standard"])
    cost = StorageCost(free_gb=Decimal(25), table=Decimal(0), index=Decimal("0.8211"))

    line = gsi_line(SEED, UNITS, throughput, storage, cost)

    assert (line.key, line.label, line.amount) == ("gsi", "GSI", Decimal("2.70"))  # $1.875 + $0.8211
    assert line.detail == (
        "3 index write units a transaction x 1,000,000 (writes $1.88); "
        f"{storage.index_gb:.2f} GB of index data (storage $0.82)"
    )


@pytest.mark.parametrize(
    ("change", "amount"),
    [
        ({}, Decimal("0.00")),  # 1,000,000 stream reads: within the 2,500,000 free
        ({"monthly_transactions": 10_000_000}, Decimal("1.50")),  # 7,500,000 over x $0.02 per 100,000
        ({"monthly_transactions": 10_000_000, "refund_rate": Decimal(1)}, Decimal("3.50")),  # a refund: one more
        ({"monthly_transactions": 10_000_000, "streams": False}, Decimal("0.00")),
    ],
)
def test_the_stream_is_read_once_per_payment_change_after_the_free_tier(change, amount):
    line = streams_line(replace(SEED, **change), table=TABLE, region=US_EAST)

    assert (line.key, line.amount) == ("streams", amount)


def test_without_a_stream_the_line_says_so():
    assert streams_line(replace(SEED, streams=False), table=TABLE, region=US_EAST).detail == "no stream"


def test_backups_cover_table_data_pitr_per_region_backups_and_restores():
    inputs = replace(SEED, replicas=1, backups=2, restores_per_month=1)
    storage = storage_of(inputs)
    table_gb = storage.table_gb

    line = backup_line(inputs, storage, region=US_EAST)

    # PITR $0.20 in both regions, two backups at $0.10, one restore at $0.15 a GB
    assert line.amount == cents(table_gb * (2 * Decimal("0.20") + 2 * Decimal("0.10") + Decimal("0.15")))
    assert line.detail.startswith(f"PITR on ({money(cents(table_gb * Decimal('0.40')))}), 2 on-demand backup(s)")


def test_without_pitr_backups_cost_nothing():
    line = backup_line(replace(SEED, pitr=False), storage_of(SEED), region=US_EAST)

    assert line.amount == 0 and line.detail.startswith("PITR off ($0.00), 0 on-demand backup(s) ($0.00)")


def test_the_labels_are_the_six_lines_in_the_order_they_are_shown():
    assert list(LINE_LABELS) == ["read", "write", "storage", "gsi", "streams", "backup"]
