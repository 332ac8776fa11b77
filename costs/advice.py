"""The estimate beside the other capacity mode and table class, and advice in both directions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from costs.inputs import Inputs
from costs.line_items import money
from costs.prices import TABLE_CLASSES, price_table
from costs.throughput import break_even_utilisation


@dataclass(frozen=True)
class Recommendation:
    key: str
    advice: str
    monthly_saving: Decimal  # what following the advice saves a month (0 when staying is best)


def other_capacity_mode(capacity_mode: str) -> str:
    return "provisioned" if capacity_mode == "on_demand" else "on_demand"


def other_table_class(table_class: str) -> str:
    return "standard_ia" if table_class == "standard" else "standard"


def ia_break_even_ratio(inputs: Inputs) -> Decimal:
    """Standard-IA is cheaper when storage spend (priced at Standard) exceeds this multiple of
    throughput spend: (IA/Standard throughput price - 1) / (1 - IA/Standard storage price)."""
    classes = price_table().region(inputs.region).classes
    standard, ia = classes["standard"], classes["standard_ia"]
    throughput_ratio = ia.write_request_per_million / standard.write_request_per_million
    storage_ratio = ia.storage_gb_month / standard.storage_gb_month
    return (throughput_ratio - 1) / (1 - storage_ratio)


def comparison(
    inputs: Inputs,
    *,
    by_mode: dict[str, Decimal],
    by_class: dict[str, Decimal],
    throughput: Decimal,
    storage: Decimal,
) -> dict:
    """Both capacity modes and both table classes a month, with their break-even points; `throughput`
    and `storage` are the monthly spend at Standard prices."""
    return {
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


def capacity_mode_advice(inputs: Inputs, by_mode: dict[str, Decimal]) -> Recommendation:
    current, other = inputs.capacity_mode, other_capacity_mode(inputs.capacity_mode)
    saving = by_mode[current] - by_mode[other]
    break_even = break_even_utilisation(inputs)["write"]
    utilisation = f"{inputs.utilisation * 100:.0f}%"
    if saving > 0:
        text = (
            f"Switch to provisioned capacity at {utilisation} average utilisation: saves {money(saving)} a month "
            f"(provisioned pays off above {break_even * 100:.1f}% utilisation)."
            if other == "provisioned"
            else f"Switch to on-demand: saves {money(saving)} a month; provisioned capacity at {utilisation} "
            f"utilisation is below the {break_even * 100:.1f}% break-even."
        )
        return Recommendation("capacity_mode", text, saving)
    text = (
        f"Stay on on-demand: provisioned capacity at {utilisation} utilisation would cost {money(-saving)} more "
        f"a month (it pays off above {break_even * 100:.1f}% utilisation)."
        if current == "on_demand"
        else f"Stay on provisioned capacity: on-demand would cost {money(-saving)} more a month at "
        f"{utilisation} utilisation (break-even {break_even * 100:.1f}%)."
    )
    return Recommendation("capacity_mode", text, Decimal(0))


def table_class_advice(inputs: Inputs, by_class: dict[str, Decimal]) -> Recommendation:
    current, other = inputs.table_class, other_table_class(inputs.table_class)
    saving = by_class[current] - by_class[other]
    ratio = ia_break_even_ratio(inputs)
    if saving > 0:
        return Recommendation(
            "table_class",
            f"Switch the tables to {TABLE_CLASSES[other]}: saves {money(saving)} a month "
            f"(Standard-IA pays off when storage costs more than {ratio:.2f}x the throughput).",
            saving,
        )
    return Recommendation(
        "table_class",
        f"Stay on {TABLE_CLASSES[current]}: {TABLE_CLASSES[other]} would cost "
        f"{money(-saving)} more a month (Standard-IA pays off when storage costs more than "
        f"{ratio:.2f}x the throughput).",
        Decimal(0),
    )


def streams_advice(streams: Decimal) -> Recommendation | None:
    """`streams`: the month's stream line; None when it costs nothing."""
    if streams <= 0:
        return None
    return Recommendation(
        "streams",
        f"Consume the payments stream with a Lambda trigger: its stream reads are free (saves {money(streams)}).",
        streams,
    )


def recommendations(
    inputs: Inputs, *, by_mode: dict[str, Decimal], by_class: dict[str, Decimal], streams: Decimal
) -> list[Recommendation]:
    """Capacity mode, then table class, then (when it costs anything) the stream."""
    advice = [capacity_mode_advice(inputs, by_mode), table_class_advice(inputs, by_class)]
    stream = streams_advice(streams)
    return advice + [stream] if stream is not None else advice
