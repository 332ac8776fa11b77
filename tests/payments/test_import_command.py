"""`manage.py payments import FILE --merchant MER_ID`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from payments.imports import import_csv_rows
from payments.models import Payment
from tests.factories import make_merchant
from tests.payments.test_import import row

pytestmark = pytest.mark.engine


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("payments", "import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_a_file_once(dynamodb_backend, tmp_path):
    merchant = make_merchant()
    path = tmp_path / "history.csv"
    path.write_bytes(import_csv_rows([row(n) for n in range(1, 4)]))

    first, _ = run(str(path), "--merchant", merchant.merchant_id, "--quiet")
    second, _ = run(str(path), "--merchant", merchant.merchant_id, "--quiet")

    assert "Imported history.csv: 3 row(s), 3 payment(s) imported, 0 already there." in first
    assert "was imported before" in second
    assert Payment.by_merchant.count(merchant.merchant_id) == 3


def test_the_command_names_every_bad_line_and_writes_nothing(dynamodb_backend, tmp_path):
    merchant = make_merchant()
    path = tmp_path / "history.csv"
    path.write_bytes(import_csv_rows([row(1), row(2, amount="-5"), row(3, card_last4="42")]))

    with pytest.raises(CommandError, match="2 error"):
        out = StringIO()
        err = StringIO()
        try:
            call_command("payments", "import", str(path), "--merchant", merchant.merchant_id, stdout=out, stderr=err)
        finally:
            assert "history.csv: line 3, column `amount`" in err.getvalue()
            assert "history.csv: line 4, column `card_last4`" in err.getvalue()

    assert Payment.by_merchant.count(merchant.merchant_id) == 0


def test_an_unknown_merchant_is_an_error(dynamodb_backend, tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(import_csv_rows([row(1)]))

    with pytest.raises(CommandError, match="mer_"):
        run(str(path), "--merchant", "mer_01JAAAAAAAAAAAAAAAAAAAAAAA", "--quiet")
