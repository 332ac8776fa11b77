"""Payouts: a completed settlement file is the processor's payout, one per currency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reconciliation.matching import payout_id_for
from reconciliation.models import Payout, Settlement


def payouts_new(settlement: Settlement, progress: Any, *, at: datetime) -> list[Payout]:
    """The payouts of a settlement that completes at `at` (for its completing transaction): per
    currency of its totals, the gross, fees and net of the file's lines and how many lines there were.
    The money arrives the day the file completes. Ids are deterministic: a retried completion writes
    the same payouts (each put is conditioned on not existing)."""
    return [
        Payout(
            payout_id=payout_id_for(
                settlement_id=settlement.settlement_id, settlement_created=settlement.created, currency=currency
            ),
            merchant_id=settlement.merchant_id,
            settlement_id=settlement.settlement_id,
            currency=currency,
            gross=int(totals.get("gross", 0)),
            fees=int(totals.get("fees", 0)),
            net=int(totals.get("net", 0)),
            payment_count=int(progress.payment_counts.get(currency, 0)),
            arrival_date=at.date().isoformat(),
            created=at,
        )
        for currency, totals in sorted(progress.totals.items())
    ]
