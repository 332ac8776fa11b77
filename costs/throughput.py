"""Reads and writes priced per capacity mode: on demand by the request unit, provisioned by the
capacity-unit hour, sized for the month's average at `Inputs.utilisation`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from costs.inputs import Inputs
from costs.prices import ClassPrices, price_table
from costs.units import UnitsPerTransaction

MILLION = Decimal(1_000_000)
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class Throughput:
    """A month of capacity units and what they cost in USD, unrounded."""

    reads: Decimal
    table_writes: Decimal
    index_writes: Decimal
    replica_writes: Decimal  # base-table writes replayed in the other regions, all of them together
    read_cost: Decimal
    write_cost: Decimal  # table writes here and replicated writes in the other regions
    index_write_cost: Decimal  # index writes here and in every replica


def throughput_cost(units: Decimal, *, per_million: Decimal, hourly: Decimal, inputs: Inputs) -> Decimal:
    """A month of `units` on demand, or as provisioned capacity sized for the average at `utilisation`."""
    if inputs.capacity_mode == "on_demand":
        return units / MILLION * per_million
    return units / (SECONDS_PER_HOUR * inputs.utilisation) * hourly


def throughput_of(inputs: Inputs, units: UnitsPerTransaction, *, rates: ClassPrices) -> Throughput:
    n = Decimal(inputs.monthly_transactions)
    reads = n * units.read
    table_writes = n * units.table_write
    index_writes = n * units.index_write
    replica_writes = n * units.replicated_write * inputs.replicas
    replica_index_writes = index_writes * inputs.replicas
    read_cost = throughput_cost(reads, per_million=rates.read_request_per_million, hourly=rates.rcu_hour, inputs=inputs)
    write_cost = throughput_cost(
        table_writes, per_million=rates.write_request_per_million, hourly=rates.wcu_hour, inputs=inputs
    ) + throughput_cost(
        replica_writes,
        per_million=rates.replicated_write_request_per_million,
        hourly=rates.replicated_wcu_hour,
        inputs=inputs,
    )
    index_write_cost = throughput_cost(
        index_writes + replica_index_writes,
        per_million=rates.write_request_per_million,
        hourly=rates.wcu_hour,
        inputs=inputs,
    )
    return Throughput(
        reads=reads,
        table_writes=table_writes,
        index_writes=index_writes,
        replica_writes=replica_writes,
        read_cost=read_cost,
        write_cost=write_cost,
        index_write_cost=index_write_cost,
    )


def break_even_utilisation(inputs: Inputs) -> dict[str, Decimal]:
    """The provisioned utilisation at which provisioned capacity costs what on-demand does."""
    rates = price_table().region(inputs.region).classes[inputs.table_class]
    return {
        "write": rates.wcu_hour * MILLION / (SECONDS_PER_HOUR * rates.write_request_per_million),
        "read": rates.rcu_hour * MILLION / (SECONDS_PER_HOUR * rates.read_request_per_million),
    }
