"""What stays stored at steady state, and the free tier and replicas in its price."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.test import override_settings

from costs.inputs import Inputs
from costs.prices import price_table
from costs.storage import DAYS_PER_MONTH, GB, storage_cost, storage_of

SEED = Inputs(monthly_transactions=1_000_000, queries_per_transaction=Decimal("5.2"), retention_days=90)
PER_DAY = Decimal(1_000_000) * 12 / 365


def _cost(inputs: Inputs):
    table = price_table()
    return storage_cost(
        storage_of(inputs), inputs, rates=table.region(inputs.region).classes[inputs.table_class], table=table
    )


def _micro(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"))


def _days(inputs: Inputs) -> dict[str, int]:
    return {item.table: item.days for item in storage_of(inputs).items}


def test_a_payments_items_stay_for_the_retention_and_its_audit_event_for_the_audit_retention():
    storage = storage_of(SEED)

    assert storage.per_day == Decimal(1_000_000) / DAYS_PER_MONTH
    assert storage.per_day.quantize(Decimal("0.01")) == PER_DAY.quantize(Decimal("0.01"))
    assert _days(SEED) == {"payments": 90, "transactions": 90, "audit_events": 365, "events": 30}
    # payment 394 B, ledger 206 B and 200 B for 90 days, the audit event 908 B for 365, the event of the
    # Events API 760 B for 30 (its TTL), each + 100 B
    expected = storage.per_day * (90 * (494 + 306 + 300) + 365 * 1008 + 30 * 860) / GB
    assert storage.table_gb == expected
    assert storage.table_gb.quantize(Decimal("0.0001")) == Decimal("15.0865")


@override_settings(AUDIT_RETENTION_DAYS=400, WEBHOOK_RETENTION_DAYS=7)
def test_the_audit_and_webhook_retentions_come_from_settings_and_idempotency_keys_stay_a_day():
    days = _days(replace(SEED, webhook_endpoints=Decimal(1), api_share=Decimal(1)))

    assert (days["audit_events"], days["webhook_deliveries"], days["idempotency"]) == (400, 7, 1)


def test_audit_events_stay_at_least_as_long_as_the_payments():
    assert _days(replace(SEED, retention_days=900))["audit_events"] == 900


def test_ttl_deletes_are_free_so_retention_only_changes_storage():
    short, long = storage_of(SEED), storage_of(replace(SEED, retention_days=900))

    assert short.table_gb < long.table_gb and short.index_gb < long.index_gb


def test_without_payment_indexes_only_the_audit_event_is_stored_in_an_index():
    items = storage_of(replace(SEED, gsis=0)).items

    assert {item.table: item.index_bytes for item in items if item.index_bytes} == {"audit_events": 1008}


def test_the_free_25_gb_cover_table_data_first_then_index_data():
    storage, cost = storage_of(SEED), _cost(SEED)

    assert cost.free_gb == 25 and cost.table == 0
    assert cost.index == (storage.index_gb - (25 - storage.table_gb)) * Decimal("0.25")


def test_standard_ia_has_no_free_storage():
    inputs = replace(SEED, table_class="standard_ia")
    storage, cost = storage_of(inputs), _cost(inputs)

    assert cost.free_gb == 0
    assert (cost.table, cost.index) == (storage.table_gb * Decimal("0.10"), storage.index_gb * Decimal("0.10"))


@pytest.mark.parametrize("replicas", [1, 3])
def test_every_replica_region_stores_everything_at_full_price(replicas):
    inputs = replace(SEED, replicas=replicas)
    storage = storage_of(inputs)
    single, replicated = _cost(SEED), _cost(inputs)

    assert _micro(replicated.table - single.table) == _micro(storage.table_gb * replicas * Decimal("0.25"))
    assert _micro(replicated.index - single.index) == _micro(storage.index_gb * replicas * Decimal("0.25"))
