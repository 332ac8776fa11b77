"""A suspended merchant: API writes get 403 `merchant_suspended` before any idempotency claim (so the
same key works after reactivation), reads still work, the dashboard refuses changes and shows a banner."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from idempotency.models import IdempotencyRecord
from merchants.selectors import merchant_get
from merchants.services.settings import merchant_reactivate, merchant_suspend
from payments import selectors as payment_selectors
from tests.factories import HTMX, TEST_ACTOR, make_api_key, make_payment

pytestmark = pytest.mark.engine

BODY = {
    "amount": 2500,
    "currency": "usd",
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
}


def _post(client, path, secret, body=None, **headers):
    return client.post(
        path,
        json.dumps(body if body is not None else {}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        **headers,
    )


def _records() -> list:
    return list(IdempotencyRecord.scan())


def test_a_suspended_merchants_write_is_403_and_not_stored_so_the_key_works_after_reactivation(
    client, merchant, dynamodb_backend
):
    secret = make_api_key(merchant.merchant_id)
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Chargeback review")

    refused = _post(client, "/api/v1/payments", secret, BODY, HTTP_IDEMPOTENCY_KEY="order-17")

    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == "merchant_suspended" and problem["status"] == 403
    assert {"type", "title", "detail"} <= problem.keys()
    assert "Idempotent-Replayed" not in refused
    assert _records() == []
    assert payment_selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id).items == []

    merchant_reactivate(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Review cleared")
    created = _post(client, "/api/v1/payments", secret, BODY, HTTP_IDEMPOTENCY_KEY="order-17")

    assert created.status_code == 201, created.content
    assert "Idempotent-Replayed" not in created
    assert created.json()["status"] == "succeeded"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/payments/{id}/refunds",
        "/api/v1/payments/{id}/capture",
        "/api/v1/payments/{id}/cancel",
        "/api/v1/customers",
    ],
)
def test_every_write_is_refused_even_without_an_idempotency_key_or_a_valid_body(client, merchant, path):
    payment = make_payment(merchant.merchant_id)
    secret = make_api_key(merchant.merchant_id)
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Fraud review")

    response = _post(client, path.format(id=payment.payment_id), secret, {"not": "valid"})

    assert response.status_code == 403 and response.json()["code"] == "merchant_suspended"
    stored = payment_selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 0


def test_reads_still_work_while_suspended(client, merchant, dynamodb_backend):
    payment = make_payment(merchant.merchant_id)
    secret = make_api_key(merchant.merchant_id)
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Fraud review")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    assert client.get("/api/v1/merchant", **auth).status_code == 200
    assert client.get("/api/v1/payments", **auth).json()["data"][0]["id"] == payment.payment_id
    assert client.get(f"/api/v1/payments/{payment.payment_id}", **auth).status_code == 200


def test_a_bad_key_is_still_401_not_403(client, merchant):
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Fraud review")

    response = _post(client, "/api/v1/payments", "sk_test_unknownunknownunknownunknown", BODY)

    assert response.status_code == 401


def test_an_active_merchants_write_is_not_refused(client, merchant):
    secret = make_api_key(merchant.merchant_id)

    response = _post(client, "/api/v1/payments", secret, BODY, HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 201


def test_suspend_and_reactivate_are_audited_with_the_reason(merchant, dynamodb_backend):
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Chargeback review")
    suspended = merchant_get(merchant_id=merchant.merchant_id)
    merchant_reactivate(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Cleared")
    active = merchant_get(merchant_id=merchant.merchant_id)

    assert suspended.status == "suspended" and suspended.suspended_reason == "Chargeback review"
    assert active.status == "active" and active.suspended_reason is None and active.suspended_at is None
    events = {e.action: e for e in AuditEvent.query(merchant.merchant_id)}
    assert events["merchant.suspend"].detail == "Chargeback review"
    assert events["merchant.suspend"].after == {"status": "suspended"}
    assert events["merchant.reactivate"].detail == "Cleared"


# --- the dashboard ---------------------------------------------------------------------------


def test_a_dashboard_change_is_refused_with_a_message_and_changes_nothing(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = as_role("operator")
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Fraud review")
    url = reverse("payments:payment-refund", args=[payment.payment_id])

    plain = client.post(url, {"amount": "10", "reason": "", "confirm": "yes"})
    htmx = client.post(
        url, {"amount": "10", "reason": "", "confirm": "yes"}, HTTP_HX_CURRENT_URL="http://testserver/payments/", **HTMX
    )

    assert plain.status_code == 403 and b"This merchant is suspended" in plain.content
    assert htmx["HX-Redirect"] == "/payments/"
    follow = client.get("/payments/")
    assert b"This merchant is suspended: nothing can be changed" in follow.content
    stored = payment_selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 0
    assert not [e for e in AuditEvent.query(merchant.merchant_id) if e.action == "payment.refund"]


def test_the_banner_shows_on_every_page_while_suspended(as_role, merchant):
    client = as_role("viewer")
    before = client.get("/")
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Fraud review")

    pages = [client.get(path) for path in ("/", "/payments/", "/customers/", "/settlements/")]

    assert b'data-testid="suspended-banner"' not in before.content
    for page in pages:
        assert page.status_code == 200
        assert b'data-testid="suspended-banner"' in page.content
        assert b"Fraud review" not in page.content  # the reason is for ops only


def test_signing_out_and_switching_still_work_while_suspended(as_role, merchant):
    client = as_role("admin")
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Fraud review")

    response = client.post(reverse("logout"))

    assert response.status_code == 302
