"""The API objects of API.md, built from stored items. Pages and the API share them, so the
stored idempotent response and the first response are the same bytes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.problems import domain_error_json
from core.wire import rfc3339, to_json
from payments.enums import TransactionStatus
from payments.models import Payment, Transaction


def payment_object(payment: Payment) -> dict[str, Any]:
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


def transaction_object(txn: Transaction) -> dict[str, Any]:
    return {
        "id": txn.txn_id,
        "object": "transaction",
        "type": txn.kind,
        "amount": int(txn.amount),
        "currency": txn.currency,
        "status": txn.status,
        "reason": txn.reason,
        "refund_id": txn.refund_id,
        "settlement_id": txn.settlement_id,
        "created": rfc3339(txn.created),
    }


def payment_response(outcome: Any, *, status: int) -> tuple[int, str]:
    """The (status, body) a payment change answers: the payment, or the 402 problem of a failed one.
    Idempotency records store exactly this, whoever completes them (the request, or recovery)."""
    if outcome.declined is not None:
        return outcome.declined.status, domain_error_json(outcome.declined)
    return status, to_json(payment_object(outcome.payment))


def refund_object(refund: Any) -> dict[str, Any]:
    """A refund (`re_...`), Stripe-like, with the payment as it reads after the refund."""
    payment = refund.payment
    return {
        "id": refund.refund_id,
        "object": "refund",
        "payment_id": payment.payment_id,
        "amount": int(refund.amount),
        "currency": payment.currency,
        "status": TransactionStatus.SUCCEEDED,  # a refund is its ledger entry, which always succeeds
        "reason": refund.reason,
        "created": rfc3339(refund.created),
        "payment": payment_object(payment),
    }


def _currency_summary_object(summary: Any) -> dict[str, Any]:
    return {
        "count": summary.count,
        "amount": sum(summary.amount_by_status.values()),
        "count_by_status": dict(summary.count_by_status),
        "amount_by_status": dict(summary.amount_by_status),
        "captured": summary.captured,
        "refunded": summary.refunded,
        "refund_count": summary.refund_count,
        "net": summary.net,
    }


def summary_object(summary: Any, *, created_gte: datetime, created_lt: datetime) -> dict[str, Any]:
    """Totals per currency and a per-day series (every day of the range, oldest first)."""
    return {
        "object": "payment_summary",
        "created_gte": rfc3339(created_gte),
        "created_lt": rfc3339(created_lt),
        "start_date": summary.start.isoformat(),
        "end_date": summary.end.isoformat(),
        "currencies": {code: _currency_summary_object(item) for code, item in sorted(summary.currencies.items())},
        "days": [
            {
                "date": day.isoformat(),
                "currencies": {code: _currency_summary_object(item) for code, item in sorted(per_currency.items())},
            }
            for day, per_currency in sorted(summary.days.items())
        ],
    }
