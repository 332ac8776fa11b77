"""Template filters for payments and their ledger: `{% load payment_tags %}`. Templates ask these
instead of comparing statuses with retyped strings."""

from __future__ import annotations

from typing import Any

from django import template

from payments.enums import PaymentStatus, TransactionKind, TransactionStatus
from payments.forms import STATUS_LABELS

register = template.Library()

STATUS_COLOURS: dict[str, str] = {
    PaymentStatus.PROCESSING: "is-link is-light",
    PaymentStatus.SUCCEEDED: "is-success",
    PaymentStatus.REQUIRES_CAPTURE: "is-info",
    PaymentStatus.FAILED: "is-danger",
    PaymentStatus.CANCELED: "is-dark",
    PaymentStatus.REFUNDED: "is-warning",
    PaymentStatus.PARTIALLY_REFUNDED: "is-warning is-light",
}


@register.filter
def status_class(status: str) -> str:
    return STATUS_COLOURS.get(status, "is-light")


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@register.filter
def awaiting_processor(payment: Any) -> bool:
    """The payment is `processing`: its outcome is being asked of the processor."""
    return bool(payment.status == PaymentStatus.PROCESSING)


@register.filter
def ledger_entry_failed(entry: Any) -> bool:
    return bool(entry.status != TransactionStatus.SUCCEEDED)


@register.filter
def ledger_entry_class(entry: Any) -> str:
    if entry.status == TransactionStatus.FAILED:
        return "is-failed"
    if entry.kind == TransactionKind.REFUND:
        return "is-refund"
    return "is-succeeded"
