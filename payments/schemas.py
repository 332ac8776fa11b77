from __future__ import annotations

from typing import Any

from ninja import Schema


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    code: str
    param: str | None = None


class MerchantOut(Schema):
    id: str
    object: str = "merchant"
    name: str
    default_currency: str
    created: str


class CardOut(Schema):
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str


class PaymentOut(Schema):
    id: str
    object: str = "payment"
    merchant_id: str
    amount: int
    currency: str
    status: str
    amount_captured: int
    amount_refunded: int
    customer_id: str | None
    description: str | None
    metadata: dict[str, Any]
    card: CardOut
    failure_code: str | None
    settlement_id: str | None = None
    created: str
    updated: str


class TransactionOut(Schema):
    id: str
    object: str = "transaction"
    type: str
    amount: int
    currency: str
    status: str
    reason: str | None
    refund_id: str | None
    settlement_id: str | None
    created: str


class PaymentDetailOut(PaymentOut):
    transactions: list[TransactionOut]
