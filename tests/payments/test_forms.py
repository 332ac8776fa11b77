"""Page forms take ASCII digits only: Python's `Decimal` and `\\d` also take other scripts' digits."""

from __future__ import annotations

import pytest

from payments.forms import PaymentFilterForm, RefundForm

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        ("25", 2500),
        ("25.00", 2500),
        (" 25.5 ", 2550),
        (".5", 50),
        ("２５.００", None),  # full-width digits
        ("٢٥", None),  # Arabic-Indic digits
        ("1e3", None),
        ("1_000", None),
        ("-5", None),
        ("NaN", None),
        ("25.00.1", None),
    ],
)
def test_amounts_are_ascii_decimals(amount, minor):
    form = RefundForm({"amount": amount}, currency="usd")

    assert form.is_valid() is (minor is not None)
    if minor is not None:
        assert form.cleaned_data["amount"] == minor


@pytest.mark.parametrize(
    ("q", "searched"),
    [("4242", "4242"), ("４２４２", "４２４２"), ("Order 261129-5381", "Order 261129-5381"), ("٤٢٤٢", None)],
)
def test_free_text_goes_to_the_search_index_and_nothing_searchable_is_an_error(q, searched):
    form = PaymentFilterForm({"q": q})

    assert form.is_valid() is (searched is not None)
    if searched:
        assert form.search_query == searched and form.selector_filters()["card_last4"] is None


@pytest.mark.parametrize(
    ("key", "valid"), [("a" * 32, True), ("a" * 32 + "!", False), ("a" * 15, False), ("ａ" * 32, False)]
)
def test_a_refund_form_key_is_what_the_page_made(key, valid):
    assert RefundForm({"idempotency_key": key}, currency="usd").is_valid() is valid
