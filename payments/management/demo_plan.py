"""The demo data's plan (`seed_demo`): the merchants, cards, people and, deterministically from a seed,
each day's payments and what becomes of them; the history's rows as another processor's export has
them. Pure: no storage here, so the plan is tested without a database."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from core.cards import card_brand
from payments.enums import PaymentStatus

DEMO_MERCHANTS = [
    ("Acme Outdoor Supply", "acme", "usd", ("usd",)),
    ("Bäckerei Morgenrot", "morgenrot", "eur", ("eur", "eur", "usd")),
    ("Kumo Games", "kumo", "jpy", ("jpy", "jpy", "gbp")),
]
APPROVE_CARDS = [
    "4242424242424242",
    "4242424242424242",
    "4000056655665556",
    "5555555555554444",
    "2223003122003222",
    "378282246310005",
    "6011111111111117",
    "3566002020360505",
    "36227206271667",
    "6200000000000005",
]
DECLINE_CARDS = ["4000000000000002", "4000000000009995"]
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Hedy",
    "Donald",
    "Radia",
    "Tim",
    "Katherine",
    "John",
    "Sophie",
    "Niklaus",
    "Mary",
    "Guido",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Lamarr",
    "Knuth",
    "Perlman",
    "Berners-Lee",
    "Johnson",
    "Backus",
    "Wilson",
    "Wirth",
]
DAYS = 90
RECENT_DAYS = 2  # the last days go through the payment services; the ones before, through the import
CUSTOMERS_PER_MERCHANT = 60
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def demo_refusal(*, debug: bool, endpoint: str | None) -> str | None:
    """Why the demo data may not be loaded here, or None: it needs DEBUG on and a DynamoDB endpoint on
    this machine (no endpoint means AWS itself)."""
    reasons = []
    if not debug:
        reasons.append("DJANGO_DEBUG is off")
    host = urlsplit(endpoint).hostname if endpoint else None
    if host not in LOCAL_HOSTS:
        reasons.append(f"DynamoDB is not local ({endpoint or 'AWS'})")
    if not reasons:
        return None
    return (
        f"seed_demo creates a superuser and users whose password is published, so it runs only on a "
        f"developer's machine, with DJANGO_DEBUG=1 and DYNAMODB_ENDPOINT on 127.0.0.1 or localhost: "
        f"{' and '.join(reasons)}. Nothing was changed; pass --force to load the demo data anyway."
    )


@dataclass(frozen=True)
class PlannedPayment:
    at: datetime
    amount: int
    currency: str
    card: str
    capture: bool
    customer: int | None
    refund: str | None  # None | "full" | "partial"
    refund_after: timedelta
    cancel: bool
    capture_later: bool
    captured_eventually: bool  # an authorization of the history was captured later (else it expired)


def _amount(rng: random.Random, currency: str) -> int:
    major = round(rng.lognormvariate(3.6, 0.9), 2)
    major = min(max(major, 1.0), 4_000.0)
    if currency == "jpy":
        return max(100, int(major * 150) // 10 * 10)
    return int(round(major * 100))


def plan_day(
    rng: random.Random, day: datetime, currencies: tuple[str, ...], count: int, now: datetime
) -> list[PlannedPayment]:
    planned = []
    for _ in range(count):
        at = day + timedelta(seconds=rng.randrange(0, 86_400), milliseconds=rng.randrange(1000))
        if at >= now:
            # Today's not-yet-happened payments move just before now, but never out of their day: a
            # second run counts each day's payments to resume, and just after midnight "an hour ago" is
            # yesterday.
            at = max(day, now - timedelta(seconds=rng.randrange(60, 3600)))
        currency = rng.choice(currencies)
        roll = rng.random()
        recent = now - at < timedelta(days=7)
        planned.append(
            PlannedPayment(
                at=at,
                amount=_amount(rng, currency),
                currency=currency,
                card=rng.choice(DECLINE_CARDS) if roll < 0.07 else rng.choice(APPROVE_CARDS),
                capture=not (0.07 <= roll < 0.13),
                customer=rng.randrange(CUSTOMERS_PER_MERCHANT) if rng.random() < 0.7 else None,
                refund="full" if 0.13 <= roll < 0.17 else "partial" if 0.17 <= roll < 0.20 else None,
                refund_after=timedelta(hours=rng.randrange(1, 72)),
                cancel=0.07 <= roll < 0.09,
                capture_later=0.09 <= roll < 0.11 and not recent,
                captured_eventually=0.09 <= roll < 0.11,
            )
        )
    return sorted(planned, key=lambda p: p.at)


def demo_people(merchant_id: str) -> list[tuple[str, str, str]]:
    """The demo customers of a merchant: (email, name, phone), the same every time."""
    rng = random.Random(merchant_id)
    people = []
    for n in range(CUSTOMERS_PER_MERCHANT):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append(
            (f"{first}.{last}.{n}@example.com".lower(), f"{first} {last}", f"+1555{rng.randrange(10**6, 10**7)}")
        )
    return people


def history_row(slug: str, day: datetime, n: int, item: PlannedPayment, emails: list[str]) -> dict:
    """A planned payment of the history as the other processor's export has it: where it ended up.
    An authorization never captured was canceled (or expired) long ago."""
    amount, captured, refunded = item.amount, 0, 0
    if item.card in DECLINE_CARDS:
        status = PaymentStatus.FAILED
    elif not item.capture and (item.cancel or not item.captured_eventually):
        status = PaymentStatus.CANCELED
    elif item.capture and item.refund == "full":
        status, captured, refunded = PaymentStatus.REFUNDED, amount, amount
    elif item.capture and item.refund == "partial":
        status, captured, refunded = PaymentStatus.PARTIALLY_REFUNDED, amount, max(1, amount // 3)
    else:
        status, captured = PaymentStatus.SUCCEEDED, amount
    return {
        "id": f"demo_{slug}_{day:%Y%m%d}_{n:04d}",
        "created": item.at.isoformat().replace("+00:00", "Z"),
        "amount": amount,
        "currency": item.currency,
        "status": status,
        "amount_captured": captured,
        "amount_refunded": refunded,
        "card_brand": card_brand(item.card),
        "card_last4": item.card[-4:],
        "card_exp_month": 12,
        "card_exp_year": item.at.year + 3,
        "customer_email": emails[item.customer] if item.customer is not None else None,
        "description": f"Order {item.at:%y%m%d}-{item.amount % 9973:04d}",
        "metadata": json.dumps({"source": "demo"}),
    }
