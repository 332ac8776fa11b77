"""The cost model against a hand calculation: 1,000,000 payments a month, 5.2 queries each, 90 days
of retention, us-east-1, Standard, on-demand."""

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import pytest

from costs.estimate import estimate, price
from costs.inputs import Inputs
from costs.units import UnitsPerTransaction

CENT = Decimal("0.01")
GB = Decimal(1024**3)


def c(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


SEED = Inputs(monthly_transactions=1_000_000, queries_per_transaction=Decimal("5.2"), retention_days=90)


def test_every_line_item_of_the_seed_volume_matches_the_hand_calculation():
    n = Decimal(1_000_000)
    # Writes, per payment (costs/write_path.py PAYMENT_CREATE), each item a TransactWriteItems write
    # rounded up to 1 KB and doubled: payment 394 B, ledger 206 B and 200 B, summary 120 B, balance
    # counter 70 B, audit event 908 B, the event of the Events API 760 B -> 7 items x 1 KB x 2 = 14 write units.
    table_write_units = 2 + 2 + 2 + 2 + 2 + 2 + 2
    # GSI writes are standard writes: by-merchant, by-merchant-status (payment) and by-entity (audit).
    index_write_units = 1 + 1 + 1
    # Reads: 5.2 queries of one 394 B payment, eventually consistent (4 KB -> 0.5 unit), and the
    # merchant's webhook URL and the Query of its webhook endpoints, both eventually consistent, when the
    # payment succeeds (0.5 unit each).
    read_units = Decimal("5.2") * Decimal("0.5") + Decimal("0.5") + Decimal("0.5")

    write = n * table_write_units * Decimal("0.625") / 1_000_000  # $8.75
    read = n * read_units * Decimal("0.125") / 1_000_000  # $0.45
    index_writes = n * index_write_units * Decimal("0.625") / 1_000_000  # $1.875

    # Storage: payments made a day = 1,000,000 x 12 / 365. Payments and their ledger stay 90 days,
    # audit events 365 (AUDIT_RETENTION_DAYS), events 30 (the Events API). Every item carries 100 bytes
    # of overhead.
    per_day = n * 12 / 365
    payment_table = (394 + 100) + (206 + 100) + (200 + 100)  # 1,100 bytes
    payment_index = 2 * (394 + 100)  # by-merchant and by-merchant-status project ALL: 988 bytes
    audit_table = audit_index = 908 + 100  # the event and its by-entity entry: 1,008 bytes each
    event_table = 760 + 100  # no index
    table_gb = per_day * (90 * payment_table + 365 * audit_table + 30 * event_table) / GB
    index_gb = per_day * (90 * payment_index + 365 * audit_index) / GB  # 13.9879 GB
    # The first 25 GB are free: all of the table data, and the rest of the 25 GB for the index data.
    free_left = Decimal(25) - table_gb
    storage = Decimal(0) * Decimal("0.25")
    index_storage = (index_gb - free_left) * Decimal("0.25")
    # Streams: one stream read per payment change, 1,000,000 < 2,500,000 free.
    streams = Decimal(0)
    # Backup: point-in-time recovery of the table data (not the GSIs), $0.20 per GB-month.
    backup = table_gb * Decimal("0.20")

    result = estimate(SEED)

    assert (result.units.table_write, result.units.index_write, result.units.read) == (14, 3, Decimal("3.6"))
    assert result.line("read").amount == c(read) == Decimal("0.45")
    assert result.line("write").amount == c(write) == Decimal("8.75")
    assert result.line("storage").amount == c(storage) == Decimal("0.00")
    assert result.line("gsi").amount == c(index_writes + index_storage) == Decimal("2.89")
    assert result.line("streams").amount == c(streams) == Decimal("0.00")
    assert result.line("backup").amount == c(backup) == Decimal("3.02")
    assert result.total_monthly == Decimal("15.11")
    assert result.total_yearly == Decimal("181.32")
    # Cost per item (payment) and per request: 8.2 M requests = 1 M transactions + 1 M merchant
    # reads + 1 M endpoint queries + 5.2 M queries.
    assert result.cost_per_transaction == Decimal("0.0000151")
    assert result.requests_per_month == Decimal(8_200_000)
    assert result.cost_per_request == (Decimal("15.11") / 8_200_000).quantize(Decimal("0.0000001"))


def test_global_tables_add_replicated_writes_and_a_copy_of_the_data_per_region():
    single, global_table = estimate(SEED), estimate(replace(SEED, replicas=1))

    # 7 items of 1 KB replayed as standard replicated writes at $0.625 per million.
    assert global_table.line("write").amount - single.line("write").amount == c(
        Decimal(7_000_000) * Decimal("0.625") / 1_000_000
    )
    assert global_table.line("storage").amount > single.line("storage").amount


def test_provisioned_capacity_prices_the_write_line_by_the_hour():
    provisioned = price(replace(SEED, capacity_mode="provisioned", utilisation=Decimal("0.5")))

    # 14,000,000 write units a month / 3,600 s / 0.5 utilisation = 7,777.8 WCU-hours x $0.00065.
    assert provisioned.line("write").amount == c(Decimal(14_000_000) / 3600 / Decimal("0.5") * Decimal("0.00065"))
    assert provisioned.line("write").amount == Decimal("5.06")


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"capacity_mode": "provisioned", "table_class": "standard_ia"},
        {"replicas": 1, "refund_rate": Decimal("0.1")},
    ],
)
def test_the_comparison_is_the_other_mode_and_class_priced_on_their_own(change):
    inputs = replace(SEED, **change)
    result = estimate(inputs)

    modes, classes = ("on_demand", "provisioned"), ("standard", "standard_ia")
    assert {mode: result.comparison["capacity_mode"][mode] for mode in modes} == {
        mode: price(replace(inputs, capacity_mode=mode)).total_monthly for mode in modes
    }
    assert {table_class: result.comparison["table_class"][table_class] for table_class in classes} == {
        table_class: price(replace(inputs, table_class=table_class)).total_monthly for table_class in classes
    }
    assert [item.key for item in result.line_items] == ["read", "write", "storage", "gsi", "streams", "backup"]


def test_measured_units_replace_the_models():
    measured = UnitsPerTransaction(
        table_write=Decimal(8), index_write=Decimal(6), read=Decimal(3), replicated_write=Decimal(4), source="measured"
    )

    result = estimate(SEED, measured)

    assert result.units is measured
    assert result.line("write").amount == c(Decimal(8_000_000) * Decimal("0.625") / 1_000_000)
    assert result.line("read").amount == c(Decimal(3_000_000) * Decimal("0.125") / 1_000_000)


def test_no_payments_cost_nothing_per_payment_or_request():
    result = estimate(replace(SEED, monthly_transactions=0))

    assert result.requests_per_month == 0
    assert (result.cost_per_transaction, result.cost_per_request) == (0, 0)
