from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import template

from core.money import CURRENCIES
from core.money_format import format_count, format_money
from core.theme import NEXT_THEME, theme_for

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """123456, "usd" -> "$1,234.56"; "eur" -> "€1.234,56" (core.money_format). Exact, never float."""
    if amount is None:
        return ""
    return format_money(int(amount), currency)


@register.filter
def count(value: int | None) -> str:
    """12345 -> "12,345"."""
    return "" if value is None else format_count(int(value))


CARD_BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "Amex", "discover": "Discover", "jcb": "JCB",
               "diners": "Diners", "unionpay": "UnionPay"}  # fmt: skip


@register.filter
def card_brand(brand: str | None) -> str:
    return CARD_BRANDS.get(brand or "", (brand or "card").title())


@register.filter
def major(amount: int | None, currency: str) -> str:
    """2500, "usd" -> "25.00" (for form inputs): exact, no thousands separator, no currency."""
    if amount is None:
        return ""
    places = CURRENCIES.get(currency, 2)
    return f"{Decimal(int(amount)).scaleb(-places):.{places}f}"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def get_item(mapping: Mapping[str, Any] | None, key: str) -> Any:
    return mapping.get(key) if mapping else None


THEME_LABELS = {"auto": "Theme: auto", "light": "Theme: light", "dark": "Theme: dark"}
THEME_ICONS = {"auto": "◐", "light": "☀", "dark": "☾"}


@register.simple_tag(takes_context=True)
def paysite_theme(context: template.Context) -> dict[str, str]:
    """{% paysite_theme as theme %}: the person's theme, what the toggle offers next and its label."""
    request = context.get("request")
    current = theme_for(request) if request is not None else "auto"
    return {
        "current": current,
        "next": NEXT_THEME[current],
        "label": THEME_LABELS[current],
        "icon": THEME_ICONS[current],
    }
