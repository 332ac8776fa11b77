"""Template filters for payment statuses: `{% load payment_tags %}`."""

from __future__ import annotations

from django import template

from payments.forms import STATUS_LABELS

register = template.Library()

STATUS_COLOURS = {
    "processing": "is-link is-light",
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


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)
