"""Reconciliation fixtures: settlement files under a temporary directory, and CSV builders."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from core.money import CURRENCIES

HEADER = ["payment_id", "amount", "currency", "fee", "net", "status", "settled_at"]


@pytest.fixture(autouse=True)
def settlement_files(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "settlements": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "settlements"},
        },
    }
    return tmp_path / "settlements"


def major(amount: int, currency: str) -> str:
    places = CURRENCIES[currency]
    whole, fraction = divmod(amount, 10**places)
    return f"{whole}.{fraction:0{places}d}" if places else str(whole)


def fee_of(amount: int) -> int:
    return amount * 29 // 1000 + 30


def line_for(
    payment, *, fee: int | None = None, status: str = "settled", settled_at: str | None = None, **override
) -> dict:
    """A correct line for a payment; `override` replaces cells."""
    amount = int(payment.amount_captured)
    fee = fee_of(amount) if fee is None else fee
    row = {
        "payment_id": payment.payment_id,
        "amount": major(amount, payment.currency),
        "currency": payment.currency.upper(),
        "fee": major(fee, payment.currency),
        "net": major(amount - fee, payment.currency),
        "status": status,
        "settled_at": settled_at or payment.created.date().isoformat(),
    }
    row.update(override)
    return row


def csv_bytes(rows: list[dict], header: list[str] | None = None, *, bom: bool = False, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=header or HEADER, delimiter=delimiter, extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def days_ago(days: int, hour: int = 12) -> datetime:
    base = datetime.now(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return base - timedelta(days=days)


class _TablesNotCopied:
    """moto backs up a whole table once per item of every TransactWriteItems call (a deepcopy of
    every item and index, per item), which makes a 100-item transaction over a table of a few
    thousand payments take minutes. For the reconciliation tests moto keeps the tables instead of
    copying them: a cancelled transaction is then not rolled back in moto, which the settling code
    copes with anyway (it re-reads and settles one by one), and DynamoDB Local, in the engine tier,
    keeps the real all-or-nothing behaviour."""

    def __init__(self, real):
        self._real = real

    def deepcopy(self, value, memo=None):
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else self._real.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.fixture(autouse=True)
def moto_transactions_fast(monkeypatch, dynamodb_backend):
    if dynamodb_backend != "moto":
        return
    import copy

    import moto.dynamodb.models as models

    monkeypatch.setattr(models, "copy", _TablesNotCopied(copy))


# The browser test of this directory uses the browser fixtures of tests/browser (Debian's Chromium).
from tests.browser.conftest import browser_type_launch_args, screenshot, sign_in  # noqa: E402,F401
