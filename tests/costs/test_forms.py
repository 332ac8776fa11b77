"""One parser for the page, the API and the command: raw strings in, `Inputs` or named errors out."""

from decimal import Decimal

import pytest

from costs.forms import parse
from costs.inputs import Inputs


def test_missing_fields_take_the_defaults_and_given_ones_are_typed():
    inputs, form = parse({"monthly_transactions": "2000", "refund_rate": "0.25", "webhook_endpoints": "1.5"})

    assert not form.errors
    assert inputs == Inputs(monthly_transactions=2000, refund_rate=Decimal("0.25"), webhook_endpoints=Decimal("1.5"))


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"monthly_transactions": "-1"}, "monthly_transactions"),
        ({"retention_days": "0"}, "retention_days"),
        ({"region": "mars-1"}, "region"),
        ({"utilisation": "1.5"}, "utilisation"),
        ({"queries_per_transaction": "many"}, "queries_per_transaction"),
        ({"gsis": "21"}, "gsis"),
        ({"webhook_endpoints": "17"}, "webhook_endpoints"),
        ({"webhook_endpoints": "-1"}, "webhook_endpoints"),
    ],
)
def test_bad_inputs_name_the_field(raw, param):
    inputs, form = parse(raw)

    assert inputs is None
    assert param in form.errors
