import json

import pytest

from merchants.services.api_keys import api_key_create, api_key_revoke
from tests.factories import TEST_ACTOR, make_api_key, make_merchant, make_payment

pytestmark = pytest.mark.engine


def _get(client, path, secret=None, **headers):
    if secret:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client.get(path, **headers)


def test_merchant_endpoint_returns_the_keys_merchant(client, dynamodb_backend):
    merchant = make_merchant("Acme", currency="eur")
    secret = make_api_key(merchant.merchant_id)

    response = _get(client, "/api/v1/merchant", secret)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == merchant.merchant_id and body["object"] == "merchant"
    assert (body["name"], body["default_currency"]) == ("Acme", "eur")
    assert body["created"].endswith("Z")
    assert response["X-Request-Id"].startswith("req_")


@pytest.mark.parametrize("authorization", [None, "Bearer sk_test_unknownunknownunknownunknown", "Basic abc"])
def test_missing_or_unknown_key_is_401_problem(client, authorization, dynamodb_backend):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/api/v1/merchant", **headers)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["status"] == 401 and problem["code"] == "authentication_required"
    assert {"type", "title", "detail"} <= problem.keys()


def test_revoked_key_stops_working_at_once(client, dynamodb_backend):
    merchant = make_merchant()
    created = api_key_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR)
    assert _get(client, "/api/v1/merchant", created.secret).status_code == 200

    api_key_revoke(key_id=created.key.key_id, actor=TEST_ACTOR)

    assert _get(client, "/api/v1/merchant", created.secret).status_code == 401


def test_request_id_is_echoed(client, dynamodb_backend):
    response = client.get("/api/v1/merchant", HTTP_X_REQUEST_ID="abc-123")

    assert response["X-Request-Id"] == "abc-123"


def test_another_merchants_payment_is_404_like_a_missing_one(client, dynamodb_backend):
    ours, theirs = make_merchant(), make_merchant()
    secret = make_api_key(ours.merchant_id)
    their_payment = make_payment(theirs.merchant_id)

    other = _get(client, f"/api/v1/payments/{their_payment.payment_id}", secret)
    missing = _get(client, "/api/v1/payments/pay_01JZZZZZZZZZZZZZZZZZZZZZZZ", secret)

    assert other.status_code == missing.status_code == 404
    assert other["Content-Type"] == "application/problem+json"
    assert {k: v for k, v in other.json().items() if k != "detail"} == {
        k: v for k, v in missing.json().items() if k != "detail"
    }


def test_unknown_api_path_is_a_problem_not_html(client):
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
