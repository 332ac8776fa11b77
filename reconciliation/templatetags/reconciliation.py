"""Template filters of the reconciliation pages."""

from __future__ import annotations

from django import template

from reconciliation.enums import Kind

register = template.Library()


@register.filter
def kind_label(kind: str) -> str:
    """`{{ d.kind|kind_label }}`: "amount_mismatch" -> "Amount differs" (an unknown value as it is)."""
    try:
        return Kind(kind).label
    except ValueError:
        return kind
