"""The Payments section of API.md, status code by status code and error code by error code."""

import json

import pytest

from customers.services import customer_create
from idempotency.models import IdempotencyRecord
from merchants.services.merchants import merchant_create
from payments.models import Payment
from tests.factories import TEST_ACTOR, make_api_key
from tests.payments.helpers import card_body, integrator, new_key, payment_body, problem

pytestmark = pytest.mark.engine


# --- create ----------------------------------------------------------------------------------


def test_create_returns_201_with_the_payment_object(client, dynamodb_backend):
    api = integrator(client)

    response = api.post("/payments", payment_body(description="Order 17", metadata={"order": "A-17"}))

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["id"].startswith("pay_") and body["object"] == "payment"
    assert body["merchant_id"] == api.merchant_id
    assert (body["amount"], body["currency"], body["status"]) == (2500, "usd", "succeeded")
    assert (body["amount_captured"], body["amount_refunded"]) == (2500, 0)
    assert body["card"]["brand"] == "visa" and body["card"]["last4"] == "4242"
    assert (body["card"]["exp_month"], body["card"]["exp_year"]) == (12, 2034) and body["card"]["fingerprint"]
    assert body["metadata"] == {"order": "A-17"} and body["description"] == "Order 17"
    assert body["customer_id"] is None and body["failure_code"] is None
    assert body["created"].endswith("Z") and body["updated"].endswith("Z")
    assert "4242424242424242" not in response.content.decode() and '"cvc"' not in response.content.decode()


def test_create_with_capture_false_is_requires_capture(client, dynamodb_backend):
    api = integrator(client)

    body = api.create(capture=False)

    assert (body["status"], body["amount_captured"]) == ("requires_capture", 0)


@pytest.mark.parametrize(
    "number, code", [("4000000000000002", "card_declined"), ("4000000000009995", "insufficient_funds")]
)
def test_decline_is_402_naming_the_stored_failed_payment(client, dynamodb_backend, number, code):
    api = integrator(client)

    response = api.post("/payments", payment_body(card=card_body(number)))

    assert response.status_code == 402
    body = problem(response)
    assert body["code"] == code and body["payment_id"].startswith("pay_")
    stored = api.get(f"/payments/{body['payment_id']}").json()
    assert (stored["status"], stored["failure_code"]) == ("failed", code)
    assert [p["id"] for p in api.get("/payments").json()["data"]] == [body["payment_id"]]


@pytest.mark.parametrize(
    "overrides, status, code, param",
    [
        ({"card": card_body("4242424242424241")}, 422, "invalid_card_number", "card.number"),
        ({"card": card_body("4242")}, 422, "invalid_card_number", "card.number"),
        ({"card": card_body(exp_year=2020)}, 422, "expired_card", "card"),
        ({"amount": 0}, 422, "amount_too_small", "amount"),
        ({"amount": 100_000_000}, 422, "amount_too_large", "amount"),
        ({"currency": "xyz"}, 422, "invalid_currency", "currency"),
        ({"surprise": 1}, 422, "unknown_parameter", "surprise"),
        ({"card": {**card_body(), "pin": "1234"}}, 422, "unknown_parameter", "card.pin"),
    ],
)
def test_invalid_requests_are_422_with_code_and_param(client, dynamodb_backend, overrides, status, code, param):
    api = integrator(client)

    response = api.post("/payments", payment_body(**overrides))

    assert response.status_code == status
    body = problem(response)
    assert (body["code"], body["param"]) == (code, param)
    assert body["errors"][0]["code"] == code and body["errors"][0]["param"] == param
    assert "4242424242424241" not in response.content.decode()
    assert api.get("/payments").json()["data"] == []


def test_every_validation_error_is_listed(client, dynamodb_backend):
    api = integrator(client)

    response = api.post("/payments", {"amount": 0, "currency": "usd", "card": card_body(), "extra": True})

    assert {(e["param"], e["code"]) for e in problem(response)["errors"]} >= {
        ("amount", "amount_too_small"),
        ("extra", "unknown_parameter"),
    }


def test_unknown_customer_is_404_like_another_merchants_customer(client, dynamodb_backend):
    api, other = integrator(client), integrator()
    theirs = customer_create(merchant_id=other.merchant_id, actor=TEST_ACTOR, email="a@example.com", name="A")

    response = api.post("/payments", payment_body(customer_id=theirs.customer_id))

    assert response.status_code == 404 and problem(response)["param"] == "customer_id"


