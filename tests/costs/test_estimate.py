"""The cost model against a hand calculation: 1,000,000 payments a month, 5.2 queries each, 90 days
of retention, us-east-1, Standard, on-demand."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from costs.estimate import Inputs, estimate, price
from costs.forms import parse

CENT = Decimal("0.01")
GB = Decimal(1024**3)


def c(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


SEED = Inputs(monthly_transactions=1_000_000, queries_per_transaction=Decimal("5.2"), retention_days=90)


def test_every_line_item_of_the_seed_volume_matches_the_hand_calculation():
    n = Decimal(1_000_000)
    # Writes, per payment (costs/write_path.py PAYMENT_CREATE), each item a TransactWriteItems write
    # rounded up to 1 KB and doubled: payment 394 B, ledger 206 B and 200 B, summary 120 B, audit
    # event 908 B -> 5 items x 1 KB x 2 = 10 write units.
    table_write_units = 2 + 2 + 2 + 2 + 2
    # GSI writes are standard writes: by-merchant, by-merchant-status (payment) and by-entity (audit).
    index_write_units = 1 + 1 + 1
    # Reads: 5.2 queries of one 394 B payment, eventually consistent (4 KB -> 0.5 unit), and the
    # merchant's webhook URL read eventually consistent when the payment succeeds (0.5 unit).
    read_units = Decimal("5.2") * Decimal("0.5") + Decimal("0.5")

    write = n * table_write_units * Decimal("0.625") / 1_000_000  # $6.25
    read = n * read_units * Decimal("0.125") / 1_000_000  # $0.3875
    index_writes = n * index_write_units * Decimal("0.625") / 1_000_000  # $1.875

    # Storage: payments made a day = 1,000,000 x 12 / 365. Payments and their ledger stay 90 days,
    # audit events 365 (AUDIT_RETENTION_DAYS). Every item carries 100 bytes of overhead.
    per_day = n * 12 / 365
    payment_table = (394 + 100) + (206 + 100) + (200 + 100)  # 1,100 bytes
    payment_index = 2 * (394 + 100)  # by-merchant and by-merchant-status project ALL: 988 bytes
    audit_table = audit_index = 908 + 100  # the event and its by-entity entry: 1,008 bytes each
    table_gb = per_day * (90 * payment_table + 365 * audit_table) / GB  # 14.2965 GB
    index_gb = per_day * (90 * payment_index + 365 * audit_index) / GB  # 13.9879 GB
    # The first 25 GB are free: all of the table data, and 25 - 14.2965 GB of the index data.
    free_left = Decimal(25) - table_gb
    storage = Decimal(0) * Decimal("0.25")
    index_storage = (index_gb - free_left) * Decimal("0.25")  # 3.2844 GB -> $0.8211
    # Streams: one stream read per payment change, 1,000,000 < 2,500,000 free.
    streams = Decimal(0)
    # Backup: point-in-time recovery of the table data (not the GSIs), $0.20 per GB-month.
    backup = table_gb * Decimal("0.20")  # $2.8593

    result = estimate(SEED)

    assert (result.units.table_write, result.units.index_write, result.units.read) == (10, 3, Decimal("3.1"))
    assert result.line("read").amount == c(read) == Decimal("0.39")
    assert result.line("write").amount == c(write) == Decimal("6.25")
    assert result.line("storage").amount == c(storage) == Decimal("0.00")
    assert result.line("gsi").amount == c(index_writes + index_storage) == Decimal("2.70")
    assert result.line("streams").amount == c(streams) == Decimal("0.00")
    assert result.line("backup").amount == c(backup) == Decimal("2.86")
    assert result.total_monthly == Decimal("12.20")
    assert result.total_yearly == Decimal("146.40")
    # Cost per item (payment) and per request: 7.2 M requests = 1 M transactions + 1 M merchant
    # reads + 5.2 M queries.
    assert result.cost_per_transaction == Decimal("0.0000122")
    assert result.requests_per_month == Decimal(7_200_000)
    assert result.cost_per_request == (Decimal("12.20") / 7_200_000).quantize(Decimal("0.0000001"))


def test_provisioned_capacity_is_sized_for_the_average_at_the_chosen_utilisation():
    provisioned = price(Inputs(**{**SEED.__dict__, "capacity_mode": "provisioned", "utilisation": Decimal("0.5")}))

    # 10,000,000 write units a month / 3,600 s / 0.5 utilisation = 5,555.6 WCU-hours x $0.00065.
    assert provisioned.line("write").amount == c(Decimal(10_000_000) / 3600 / Decimal("0.5") * Decimal("0.00065"))
    assert provisioned.line("write").amount == Decimal("3.61")


def test_break_even_utilisation_and_advice_in_both_directions():
    busy = estimate(SEED)
    comparison = busy.comparison["capacity_mode"]

    # $0.00065 per WCU-hour vs $0.625 per million: break-even at 0.00065 x 10^6 / (3,600 x 0.625) = 28.9%.
    assert comparison["break_even_utilisation"]["write"].quantize(Decimal("0.001")) == Decimal("0.289")
    assert busy.recommendations[0].key == "capacity_mode" and busy.recommendations[0].monthly_saving > 0
    assert "Switch to provisioned" in busy.recommendations[0].advice

    idle = estimate(Inputs(**{**SEED.__dict__, "utilisation": Decimal("0.2")}))
    assert idle.recommendations[0].monthly_saving == 0 and "Stay on on-demand" in idle.recommendations[0].advice

    provisioned_idle = estimate(
        Inputs(**{**SEED.__dict__, "capacity_mode": "provisioned", "utilisation": Decimal("0.2")})
    )
    assert "Switch to on-demand" in provisioned_idle.recommendations[0].advice
    assert provisioned_idle.recommendations[0].monthly_saving > 0


def test_standard_ia_is_advised_when_storage_outweighs_throughput_and_not_otherwise():
    # Standard-IA throughput costs 1.25x, storage 0.4x: it pays off above 0.25 / 0.6 = 0.4167.
    hot = estimate(SEED)
    cold = estimate(Inputs(monthly_transactions=1_000_000, queries_per_transaction=Decimal(0), retention_days=3650))

    assert hot.comparison["table_class"]["break_even_storage_to_throughput"].quantize(Decimal("0.0001")) == Decimal(
        "0.4167"
    )
    assert "Stay on Standard" in hot.recommendations[1].advice
    assert "Switch the tables to Standard-IA" in cold.recommendations[1].advice
    assert cold.recommendations[1].monthly_saving == (
        cold.comparison["table_class"]["standard"] - cold.comparison["table_class"]["standard_ia"]
    )


def test_ttl_deletes_are_free_so_retention_only_changes_storage():
    short, long = estimate(SEED), estimate(Inputs(**{**SEED.__dict__, "retention_days": 900}))

    assert short.line("write").amount == long.line("write").amount
    assert short.storage.table_gb < long.storage.table_gb


def test_global_tables_add_replicated_writes_and_a_copy_of_the_data_per_region():
    single, global_table = estimate(SEED), estimate(Inputs(**{**SEED.__dict__, "replicas": 1}))

    # 5 items of 1 KB replayed as standard replicated writes at $0.625 per million.
    assert global_table.line("write").amount - single.line("write").amount == c(
        Decimal(5_000_000) * Decimal("0.625") / 1_000_000
    )
    assert global_table.line("storage").amount > single.line("storage").amount


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"monthly_transactions": "-1"}, "monthly_transactions"),
        ({"retention_days": "0"}, "retention_days"),
        ({"region": "mars-1"}, "region"),
        ({"utilisation": "1.5"}, "utilisation"),
        ({"queries_per_transaction": "many"}, "queries_per_transaction"),
        ({"gsis": "21"}, "gsis"),
    ],
)
def test_bad_inputs_name_the_field(raw, param):
    inputs, form = parse(raw)

    assert inputs is None
    assert param in form.errors


def test_prices_are_decimals_with_a_date_and_a_source():
    from costs.prices import price_table

    table = price_table()
    us = table.region("us-east-1").classes["standard"]

    assert table.read_on and "aws.amazon.com/dynamodb/pricing" in table.source
    assert (us.write_request_per_million, us.read_request_per_million) == (Decimal("0.625"), Decimal("0.125"))
    assert (us.wcu_hour, us.rcu_hour) == (Decimal("0.00065"), Decimal("0.00013"))
    assert set(table.regions) >= {"us-east-1", "us-west-2", "eu-west-1"}
    assert all(isinstance(value, Decimal) for value in us.__dict__.values())


def test_customers_and_the_api_add_their_own_units_per_payment():
    with_customer = estimate(Inputs(**{**SEED.__dict__, "customer_share": Decimal(1)}))
    through_api = estimate(Inputs(**{**SEED.__dict__, "api_share": Decimal(1)}))
    half = estimate(Inputs(**{**SEED.__dict__, "api_share": Decimal("0.5")}))

    # a customer puts the payment in by-customer too: one more index write
    assert with_customer.units.index_write == 4
    # the API claims the Idempotency-Key (1 standard write) and completes it in the transaction
    # (1 KB x 2), and reads the key and the merchant's rate limit (2 x 0.5 eventually consistent)
    assert through_api.units.table_write == 10 + 1 + 2
    assert through_api.units.read == Decimal("3.1") + 1
    assert half.units.table_write == Decimal("11.5")
