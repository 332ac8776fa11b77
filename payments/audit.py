"""How the audit trail records a payment: a snapshot shape of its own.

The API's payment object (`payments.representations.payment_object`) may grow or change with the API;
audit events are sealed and kept for a year, so what they record must not follow it. The snapshot
names every field explicitly; today it has the same fields as the API object had when the trail
began."""

from __future__ import annotations

from typing import Any

from core.wire import rfc3339
from payments.models import Payment


def payment_snapshot(payment: Payment) -> dict[str, Any]:
    """The payment's state as an audit event's `before`/`after` records it."""
    card = payment.card
    return {
        "id": payment.payment_id,
        "object": "payment",
        "merchant_id": payment.merchant_id,
        "amount": int(payment.amount),
        "currency": payment.currency,
        "status": payment.status,
        "amount_captured": int(payment.amount_captured or 0),
        "amount_refunded": int(payment.amount_refunded or 0),
        "customer_id": payment.customer_id,
        "description": payment.description,
        "metadata": payment.metadata or {},
        "card": {
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": int(card.exp_month),
            "exp_year": int(card.exp_year),
            "fingerprint": card.fingerprint,
        },
        "failure_code": payment.failure_code,
        "settlement_id": payment.settlement_id,
        "created": rfc3339(payment.created),
        "updated": rfc3339(payment.updated),
    }
