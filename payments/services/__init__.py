"""Writes of the payments app. Import services from here."""

from payments.services.payments import (
    Outcome,
    Refund,
    payment_cancel,
    payment_capture,
    payment_create,
    payment_resolve,
    refund_create,
)
from payments.services.recovery import RecoveryReport, payment_recover, payment_recover_all

__all__ = [
    "Outcome",
    "RecoveryReport",
    "Refund",
    "payment_cancel",
    "payment_capture",
    "payment_create",
    "payment_recover",
    "payment_recover_all",
    "payment_resolve",
    "refund_create",
]
