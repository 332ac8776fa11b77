"""The DynamoDB cost model: a month of Paysite's traffic priced by AWS's billing rules.

The inputs (`costs.inputs`) become capacity units per transaction (`costs.units`) and the data kept
at steady state (`costs.storage`); `price` turns them into line items (`costs.line_items`) at the
capacity mode's rates (`costs.throughput`), and `estimate` prices the other capacity mode and table
class beside them and gives advice (`costs.advice`). Everything is Decimal; money is rounded to
cents per line item only, so the lines add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from costs import advice, line_items
from costs.advice import Recommendation
from costs.inputs import Inputs
from costs.line_items import LineItem
from costs.prices import PriceTable, price_table
from costs.storage import Storage, storage_cost, storage_of
from costs.throughput import throughput_of
from costs.units import UnitsPerTransaction, model_units, requests_per_transaction


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


def price(inputs: Inputs, units: UnitsPerTransaction | None = None, *, table: PriceTable | None = None) -> Estimate:
    """Price a month. `units` replaces the model's units per transaction (the measured ones)."""
    table = table or price_table()
    region = table.region(inputs.region)
    rates = region.classes[inputs.table_class]
    units = units or model_units(inputs)
    storage = storage_of(inputs)
    throughput = throughput_of(inputs, units, rates=rates)
    stored = storage_cost(storage, inputs, rates=rates, table=table)
    lines = [
        line_items.read_line(inputs, units, throughput),
        line_items.write_line(inputs, units, throughput),
        line_items.storage_line(inputs, storage, stored),
        line_items.gsi_line(inputs, units, throughput, storage, stored),
        line_items.streams_line(inputs, table=table, region=region),
        line_items.backup_line(inputs, storage, region=region),
    ]
    requests = Decimal(inputs.monthly_transactions) * requests_per_transaction(inputs)
    return Estimate(inputs=inputs, units=units, storage=storage, line_items=lines, requests_per_month=requests)


def _throughput_and_storage(estimate: Estimate) -> tuple[Decimal, Decimal]:
    storage = estimate.line("storage").amount
    throughput = estimate.line("read").amount + estimate.line("write").amount + estimate.line("gsi").amount
    return throughput, storage


def estimate(inputs: Inputs, units: UnitsPerTransaction | None = None) -> Estimate:
    """The estimate for `inputs`, with the other capacity mode and table class priced beside it and
    advice in both directions."""
    result = price(inputs, units)
    other_mode = advice.other_capacity_mode(inputs.capacity_mode)
    other_class = advice.other_table_class(inputs.table_class)
    as_other_mode = price(replace(inputs, capacity_mode=other_mode), units)
    as_other_class = price(replace(inputs, table_class=other_class), units)
    by_mode = {inputs.capacity_mode: result.total_monthly, other_mode: as_other_mode.total_monthly}
    by_class = {inputs.table_class: result.total_monthly, other_class: as_other_class.total_monthly}
    standard = result if inputs.table_class == "standard" else as_other_class
    throughput, storage = _throughput_and_storage(standard)
    result.comparison = advice.comparison(
        inputs, by_mode=by_mode, by_class=by_class, throughput=throughput, storage=storage
    )
    result.recommendations = advice.recommendations(
        inputs, by_mode=by_mode, by_class=by_class, streams=result.line("streams").amount
    )
    return result
