"""Reads and writes priced per capacity mode."""

from dataclasses import replace
from decimal import Decimal

import pytest

from costs.inputs import Inputs
from costs.prices import price_table
from costs.throughput import break_even_utilisation, throughput_cost, throughput_of
from costs.units import UnitsPerTransaction

SEED = Inputs(monthly_transactions=1_000_000, queries_per_transaction=Decimal("5.2"), retention_days=90)
US_STANDARD = price_table().region("us-east-1").classes["standard"]
UNITS = UnitsPerTransaction(
    table_write=Decimal(10), index_write=Decimal(3), read=Decimal("3.1"), replicated_write=Decimal(5)
)


def _write_cost(inputs: Inputs, units: Decimal) -> Decimal:
    return throughput_cost(units, per_million=Decimal("0.625"), hourly=Decimal("0.00065"), inputs=inputs)


def test_on_demand_pays_per_million_request_units():
    assert _write_cost(SEED, Decimal(10_000_000)) == Decimal("6.25")


def test_provisioned_capacity_is_sized_for_the_average_at_the_chosen_utilisation():
    provisioned = replace(SEED, capacity_mode="provisioned", utilisation=Decimal("0.5"))

    # 10,000,000 write units a month / 3,600 s / 0.5 utilisation = 5,555.6 WCU-hours x $0.00065.
    assert _write_cost(provisioned, Decimal(10_000_000)) == Decimal(10_000_000) / 3600 / Decimal("0.5") * Decimal(
        "0.00065"
    )
    assert _write_cost(provisioned, Decimal(10_000_000)).quantize(Decimal("0.01")) == Decimal("3.61")


@pytest.mark.parametrize("utilisation", [Decimal("0.25"), Decimal("0.5"), Decimal(1)])
def test_provisioned_cost_falls_as_utilisation_rises_and_on_demand_ignores_it(utilisation):
    provisioned = replace(SEED, capacity_mode="provisioned", utilisation=utilisation)
    on_demand = replace(SEED, utilisation=utilisation)
    units = Decimal(3_600_000)

    assert _write_cost(provisioned, units) * utilisation == Decimal("0.65")
    assert _write_cost(on_demand, units) == Decimal("2.25")


def test_a_month_of_units_and_their_costs():
    throughput = throughput_of(SEED, UNITS, rates=US_STANDARD)

    assert (throughput.reads, throughput.table_writes, throughput.index_writes) == (3_100_000, 10_000_000, 3_000_000)
    assert throughput.replica_writes == 0
    assert (throughput.read_cost, throughput.write_cost, throughput.index_write_cost) == (
        Decimal("0.3875"),
        Decimal("6.25"),
        Decimal("1.875"),
    )


def test_replicas_replay_table_writes_at_the_replicated_rate_and_index_writes_again():
    single = throughput_of(SEED, UNITS, rates=US_STANDARD)
    global_table = throughput_of(replace(SEED, replicas=2), UNITS, rates=US_STANDARD)

    assert global_table.replica_writes == 2 * 5_000_000
    assert global_table.write_cost - single.write_cost == Decimal(10_000_000) / 1_000_000 * Decimal("0.625")
    assert global_table.index_write_cost == 3 * single.index_write_cost
    assert global_table.read_cost == single.read_cost  # replicas serve their own region's reads


def test_break_even_utilisation_is_where_provisioned_costs_what_on_demand_does():
    break_even = break_even_utilisation(SEED)

    # $0.00065 per WCU-hour vs $0.625 per million: 0.00065 x 10^6 / (3,600 x 0.625) = 28.9%.
    assert break_even["write"].quantize(Decimal("0.001")) == Decimal("0.289")
    assert break_even["read"].quantize(Decimal("0.001")) == Decimal("0.289")
    at_break_even = replace(SEED, capacity_mode="provisioned", utilisation=break_even["write"])
    assert _write_cost(at_break_even, Decimal(10_000_000)).quantize(Decimal("0.000001")) == Decimal("6.250000")
