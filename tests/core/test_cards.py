"""Free-text fields of the API refuse a card number (422 `pan_in_field`), so none is ever stored."""

from __future__ import annotations

import uuid

import pytest

from core.cards import pan_find
from tests.factories import make_api_key, make_merchant

pytestmark = pytest.mark.engine

BODY = {
    "amount": 1500,
    "currency": "usd",
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
}


def _post(client, secret, path, body):
    return client.post(
        path,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"metadata": {"note": "card 4000 0566 5566 5556 please"}},
        {"metadata": {"4111111111111111": "key holds it"}},
        {"description": "refund to 5555-5555-5555-4444"},
        {"description": "amex 378282246310005"},
    ],
)
def test_payment_metadata_and_description_refuse_a_card_number(client, extra, dynamodb_backend):
    merchant = make_merchant("Acme")
    secret = make_api_key(merchant.merchant_id)

    response = _post(client, secret, "/api/v1/payments", {**BODY, **extra})

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "pan_in_field" and problem["param"] in {"metadata", "description"}
    assert "4444" not in response.content.decode().replace("pan_in_field", "")  # the number is never echoed


def test_other_long_numbers_are_accepted(client, dynamodb_backend):
    merchant = make_merchant("Acme")
    secret = make_api_key(merchant.merchant_id)

    response = _post(
        client,
        secret,
        "/api/v1/payments",
        {**BODY, "description": "order 1234567890123", "metadata": {"ref": "4242424242424241"}},
    )

    assert response.status_code == 201, response.content


def test_customer_metadata_refuses_a_card_number(client, dynamodb_backend):
    merchant = make_merchant("Acme")
    secret = make_api_key(merchant.merchant_id)

    response = _post(
        client, secret, "/api/v1/customers", {"email": "a@example.com", "metadata": {"card": "4242424242424242"}}
    )

    assert response.status_code == 422 and response.json()["code"] == "pan_in_field"


def test_the_detector_masks_what_it_finds_and_ignores_hashes_in_stored_items():
    assert pan_find("x 4242424242424242 y") == "…4242 (16 digits)"
    assert pan_find("sha 9a4242424242424242ff", stored=True) is None
    assert pan_find("created 1764294171123", stored=True) is None
    assert pan_find("12345") is None
