"""The "Import payments" page."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.selectors import audit_event_list_for_entity
from payments.imports import import_csv_rows
from payments.models import Payment
from tests.payments.test_import import row

pytestmark = pytest.mark.engine
URL = "/payments/import/"


def upload(client, data: bytes, name: str = "history.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_an_admin_imports_a_file_and_sees_the_result(signed_in, merchant, dynamodb_backend):
    client = signed_in("admin")
    data = import_csv_rows([row(1), row(2)])

    page = client.get(URL)
    response = upload(client, data)
    again = upload(client, data)

    assert page.status_code == 200 and b"Import payments" in page.content
    assert response.status_code == 200
    assert b'data-testid="import-result"' in response.content and b"2 payments imported" in response.content
    assert b"was imported before" in again.content
    assert Payment.by_merchant.count(merchant.merchant_id) == 2
    events = audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=_sha(data))
    assert [(e.action, e.actor_type) for e in events] == [("payment.import", "user")]
    assert b'data-testid="import-payments"' in client.get("/payments/").content


def test_bad_lines_are_listed_and_nothing_is_imported(signed_in, merchant, dynamodb_backend):
    client = signed_in("admin")
    data = import_csv_rows([row(1), row(2, currency="zzz"), row(3, description="card 4000 0566 5566 5556")])

    response = upload(client, data)

    assert response.status_code == 422
    body = response.content.decode()
    assert "Line 3, column <code>currency</code>" in body
    assert "Line 4, column <code>description</code>" in body and "card number" in body
    assert "5566" not in body
    assert Payment.by_merchant.count(merchant.merchant_id) == 0


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_import(signed_in, merchant, role, dynamodb_backend):
    client = signed_in(role)

    response = upload(client, import_csv_rows([row(1)]))

    assert response.status_code == 403
    assert client.get(URL).status_code == 403
    assert b'data-testid="import-payments"' not in client.get("/payments/").content
    assert Payment.by_merchant.count(merchant.merchant_id) == 0


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_imported_payment_shows_where_it_came_from_and_offers_no_refund(signed_in, merchant, dynamodb_backend):
    client = signed_in("admin")
    upload(client, import_csv_rows([row(1)]))
    payment = next(iter(Payment.by_merchant.query(merchant.merchant_id)))

    page = client.get(f"/payments/{payment.payment_id}/")
    refund = client.post(f"/payments/{payment.payment_id}/refund/", {"amount": "1.00", "confirm": "yes"})

    assert page.status_code == 200
    assert b'data-testid="payment-imported"' in page.content and b"ch_000001" in page.content
    assert b'action="/payments/' + payment.payment_id.encode() + b'/refund/"' not in page.content
    assert refund.status_code == 409 and b"imported from another processor" in refund.content
    assert Payment.get(payment.payment_id).amount_refunded == 0
