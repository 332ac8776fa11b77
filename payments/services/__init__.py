"""Writes of the payments app. Import services from here."""

from payments.services.api_keys import CreatedKey, api_key_create, api_key_revoke, hash_secret
from payments.services.customers import customer_create, customer_field
from payments.services.merchants import merchant_create
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
    "CreatedKey",
    "Outcome",
    "RecoveryReport",
    "Refund",
    "api_key_create",
    "api_key_revoke",
    "customer_create",
    "customer_field",
    "hash_secret",
    "merchant_create",
    "payment_cancel",
    "payment_capture",
    "payment_create",
    "payment_recover",
    "payment_recover_all",
    "payment_resolve",
    "refund_create",
]
