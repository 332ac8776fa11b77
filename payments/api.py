"""The payments router: thin operations over selectors and services."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from payments import selectors
from payments.representations import payment_object, rfc3339, transaction_object
from payments.schemas import MerchantOut, PaymentDetailOut, Problem

router = Router(tags=["payments"])


@router.get("/merchant", response={200: MerchantOut, 401: Problem}, tags=["merchant"])
def merchant_retrieve(request: HttpRequest):
    merchant = selectors.merchant_get(merchant_id=request.auth.merchant_id)
    return {
        "id": merchant.merchant_id,
        "object": "merchant",
        "name": merchant.name,
        "default_currency": merchant.default_currency,
        "created": rfc3339(merchant.created),
    }


@router.get("/payments/{payment_id}", response={200: PaymentDetailOut, 401: Problem, 404: Problem})
def payment_retrieve(request: HttpRequest, payment_id: str):
    payment = selectors.payment_get(merchant_id=request.auth.merchant_id, payment_id=payment_id)
    ledger = selectors.transaction_list_for_payment(payment_id=payment.payment_id)
    return {**payment_object(payment), "transactions": [transaction_object(t) for t in ledger]}
