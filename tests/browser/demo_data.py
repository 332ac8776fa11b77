"""Realistic data for browser tests and screenshots: payments spread over the last days, made through
the services with `now=` in the past (so the summaries, ledger and audit trail are all real)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from customers.services import customer_create
from payments import services
from payments.errors import CardDeclined
from tests.factories import TEST_ACTOR, card

CARDS = ["4242424242424242"] * 6 + ["5555555555554444"] * 3 + ["378282246310005", "4000000000000002"]
DESCRIPTIONS = ["Order #{n}", "Subscription renewal", "Gift card", "Order #{n} (express)", None, "Workshop ticket"]
PEOPLE = [("Ada Lovelace", "ada@example.com"), ("Grace Hopper", "grace@example.com"), ("Alan Turing", "alan@example.com"),
          ("Katherine Johnson", "katherine@example.com"), ("Edsger Dijkstra", "edsger@example.com")]  # fmt: skip


def make_realistic_payments(merchant_id: str, *, count: int = 300, days: int = 30, seed: int = 7) -> list:
    """`count` payments over `days` days ending now: mostly captured, some held for capture, some
    declined, some refunded in full or in part, a few for named customers."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    customers = [
        customer_create(
            merchant_id=merchant_id, actor=TEST_ACTOR, email=email, name=name, now=now - timedelta(days=days + 1)
        )
        for name, email in PEOPLE
    ]
    made = []
    times = sorted(now - timedelta(seconds=rng.randint(60, days * 86400 - 60)) for _ in range(count))
    for n, at in enumerate(times):
        number = rng.choice(CARDS)
        amount = int(rng.lognormvariate(8.2, 0.8)) + 100
        description = rng.choice(DESCRIPTIONS)
        try:
            payment = services.payment_create(
                merchant_id=merchant_id,
                actor=TEST_ACTOR,
                amount=min(amount, 2_000_00),
                currency="usd",
                card=card(number, exp_year=2031, cvc="1234" if number.startswith("37") else "123"),
                capture=rng.random() > 0.08,
                customer_id=rng.choice(customers).customer_id if rng.random() < 0.3 else None,
                description=description.format(n=1000 + n) if description else None,
                metadata={"order": f"A-{1000 + n}"} if description and "Order" in description else {},
                now=at,
            )
        except CardDeclined:
            continue
        if payment.status == "succeeded" and rng.random() < 0.1:
            later = min(at + timedelta(hours=rng.randint(1, 48)), now)
            partial = rng.random() < 0.5
            services.refund_create(
                merchant_id=merchant_id,
                payment_id=payment.payment_id,
                actor=TEST_ACTOR,
                amount=int(payment.amount) // 2 if partial else None,
                reason="requested_by_customer",
                now=later,
            )
        made.append(payment)
    return made
