"""An estimate as data (the API, the page's chart) and as text (the `costs` command)."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from costs.estimate import Estimate
from costs.prices import TABLE_CLASSES, price_table


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _ratio(value: Decimal | None, places: str = "0.0001") -> str | None:
    return None if value is None else str(value.quantize(Decimal(places)))


def estimate_payload(estimate: Estimate) -> dict[str, Any]:
    """The estimate as JSON-ready data; money is a decimal string in US dollars."""
    table = price_table()
    inputs = asdict(estimate.inputs)
    for name, value in inputs.items():
        if isinstance(value, Decimal):
            inputs[name] = str(value)
    capacity = estimate.comparison["capacity_mode"]
    classes = estimate.comparison["table_class"]
    return {
        "object": "cost_estimate",
        "currency": "usd",
        "inputs": inputs,
        "line_items": [
            {"key": item.key, "label": item.label, "amount": _money(item.amount), "detail": item.detail}
            for item in estimate.line_items
        ],
        "total_monthly": _money(estimate.total_monthly),
        "total_yearly": _money(estimate.total_yearly),
        "cost_per_transaction": str(estimate.cost_per_transaction),
        "cost_per_request": str(estimate.cost_per_request),
        "requests_per_month": str(estimate.requests_per_month.quantize(Decimal(1))),
        "units_per_transaction": {
            "table_write": str(estimate.units.table_write),
            "index_write": str(estimate.units.index_write),
            "read": str(estimate.units.read),
            "source": estimate.units.source,
        },
        "storage_gb": {
            "table": _ratio(estimate.storage.table_gb, "0.01"),
            "index": _ratio(estimate.storage.index_gb, "0.01"),
        },
        "comparison": {
            "capacity_mode": {
                "on_demand_monthly": _money(capacity["on_demand"]),
                "provisioned_monthly": _money(capacity["provisioned"]),
                "utilisation": str(capacity["utilisation"]),
                "break_even_utilisation": _ratio(capacity["break_even_utilisation"]["write"]),
            },
            "table_class": {
                "standard_monthly": _money(classes["standard"]),
                "standard_ia_monthly": _money(classes["standard_ia"]),
                "break_even_storage_to_throughput": _ratio(classes["break_even_storage_to_throughput"]),
                "storage_to_throughput": _ratio(classes["storage_to_throughput"]),
            },
        },
        "recommendations": [
            {"key": advice.key, "advice": advice.advice, "monthly_saving": _money(advice.monthly_saving)}
            for advice in estimate.recommendations
        ],
        "prices": {
            "region": estimate.inputs.region,
            "region_name": table.region(estimate.inputs.region).name,
            "table_class": TABLE_CLASSES[estimate.inputs.table_class],
            "read_on": table.read_on,
            "effective_from": table.effective_from,
            "source": table.source,
        },
    }


def text_report(estimate: Estimate) -> str:
    """The report of the seed's cost estimator, with Paysite's numbers."""
    inputs = estimate.inputs
    table = price_table()
    width = max(len(item.label) for item in estimate.line_items) + 2
    lines = [
        "DynamoDB cost estimate",
        f"  {inputs.monthly_transactions:,} payments a month, {inputs.queries_per_transaction} queries each, "
        f"{inputs.retention_days} days retention",
        f"  {table.region(inputs.region).name} ({inputs.region}), {TABLE_CLASSES[inputs.table_class]}, "
        f"{inputs.capacity_mode.replace('_', '-')}; prices read {table.read_on}",
        "",
        "Monthly Cost Breakdown:",
        "----------------------",
    ]
    for item in estimate.line_items:
        lines.append(f"{item.label + ':':<{width}}${item.amount:,.2f}")
    lines += [
        "----------------------",
        f"{'Total Monthly:':<{width}}${estimate.total_monthly:,.2f}",
        f"{'Total Yearly:':<{width}}${estimate.total_yearly:,.2f}",
        "",
        f"Cost per item (payment): ${estimate.cost_per_transaction}",
        f"Cost per request:        ${estimate.cost_per_request} ({estimate.requests_per_month:,.0f} requests a month)",
        "",
        "How each line is made:",
    ]
    lines += [f"  {item.label}: {item.detail}" for item in estimate.line_items]
    lines += ["", "Recommendations:"]
    lines += [f"  - {advice.advice}" for advice in estimate.recommendations]
    return "\n".join(lines) + "\n"
