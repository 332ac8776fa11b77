"""Money as merchants read it: symbol, separators and decimals by currency, exact from minor units."""

from __future__ import annotations

import pytest

from core.money import CURRENCIES
from core.money_format import STYLES, format_count, format_money, major_units
from core.templatetags.paysite import count, money

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123456, "usd", "$1,234.56"),
        (123456, "eur", "€1.234,56"),
        (500000, "jpy", "¥500,000"),
        (5000, "jpy", "¥5,000"),
        (7, "eur", "€0,07"),
        (0, "usd", "$0.00"),
        (123456789, "gbp", "£1,234,567.89"),
        (1500, "kwd", f"KWD{NBSP}1.500"),
        (123456, "sek", f"1{NBSP}234,56{NBSP}kr"),
        (123456, "chf", f"CHF{NBSP}1'234.56"),
        (-250, "usd", "-$2.50"),
        (123456, "xyz", f"1,234.56{NBSP}XYZ"),
    ],
)
def test_format_money_by_currency(amount, currency, shown):
    assert format_money(amount, currency) == shown
    assert money(amount, currency) == shown


def test_every_accepted_currency_has_a_style():
    assert set(STYLES) == set(CURRENCIES)


def test_major_units_are_plain_decimals_for_csv_cells():
    assert major_units(123456, "usd") == "1234.56"
    assert major_units(5000, "jpy") == "5000"
    assert major_units(1500, "kwd") == "1.500"


def test_counts_get_thousands_separators():
    assert format_count(1234567) == "1,234,567"
    assert count(999) == "999"
    assert count(None) == ""
    assert money(None, "usd") == ""
