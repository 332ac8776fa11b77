from __future__ import annotations

from decimal import Decimal

from django import template

from payments.currencies import CURRENCIES

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """2500, "usd" -> "25.00 USD". Exact: Decimal from integer minor units, never float."""
    if amount is None:
        return ""
    places = CURRENCIES.get(currency, 2)
    value = Decimal(int(amount)).scaleb(-places)
    return f"{value:,.{places}f} {currency.upper()}"


STATUS_COLOURS = {
    "succeeded": "is-success",
    "requires_capture": "is-info",
    "failed": "is-danger",
    "canceled": "is-dark",
    "refunded": "is-warning",
    "partially_refunded": "is-warning is-light",
}


@register.filter
def status_class(status: str) -> str:
    return STATUS_COLOURS.get(status, "is-light")
