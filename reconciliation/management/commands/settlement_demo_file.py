"""Print a settlement CSV for a merchant's recent captured payments, with a few planted problems, so
the reconciliation pages have something real to show: `manage.py settlement_demo_file --merchant acme`."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError

from core.ids import new_id
from merchants.selectors import merchant_list
from payments.enums import PaymentStatus
from payments.selectors import CAPTURED_STATUSES, payment_iter_for_merchant
from reconciliation.csvfile import REQUIRED_COLUMNS, major_units
from reconciliation.enums import Kind, LineStatus


def _fee(amount: int, currency: str) -> int:
    """2.9% + 30 minor units."""
    return amount * 29 // 1000 + 30


class Command(BaseCommand):
    help = "Print a settlement CSV for a merchant's captured payments of the last days, with planted discrepancies."

    def add_arguments(self, parser):
        parser.add_argument(
            "--merchant", required=True, help="merchant id (mer_...) or the start of its name, e.g. acme"
        )
        parser.add_argument("--days", type=int, default=3, help="whole UTC days before today to include (default 3)")
        parser.add_argument("--seed", type=int, default=2026)

    def _merchant_id(self, given: str) -> str:
        if given.startswith("mer_"):
            return given
        matches = [m for m in merchant_list() if m.name.lower().startswith(given.lower())]
        if len(matches) != 1:
            raise CommandError(f"{len(matches)} merchants' names start with {given!r}; give the merchant id.")
        return matches[0].merchant_id

    def handle(self, *args, merchant: str, days: int, seed: int, **options):
        merchant_id = self._merchant_id(merchant)
        rng = random.Random(seed)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        payments = [
            p
            for p in payment_iter_for_merchant(
                merchant_id=merchant_id,
                starting_after=None,
                status=None,
                customer_id=None,
                created_gte=today - timedelta(days=days),
                created_lt=today,
                newest_first=False,
            )
            if not p.settlement_id
        ]
        captured = [p for p in payments if p.status in CAPTURED_STATUSES]
        if len(captured) < 10:
            raise CommandError(f"Only {len(captured)} captured payments in the last {days} days; try --days 10.")
        failed = [p for p in payments if p.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED)]

        rows = []
        for p in captured:
            amount = int(p.amount_captured)
            fee = _fee(amount, p.currency)
            rows.append(
                {
                    "payment_id": p.payment_id,
                    "amount": major_units(amount, p.currency),
                    "currency": p.currency.upper(),
                    "fee": major_units(fee, p.currency),
                    "net": major_units(amount - fee, p.currency),
                    "status": LineStatus.REFUNDED if p.status == PaymentStatus.REFUNDED else LineStatus.SETTLED,
                    "settled_at": f"{p.created:%Y-%m-%d}",
                }
            )
        picks = rng.sample(range(len(rows)), 6)
        amount_row, fee_row, currency_row, dup_row, missing_row, invalid_row = picks
        row = rows[amount_row]
        bumped = int(captured[amount_row].amount_captured) + 100
        fee = _fee(bumped, captured[amount_row].currency)
        row.update(
            amount=major_units(bumped, captured[amount_row].currency),
            fee=major_units(fee, captured[amount_row].currency),
            net=major_units(bumped - fee, captured[amount_row].currency),
        )
        rows[fee_row]["net"] = major_units(
            int(captured[fee_row].amount_captured)
            - _fee(int(captured[fee_row].amount_captured), captured[fee_row].currency)
            - 1,
            captured[fee_row].currency,
        )
        rows[currency_row]["currency"] = "EUR" if rows[currency_row]["currency"] != "EUR" else "USD"
        rows[invalid_row]["amount"] = (
            rows[invalid_row]["amount"] + "5"
            if "." in rows[invalid_row]["amount"]
            else rows[invalid_row]["amount"] + ".5"
        )
        duplicate = dict(rows[dup_row])
        clean = next(i for i in range(len(rows)) if i not in picks)
        extra = [
            duplicate,
            {**rows[clean], "payment_id": new_id("pay", captured[clean].created), "status": LineStatus.SETTLED},
        ]
        if failed:
            p = failed[0]
            fee = _fee(int(p.amount), p.currency)
            extra.append(
                {
                    "payment_id": p.payment_id,
                    "amount": major_units(int(p.amount), p.currency),
                    "currency": p.currency.upper(),
                    "fee": major_units(fee, p.currency),
                    "net": major_units(int(p.amount) - fee, p.currency),
                    "status": LineStatus.SETTLED,
                    "settled_at": f"{p.created:%Y-%m-%d}",
                }
            )
        del rows[missing_row]
        for item in extra:
            rows.insert(rng.randrange(len(rows) + 1), item)

        writer = csv.DictWriter(self.stdout, fieldnames=[*REQUIRED_COLUMNS, "reference"], lineterminator="\n")
        writer.writeheader()
        for number, row in enumerate(rows, start=1):
            writer.writerow({**row, "reference": f"demo-{number:05d}"})
        planted = [
            Kind.AMOUNT_MISMATCH,
            Kind.FEE_MISMATCH,
            Kind.CURRENCY_MISMATCH,
            Kind.DUPLICATE_LINE,
            Kind.MISSING_IN_FILE,
            Kind.MISSING_IN_PLATFORM,
            Kind.INVALID_ROW,
            *([Kind.STATUS_MISMATCH] if failed else []),
        ]
        self.stderr.write(f"{len(rows)} lines for {merchant_id}; planted: {', '.join(planted)}.")
