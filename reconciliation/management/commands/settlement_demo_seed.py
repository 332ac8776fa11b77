"""Settle part of each demo merchant's history (`seed_demo` runs it): one small settlement file per
merchant, over the first history days that hold about `--lines` captured payments, with a few
planted discrepancies, uploaded and processed through the same services as an upload. So the
Payouts page, the balance's available side and the reconciliation pages have data on `make run`.

Idempotent: the file is made from payments that never change (the imported history) in a fixed
order with fixed choices, so a second run makes the same bytes, which is the same settlement (by
its SHA-256): a completed one is left alone, an unfinished one resumes.

    manage.py settlement_demo_seed --merchant MER_ID [--merchant MER_ID ...] [--lines 300] [--since DAY]
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand
from ulid import ULID

from core.actor import Actor
from payments.enums import PaymentStatus
from payments.selectors import payment_iter_captured_for_merchant
from reconciliation.csvfile import REQUIRED_COLUMNS, major_units
from reconciliation.enums import LineStatus, SettlementStatus
from reconciliation.services import settlement_create, settlement_process

SEED_ACTOR = Actor(type="system", id="seed_demo")
WINDOW_DAYS = 30  # where the history's first captured payments are looked for


def _fee(amount: int) -> int:
    """2.9% + 30 minor units."""
    return amount * 29 // 1000 + 30


def _row(payment_id: str, amount: int, currency: str, status: str, day: str, *, net_off: int = 0) -> dict:
    fee = _fee(amount)
    return {
        "payment_id": payment_id,
        "amount": major_units(amount, currency),
        "currency": currency.upper(),
        "fee": major_units(fee, currency),
        "net": major_units(amount - fee - net_off, currency),
        "status": status,
        "settled_at": day,
    }


def demo_settlement_file(merchant_id: str, *, lines: int, earliest: datetime) -> bytes | None:
    """The merchant's first `lines` or so captured payments from `earliest`, whole days of them, as
    a settlement file with planted problems: an amount and a fee mismatch, a duplicate line, a line
    for a payment that does not exist, and one payment left out (missing from the file)."""
    payments = sorted(
        (
            p
            for _, p in payment_iter_captured_for_merchant(
                merchant_id=merchant_id, created_gte=earliest, created_lt=earliest + timedelta(days=WINDOW_DAYS)
            )
        ),
        key=lambda p: p.payment_id,
    )
    if len(payments) < 20:
        return None
    last_day = f"{payments[min(lines, len(payments)) - 1].created:%Y-%m-%d}"
    chosen = [p for p in payments if f"{p.created:%Y-%m-%d}" <= last_day]
    rng = random.Random(merchant_id)
    amount_at, fee_at, duplicate_at, left_out = rng.sample(range(len(chosen)), 4)
    rows = []
    for index, p in enumerate(chosen):
        if index == left_out:
            continue
        captured, day = int(p.amount_captured), f"{p.created:%Y-%m-%d}"
        status = LineStatus.REFUNDED if p.status == PaymentStatus.REFUNDED else LineStatus.SETTLED
        amount = captured + 100 if index == amount_at else captured
        rows.append(_row(p.payment_id, amount, p.currency, status, day, net_off=1 if index == fee_at else 0))
        if index == duplicate_at:
            rows.append(dict(rows[-1]))
    unknown = chosen[len(chosen) // 2]
    millis = int(unknown.created.timestamp() * 1000)
    rows.insert(
        len(rows) // 2,
        _row(
            f"pay_{ULID.from_bytes(millis.to_bytes(6, 'big') + b'demo-gone!')}",
            1500,
            unknown.currency,
            LineStatus.SETTLED,
            f"{unknown.created:%Y-%m-%d}",
        ),
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REQUIRED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


class Command(BaseCommand):
    help = "Upload and process one small demo settlement file per merchant over its oldest captured payments."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", action="append", required=True, help="merchant id (mer_...); repeatable")
        parser.add_argument("--lines", type=int, default=200, help="about how many payments to settle each")
        parser.add_argument("--since", help="YYYY-MM-DD: the first day of the history (default: 90 days ago)")

    def handle(self, *args, merchant: list[str], lines: int, since: str | None = None, **options):
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        earliest = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else today - timedelta(days=90)
        for merchant_id in merchant:
            content = demo_settlement_file(merchant_id, lines=lines, earliest=earliest)
            if content is None:
                self.stderr.write(f"{merchant_id}: too few captured payments to settle; skipped.")
                continue
            intake = settlement_create(
                merchant_id=merchant_id,
                actor=SEED_ACTOR,
                file=io.BytesIO(content),
                filename="demo-settlement.csv",
                enqueue=False,
            )
            settlement = intake.settlement
            if settlement.status != SettlementStatus.COMPLETED:
                settlement = settlement_process(
                    merchant_id=merchant_id, settlement_id=settlement.settlement_id, actor=SEED_ACTOR
                )
            self.stdout.write(f"{merchant_id}: settlement {settlement.settlement_id} {settlement.status}")
