"""Writes of the payments app. Import services from here.

`changes` commits one payment change (and holds what every change shares); `create`, `captures`
(capture and cancel), `refunds` and `resolution` (of `processing` payments) are the operations,
each one read-modify-write run once by `core.retry.transaction_retrying`; `recovery` resolves what
timeouts left `processing`; `idempotency` runs a change once per `Idempotency-Key`."""

from payments.services.captures import payment_cancel, payment_capture
from payments.services.changes import Outcome, Refund, TransactionHook
from payments.services.create import payment_create
from payments.services.recovery import RecoveryReport, payment_recover, payment_recover_all
from payments.services.refunds import refund_create
from payments.services.resolution import payment_resolve

__all__ = [
    "Outcome",
    "RecoveryReport",
    "Refund",
    "TransactionHook",
    "payment_cancel",
    "payment_capture",
    "payment_create",
    "payment_recover",
    "payment_recover_all",
    "payment_resolve",
    "refund_create",
]
