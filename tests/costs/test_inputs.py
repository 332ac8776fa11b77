"""The limits of what can be priced: every input out of range is named, and only it."""

from dataclasses import replace
from decimal import Decimal

import pytest

from costs.inputs import CAPACITY_MODES, CONSISTENCIES, Inputs


def test_the_defaults_can_be_priced():
    assert Inputs().validate() == {}


def test_the_choices_are_the_capacity_modes_and_dynamodbs_read_consistencies():
    assert list(CAPACITY_MODES) == ["on_demand", "provisioned"]
    assert CONSISTENCIES == ("eventual", "strong", "transactional")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"monthly_transactions": -1}, "monthly_transactions"),
        ({"monthly_transactions": 10**12 + 1}, "monthly_transactions"),
        ({"queries_per_transaction": Decimal("10000.1")}, "queries_per_transaction"),
        ({"retention_days": 0}, "retention_days"),
        ({"retention_days": 36_501}, "retention_days"),
        ({"region": "mars-1"}, "region"),
        ({"table_class": "glacier"}, "table_class"),
        ({"capacity_mode": "reserved"}, "capacity_mode"),
        ({"utilisation": Decimal("0.009")}, "utilisation"),
        ({"utilisation": Decimal("1.01")}, "utilisation"),
        ({"item_size_bytes": 0}, "item_size_bytes"),
        ({"item_size_bytes": 400 * 1024 + 1}, "item_size_bytes"),
        ({"items_per_query": 1001}, "items_per_query"),
        ({"read_consistency": "linearizable"}, "read_consistency"),
        ({"gsis": 21}, "gsis"),
        ({"refund_rate": Decimal("1.1")}, "refund_rate"),
        ({"customer_share": Decimal("-0.1")}, "customer_share"),
        ({"api_share": Decimal(2)}, "api_share"),
        ({"backups": 101}, "backups"),
        ({"restores_per_month": -1}, "restores_per_month"),
        ({"replicas": 11}, "replicas"),
    ],
)
def test_an_input_out_of_range_is_named_and_only_it(change, field):
    problems = replace(Inputs(), **change).validate()

    assert list(problems) == [field]


@pytest.mark.parametrize(
    "change",
    [
        {"monthly_transactions": 0},
        {"retention_days": 36_500},
        {"utilisation": Decimal("0.01")},
        {"utilisation": Decimal(1)},
        {"item_size_bytes": 400 * 1024},
        {"gsis": 0},
        {"gsis": 20},
        {"refund_rate": Decimal(1)},
        {"replicas": 10},
    ],
)
def test_the_limits_themselves_can_be_priced(change):
    assert replace(Inputs(), **change).validate() == {}


def test_a_choice_out_of_range_lists_the_choices():
    problems = replace(Inputs(), capacity_mode="reserved", read_consistency="fast").validate()

    assert problems == {
        "capacity_mode": "Must be one of on_demand, provisioned.",
        "read_consistency": "Must be one of eventual, strong, transactional.",
    }
