"""Helpers for the disputes tests: a payment made with the sandbox dispute card, and disputes opened
through the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.ids import now
from disputes import services
from sandbox.cards import DISPUTE_CARD
from tests.factories import TEST_ACTOR, card, make_payment

DAY = timedelta(days=1)


def disputed_payment(merchant_id: str, **kwargs: Any):
    """A payment with the dispute card: the tests' immediate task backend opens its dispute at once."""
    return make_payment(merchant_id, card=card(DISPUTE_CARD), **kwargs)


def open_dispute(merchant_id: str, *, amount: int = 2500, currency: str = "usd", **kwargs: Any):
    payment = make_payment(merchant_id, amount=amount, currency=currency)
    dispute = services.dispute_open(merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, **kwargs)
    return payment, dispute


def later(**delta: Any):
    return now() + timedelta(**delta)
