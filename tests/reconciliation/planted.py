"""A generated settlement file with a known answer: mostly good lines, plus planted discrepancies
of every kind, and the exact discrepancies and totals it must produce."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.ids import new_id
from payments.enums import PaymentStatus
from payments.errors import CardDeclined
from payments.models import CardAttribute, Payment
from payments.services import payment_cancel, refund_create
from reconciliation.enums import Kind, LineStatus, Outcome
from tests.factories import TEST_ACTOR, card, make_merchant, make_payment
from tests.reconciliation.files import csv_bytes, fee_of, line_for, major


def bulk_succeeded_payments(
    merchant_id: str, *, count: int, currency: str, start: datetime, seed: int
) -> list[Payment]:
    """Captured card payments as `payment_create` stores them, written 25 a call. Thousands of
    payments through the service would take minutes; the planted discrepancies that need a real
    life cycle (declined, canceled, refunded, another merchant) go through the services."""
    rng = random.Random(seed)
    payments = []
    with Payment.batch_write() as batch:
        for index in range(count):
            at = start + timedelta(seconds=index * 37, milliseconds=rng.randrange(1000))
            amount = rng.randrange(100, 500_000) if currency != "jpy" else rng.randrange(100, 50_000)
            payment = Payment(
                payment_id=new_id("pay", at),
                merchant_id=merchant_id,
                merchant_status=f"{merchant_id}#{PaymentStatus.SUCCEEDED}",
                status=PaymentStatus.SUCCEEDED,
                amount=amount,
                currency=currency,
                amount_captured=amount,
                amount_refunded=0,
                metadata={},
                card=CardAttribute(brand="visa", last4="4242", exp_month=12, exp_year=2034, fingerprint="fp_test"),
                created=at,
                updated=at,
            )
            batch.save(payment)
            payments.append(payment)
    return payments


@dataclass
class Planted:
    merchant_id: str
    content: bytes
    discrepancies: set[tuple[str, int | None, str | None]]  # (kind, line, payment_id)
    totals: dict[str, dict[str, int]]
    counts: dict[str, int]
    matched_payment_ids: list[str]
    rows: int
    period: tuple[str, str]
    notes: dict[str, object] = field(default_factory=dict)


def planted_file(*, lines: int, seed: int = 7) -> Planted:
    rng = random.Random(seed)
    merchant = make_merchant("Planted Goods")
    other = make_merchant("Someone Else")
    mid = merchant.merchant_id
    first_day = (datetime.now(UTC) - timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)
    day = lambda n, h=12: first_day + timedelta(days=n, hours=h)  # noqa: E731

    # Payments with a real life cycle, through the services.
    refunded = make_payment(mid, amount=4200, now=day(1))
    refunded = refund_create(merchant_id=mid, payment_id=refunded.payment_id, actor=TEST_ACTOR, now=day(1, 13)).payment
    partially = make_payment(mid, amount=9000, now=day(1, 14))
    partially = refund_create(
        merchant_id=mid, payment_id=partially.payment_id, actor=TEST_ACTOR, amount=1000, now=day(1, 15)
    ).payment
    try:
        make_payment(mid, amount=1500, card=card("4000000000000002"), now=day(2))
        raise AssertionError("the sandbox should decline this card")
    except CardDeclined as declined:
        failed_id = declined.extensions["payment_id"]
    canceled = make_payment(mid, amount=2700, capture=False, now=day(2, 13))
    canceled = payment_cancel(merchant_id=mid, payment_id=canceled.payment_id, actor=TEST_ACTOR, now=day(2, 14))
    yen = make_payment(mid, amount=2500, currency="jpy", now=day(3))
    foreign = [make_payment(other.merchant_id, amount=3100 + i, now=day(3, 14)) for i in range(2)]
    not_captured = make_payment(mid, amount=1200, capture=False, now=day(3, 15))  # never in the file, never missing

    planted_rows = 7 + 5 + 3 + 3 + 4 + 4 + 8
    special_matched = 3  # refunded, partially refunded (settled line), yen
    bulk_count = lines - special_matched + 6  # six of them are left out of the file: missing_in_file
    eur_count = max(1, bulk_count // 20)
    usd = bulk_succeeded_payments(mid, count=bulk_count - eur_count, currency="usd", start=day(0, 1), seed=seed)
    eur = bulk_succeeded_payments(mid, count=eur_count, currency="eur", start=day(0, 2), seed=seed + 1)
    bulk = usd + eur
    rng.shuffle(bulk)
    missing_in_file, bulk = bulk[:6], bulk[6:]

    rows: list[dict] = []
    expected_kinds: list[tuple[str, str | None]] = []  # per row: (outcome, payment_id)
    for payment in bulk:
        rows.append(line_for(payment))
        expected_kinds.append((Outcome.MATCHED, payment.payment_id))
    rows.append(line_for(refunded, status=LineStatus.REFUNDED))
    expected_kinds.append((Outcome.MATCHED, refunded.payment_id))
    rows.append(line_for(partially, status=LineStatus.SETTLED))
    expected_kinds.append((Outcome.MATCHED, partially.payment_id))
    rows.append(line_for(yen))
    expected_kinds.append((Outcome.MATCHED, yen.payment_id))

    def plant(index: int, row: dict, kind: str, payment_id: str | None) -> None:
        rows[index] = row
        expected_kinds[index] = (kind, payment_id)

    # Overwrite good USD lines with planted ones, at spread-out positions (several chunks).
    by_id = {p.payment_id: p for p in bulk}
    usd_lines = [i for i in range(10, len(rows) - 10) if rows[i]["currency"] == "USD"]
    chosen = rng.sample(usd_lines, planted_rows)
    untouched = set(range(len(rows))) - set(chosen)
    positions = iter(chosen)

    def victim_position() -> tuple[int, Payment]:
        index = next(positions)
        return index, by_id[expected_kinds[index][1]]

    # missing_in_platform: unknown ids and another merchant's payments (7)
    for _ in range(5):
        index, payment = victim_position()
        ghost = new_id("pay", day(2))
        plant(index, line_for(payment, payment_id=ghost), Kind.MISSING_IN_PLATFORM, ghost)
        missing_in_file.append(payment)  # its own line is gone now
    for foreign_payment in foreign:
        index, payment = victim_position()
        plant(index, line_for(foreign_payment), Kind.MISSING_IN_PLATFORM, foreign_payment.payment_id)
        missing_in_file.append(payment)
    # amount_mismatch (5): one more dollar, fee and net consistent
    for _ in range(5):
        index, payment = victim_position()
        amount = int(payment.amount_captured) + 100
        fee = fee_of(amount)
        plant(
            index,
            line_for(payment, fee=fee, amount=major(amount, "usd"), net=major(amount - fee, "usd")),
            Kind.AMOUNT_MISMATCH,
            payment.payment_id,
        )
    # currency_mismatch (3)
    for _ in range(3):
        index, payment = victim_position()
        plant(index, line_for(payment, currency="EUR"), Kind.CURRENCY_MISMATCH, payment.payment_id)
    # status_mismatch (3): settled for failed and canceled, refunded for a succeeded payment
    index, payment = victim_position()
    plant(
        index,
        {**line_for(payment), "payment_id": failed_id, "amount": "15.00", "fee": "0.73", "net": "14.27"},
        Kind.STATUS_MISMATCH,
        failed_id,
    )
    missing_in_file.append(payment)
    index, payment = victim_position()
    plant(index, line_for(canceled, fee=0, amount="27.00", net="27.00"), Kind.STATUS_MISMATCH, canceled.payment_id)
    missing_in_file.append(payment)
    index, payment = victim_position()
    plant(index, line_for(payment, status=LineStatus.REFUNDED), Kind.STATUS_MISMATCH, payment.payment_id)
    # fee_mismatch (4): net one cent off
    for _ in range(4):
        index, payment = victim_position()
        amount = int(payment.amount_captured)
        fee = fee_of(amount)
        plant(index, line_for(payment, net=major(amount - fee - 1, "usd")), Kind.FEE_MISMATCH, payment.payment_id)
    # duplicate_line (4): copies of earlier matched lines; their own victims become missing
    for n in range(4):
        index, payment = victim_position()
        reach = 250 if n == 0 else 1  # one duplicate far from its first line (another chunk)
        earlier = next(
            i
            for i in range(max(0, index - reach), -1, -1)
            if i in untouched and expected_kinds[i][0] == Outcome.MATCHED
        )
        plant(index, dict(rows[earlier]), Kind.DUPLICATE_LINE, expected_kinds[earlier][1])
        missing_in_file.append(payment)
    # invalid_row (8)
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    invalid = [
        {"amount": "-12.00"},
        {"amount": "123456789012.00"},
        {"amount": "12.345"},
        {"currency": "XYZ"},
        {"settled_at": future},
        {"payment_id": '=HYPERLINK("http://evil.example","click")'},
        {"payment_id": ""},
        {"status": "pending"},
    ]
    for override in invalid:
        index, payment = victim_position()
        row = line_for(payment, **override)
        plant(index, row, Kind.INVALID_ROW, row["payment_id"] or None)
        if "payment_id" in override:  # an invalid row that still names the payment keeps it from missing_in_file
            missing_in_file.append(payment)

    assert len(rows) == lines, (len(rows), lines)
    discrepancies: set[tuple[str, int | None, str | None]] = set()
    counts: Counter[str] = Counter()
    totals: dict[str, dict[str, int]] = {}
    matched = []
    for number, (row, (kind, payment_id)) in enumerate(zip(rows, expected_kinds, strict=True), start=2):
        counts[kind] += 1
        if kind == Outcome.MATCHED:
            matched.append(payment_id)
        else:
            discrepancies.add((kind, number, payment_id))
        if kind != Kind.INVALID_ROW:
            currency = row["currency"].lower()
            places = 0 if currency == "jpy" else 2
            total = totals.setdefault(currency, {"gross": 0, "fees": 0, "net": 0})
            for key, column in (("gross", "amount"), ("fees", "fee"), ("net", "net")):
                total[key] += int(Decimal(row[column]) * 10**places)
    for payment in missing_in_file:
        discrepancies.add((Kind.MISSING_IN_FILE, None, payment.payment_id))
        counts[Kind.MISSING_IN_FILE] += 1
    dates = sorted(
        row["settled_at"] for row, (kind, _) in zip(rows, expected_kinds, strict=True) if kind != Kind.INVALID_ROW
    )
    return Planted(
        merchant_id=mid,
        content=csv_bytes(rows),
        discrepancies=discrepancies,
        totals=totals,
        counts={k: counts.get(k, 0) for k in Outcome},
        matched_payment_ids=matched,
        rows=lines,
        period=(dates[0], dates[-1]),
        notes={"not_captured": not_captured.payment_id},
    )
