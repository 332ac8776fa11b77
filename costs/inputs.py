"""What an estimate prices: a month of Paysite's traffic and the tables' settings, with their limits.

One "transaction" is a payment created and captured; a share of them is refunded later
(`refund_rate`). Queries read `items_per_query` payment-sized items each.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from costs import sizes
from costs.prices import TABLE_CLASSES, price_table
from webhooks.endpoints import MAX_ENDPOINTS

CAPACITY_MODES = {"on_demand": "On-demand", "provisioned": "Provisioned"}
CONSISTENCIES = tuple(sizes.READ_FACTORS)


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
    # Enabled webhook endpoints subscribed to a change's event, on average per merchant (0 to 16): each
    # gets a delivery and its attempt. Every change writes its event (the Events API) either way.
    webhook_endpoints: Decimal = Decimal(0)
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
        if not 0 <= self.webhook_endpoints <= MAX_ENDPOINTS:
            problems["webhook_endpoints"] = f"Must be between 0 and {MAX_ENDPOINTS} (endpoints per merchant)."
        if not 0 <= self.backups <= 100:
            problems["backups"] = "Must be between 0 and 100."
        if not 0 <= self.restores_per_month <= 100:
            problems["restores_per_month"] = "Must be between 0 and 100."
        if not 0 <= self.replicas <= 10:
            problems["replicas"] = "Must be between 0 and 10."
        return problems
