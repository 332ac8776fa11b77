"""What the home page shows, computed from one summary read (30 days of pre-aggregated counters):
today / 7 days / 30 days per currency, the daily volume series and the status mix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.money import CURRENCIES
from payments.forms import STATUS_LABELS
from payments.models import PAYMENT_STATUSES
from payments.selectors import CurrencySummary, payment_summary

WINDOWS = (("Today", 1), ("Last 7 days", 7), ("Last 30 days", 30))


@dataclass(frozen=True)
class Window:
    label: str
    days: int
    totals: CurrencySummary


@dataclass(frozen=True)
class Dashboard:
    currencies: list[str]  # by 30-day volume, largest first
    currency: str  # the one the charts show
    windows: list[Window]  # for `currency`
    volume_series: dict
    status_series: dict
    empty: bool
    volume_rows: list[tuple[date, int, int]]  # the chart's numbers as a table, newest first

    @property
    def status_rows(self) -> list[tuple[str, int]]:
        return list(zip(self.status_series["statuses"], self.status_series["counts"], strict=True))


def _sum(currency: str, parts: list[CurrencySummary]) -> CurrencySummary:
    total = CurrencySummary(
        currency=currency,
        count_by_status=dict.fromkeys(PAYMENT_STATUSES, 0),
        amount_by_status=dict.fromkeys(PAYMENT_STATUSES, 0),
    )
    for part in parts:
        for status in PAYMENT_STATUSES:
            total.count_by_status[status] += part.count_by_status.get(status, 0)
            total.amount_by_status[status] += part.amount_by_status.get(status, 0)
        total.captured += part.captured
        total.refunded += part.refunded
        total.refund_count += part.refund_count
    return total


def dashboard_for_merchant(*, merchant_id: str, today: date, currency: str | None, default_currency: str) -> Dashboard:
    start = today - timedelta(days=29)
    summary = payment_summary(merchant_id=merchant_id, start=start, end=today)
    currencies = sorted(summary.currencies, key=lambda c: (-summary.currencies[c].captured, c))
    if currency not in CURRENCIES:
        currency = default_currency if default_currency in summary.currencies or not currencies else currencies[0]
    days = sorted(summary.days)
    windows = [
        Window(
            label=label,
            days=n,
            totals=_sum(currency, [summary.days[d][currency] for d in days[-n:] if currency in summary.days[d]]),
        )
        for label, n in WINDOWS
    ]
    per_day = [summary.days[d].get(currency) for d in days]
    volume = {
        "currency": currency.upper(),
        "scale": CURRENCIES.get(currency, 2),
        "labels": [d.strftime("%b %-d") for d in days],
        "captured": [s.captured if s else 0 for s in per_day],
        "refunded": [s.refunded if s else 0 for s in per_day],
    }
    month = windows[-1].totals
    statuses = [s for s in PAYMENT_STATUSES if month.count_by_status.get(s)]
    status = {
        "statuses": statuses,
        "labels": [STATUS_LABELS[s] for s in statuses],
        "counts": [month.count_by_status[s] for s in statuses],
    }
    return Dashboard(
        currencies=currencies or [currency],
        currency=currency,
        windows=windows,
        volume_series=volume,
        status_series=status,
        empty=not currencies,
        volume_rows=[(d, s.captured if s else 0, s.refunded if s else 0) for d, s in zip(days, per_day, strict=True)][
            ::-1
        ],
    )
