from __future__ import annotations

from ninja import Schema


class EstimateQuery(Schema):
    """Every parameter is optional; a missing one takes the default shown."""

    monthly_transactions: int | None = None  # 1000000
    queries_per_transaction: str | None = None  # 5.2
    retention_days: int | None = None  # 90
    region: str | None = None  # us-east-1 | us-west-2 | eu-west-1
    table_class: str | None = None  # standard | standard_ia
    capacity_mode: str | None = None  # on_demand | provisioned
    utilisation: str | None = None  # 0.5
    item_size_bytes: int | None = None
    items_per_query: int | None = None  # 1
    read_consistency: str | None = None  # eventual | strong | transactional
    gsis: int | None = None
    refund_rate: str | None = None  # 0
    customer_share: str | None = None  # 0
    api_share: str | None = None  # 0
    webhook_endpoints: str | None = None  # 0 (enabled endpoints per merchant, on average, 0 to 16)
    streams: bool | None = None  # true
    pitr: bool | None = None  # true
    backups: int | None = None  # 0
    restores_per_month: int | None = None  # 0
    replicas: int | None = None  # 0


class LineItemOut(Schema):
    key: str
    label: str
    amount: str
    detail: str


class RecommendationOut(Schema):
    key: str
    advice: str
    monthly_saving: str


class CapacityComparisonOut(Schema):
    on_demand_monthly: str
    provisioned_monthly: str
    utilisation: str
    break_even_utilisation: str


class TableClassComparisonOut(Schema):
    standard_monthly: str
    standard_ia_monthly: str
    break_even_storage_to_throughput: str
    storage_to_throughput: str | None


class ComparisonOut(Schema):
    capacity_mode: CapacityComparisonOut
    table_class: TableClassComparisonOut


class PricesOut(Schema):
    region: str
    region_name: str
    table_class: str
    read_on: str
    effective_from: str
    source: str


class UnitsOut(Schema):
    table_write: str
    index_write: str
    read: str
    source: str


class StorageOut(Schema):
    table: str
    index: str


class EstimateOut(Schema):
    object: str = "cost_estimate"
    currency: str
    inputs: dict
    line_items: list[LineItemOut]
    total_monthly: str
    total_yearly: str
    cost_per_transaction: str
    cost_per_request: str
    requests_per_month: str
    units_per_transaction: UnitsOut
    storage_gb: StorageOut
    comparison: ComparisonOut
    recommendations: list[RecommendationOut]
    prices: PricesOut