def test_processor_error_is_502_and_stores_nothing(client, dynamodb_backend):
    api = integrator(client)
    key = new_key()

    response = api.post("/payments", payment_body(card=card_body("4000000000000119")), key=key)

    assert response.status_code == 502 and problem(response)["code"] == "processor_error"
    assert api.get("/payments").json()["data"] == []
    assert IdempotencyRecord.count() == 0  # released: the same key may be retried


# --- auth, size, rate limit --------------------------------------------------------------------


def test_post_without_a_valid_key_is_401_and_stores_nothing(client, dynamodb_backend):
    response = client.post(
        "/api/v1/payments",
        data=json.dumps(payment_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer sk_test_notarealkeynotarealkeynotreal",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == 401 and problem(response)["code"] == "authentication_required"
    assert IdempotencyRecord.count() == 0 and Payment.count() == 0


def test_body_over_one_megabyte_is_413(client, dynamodb_backend):
    api = integrator(client)
    huge = json.dumps(payment_body(description="x" * (1024 * 1024)))

    response = api.post("/payments", raw=huge)

    assert response.status_code == 413 and problem(response)["code"] == "request_too_large"
    assert IdempotencyRecord.count() == 0


def test_rate_limit_is_429_with_retry_after_per_merchant(client, dynamodb_backend, monkeypatch):
    import merchants.ratelimit

    monkeypatch.setattr(merchants.ratelimit.time, "time", lambda: 1_800_000_010.0)  # 10 s into a minute
    merchant = merchant_create(name="Limited", actor=TEST_ACTOR, rate_limit_per_minute=2)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {make_api_key(merchant.merchant_id)}"}
    other = integrator(client)

    codes = [client.get("/api/v1/payments", **headers).status_code for _ in range(3)]
    limited = client.get("/api/v1/payments", **headers)

    assert codes == [200, 200, 429]
    assert limited.status_code == 429 and problem(limited)["code"] == "rate_limited"
    assert limited["Retry-After"] == "50"
    assert other.get("/payments").status_code == 200  # another merchant has its own budget


def test_default_rate_limit_comes_from_settings(client, dynamodb_backend, settings, monkeypatch):
    import merchants.ratelimit

    monkeypatch.setattr(merchants.ratelimit.time, "time", lambda: 1_800_000_000.0)
    settings.DEFAULT_RATE_LIMIT_PER_MINUTE = 1
    api = integrator(client)

    assert [api.get("/payments").status_code for _ in range(2)] == [200, 429]


def test_rate_limited_post_is_not_stored_for_idempotency(client, dynamodb_backend, settings, monkeypatch):
    import merchants.ratelimit

    monkeypatch.setattr(merchants.ratelimit.time, "time", lambda: 1_800_000_000.0)
    settings.DEFAULT_RATE_LIMIT_PER_MINUTE = 1
    api = integrator(client)
    api.get("/payments")

    response = api.post("/payments", payment_body(), key="once")

    assert response.status_code == 429
    assert IdempotencyRecord.count() == 0 and Payment.count() == 0


# --- capture, cancel, refund -----------------------------------------------------------------


def test_capture_in_full_and_in_part(client, dynamodb_backend):
    api = integrator(client)
    full, part = api.create(capture=False, amount=1000), api.create(capture=False, amount=1000)

    captured = api.post(f"/payments/{full['id']}/capture")
    partial = api.post(f"/payments/{part['id']}/capture", {"amount": 400})

    assert captured.status_code == 200 and (captured.json()["status"], captured.json()["amount_captured"]) == (
        "succeeded",
        1000,
    )
    assert partial.status_code == 200 and partial.json()["amount_captured"] == 400


def test_capture_more_than_authorized_is_422(client, dynamodb_backend):
    api = integrator(client)
    payment = api.create(capture=False, amount=1000)

    response = api.post(f"/payments/{payment['id']}/capture", {"amount": 1001})

    assert response.status_code == 422 and problem(response)["code"] == "amount_exceeds_authorized"


@pytest.mark.parametrize("action", ["capture", "cancel"])
def test_capture_and_cancel_of_a_captured_payment_are_409_invalid_state(client, dynamodb_backend, action):
    api = integrator(client)
    payment = api.create()

    response = api.post(f"/payments/{payment['id']}/{action}")

    assert response.status_code == 409 and problem(response)["code"] == "invalid_state"


def test_cancel_releases_the_authorization(client, dynamodb_backend):
    api = integrator(client)
    payment = api.create(capture=False)

    response = api.post(f"/payments/{payment['id']}/cancel")

    assert response.status_code == 200 and response.json()["status"] == "canceled"
    kinds = [t["type"] for t in api.get(f"/payments/{payment['id']}").json()["transactions"]]
    assert kinds == ["authorization", "cancel"]


def test_refund_returns_the_refund_object(client, dynamodb_backend):
    api = integrator(client)
    payment = api.create(amount=1000)

    response = api.post(f"/payments/{payment['id']}/refunds", {"amount": 300, "reason": "requested_by_customer"})

    assert response.status_code == 201
    refund = response.json()
    assert refund["id"].startswith("re_") and refund["object"] == "refund"
    assert (refund["payment_id"], refund["amount"], refund["currency"]) == (payment["id"], 300, "usd")
    assert (refund["status"], refund["reason"]) == ("succeeded", "requested_by_customer")
    assert refund["payment"]["status"] == "partially_refunded" and refund["payment"]["amount_refunded"] == 300
    ledger = api.get(f"/payments/{payment['id']}").json()["transactions"]
    assert [(t["type"], t["refund_id"]) for t in ledger][-1] == ("refund", refund["id"])


def test_refund_defaults_to_the_rest(client, dynamodb_backend):
    api = integrator(client)
    payment = api.create(amount=1000)
    api.post(f"/payments/{payment['id']}/refunds", {"amount": 250})

    rest = api.post(f"/payments/{payment['id']}/refunds")

    assert rest.status_code == 201 and rest.json()["amount"] == 750
    assert rest.json()["payment"]["status"] == "refunded"


def test_refund_past_the_captured_amount_is_422(client, dynamodb_backend):
    api = integrator(client)
    payment = api.create(amount=1000)
    api.post(f"/payments/{payment['id']}/refunds", {"amount": 900})

    response = api.post(f"/payments/{payment['id']}/refunds", {"amount": 101})

    assert response.status_code == 422
    assert (problem(response)["code"], problem(response)["param"]) == ("refund_exceeds_captured", "amount")


def test_refund_with_an_unknown_reason_is_422(client, dynamodb_backend):
    api = integrator(client)
    payment = api.create()

    response = api.post(f"/payments/{payment['id']}/refunds", {"reason": "bored"})

    assert response.status_code == 422 and problem(response)["param"] == "reason"


@pytest.mark.parametrize("setup", ["requires_capture", "failed"])
def test_refund_of_an_uncaptured_payment_is_409(client, dynamodb_backend, setup):
    api = integrator(client)
    if setup == "failed":
        payment_id = api.post("/payments", payment_body(card=card_body("4000000000000002"))).json()["payment_id"]
    else:
        payment_id = api.create(capture=False)["id"]

    response = api.post(f"/payments/{payment_id}/refunds")

    assert response.status_code == 409 and problem(response)["code"] == "invalid_state"


@pytest.mark.parametrize("action", ["capture", "cancel", "refunds"])
def test_actions_on_another_merchants_payment_are_404(client, dynamodb_backend, action):
    api, other = integrator(client), integrator()
    theirs = other.create(capture=False)

    response = api.post(f"/payments/{theirs['id']}/{action}")

    assert response.status_code == 404 and problem(response)["code"] == "resource_missing"


# --- retrieve --------------------------------------------------------------------------------


def test_retrieve_has_the_ledger_oldest_first(client, dynamodb_backend):
    api = integrator(client)
    payment = api.create(amount=800)
    api.post(f"/payments/{payment['id']}/refunds", {"amount": 100})

    body = api.get(f"/payments/{payment['id']}").json()

    assert [t["type"] for t in body["transactions"]] == ["authorization", "capture", "refund"]
    assert body["amount_refunded"] == 100 and body["status"] == "partially_refunded"


def test_retrieve_of_a_missing_payment_is_404(client, dynamodb_backend):
    api = integrator(client)

    response = api.get("/payments/pay_01JZZZZZZZZZZZZZZZZZZZZZZZ")

    assert response.status_code == 404 and problem(response)["code"] == "resource_missing"


def test_the_list_rendered_in_one_pass_reads_like_the_other_reads(client, dynamodb_backend):
    api = integrator(client)
    created = api.create(description="Order 18", metadata={"order": "A-18"})

    listed = api.get("/payments", limit=5)
    retrieved = api.get(f"/payments/{created['id']}")

    assert listed.status_code == 200 and retrieved.status_code == 200
    # the same Content-Type as a read ninja renders, the same payment object as the create answered
    assert listed["Content-Type"] == retrieved["Content-Type"] == "application/json; charset=utf-8"
    page = listed.json()
    assert (page["object"], page["has_more"], page["next_cursor"]) == ("list", False, None)
    assert page["data"] == [created]
    assert {key: retrieved.json()[key] for key in created} == created
