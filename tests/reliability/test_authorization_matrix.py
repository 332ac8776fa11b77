"""Authorization matrix of the API: every operation of the OpenAPI document × (no key, revoked key,
another merchant's key, the merchant's own key), each with the exact status. An operation without a
row fails `test_every_api_operation_has_a_row`, so a new endpoint cannot ship unchecked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from customers.services import customer_create
from disputes.services import dispute_open
from merchants.services.api_keys import api_key_create, api_key_revoke
from payments.services.refund_requests import refund_request_create
from paysite.api import api
from reconciliation.models import Payout
from tests.factories import TEST_ACTOR, make_api_key, make_merchant, make_payment
from tests.payments.helpers import card_body, integrator, payment_body
from tests.reliability.settlements import settlement_with_a_discrepancy
from webhooks.endpoints import webhook_endpoint_create
from webhooks.selectors import event_list_for_merchant

pytestmark = pytest.mark.django_db


@dataclass
class World:
    """Merchant A's objects, A's live and revoked keys, and merchant B's key."""

    own: str
    revoked: str
    other: str
    ids: dict[str, str]


# operationId: (method, path, body, status with A's key, status with B's key on A's objects)
# `body` is JSON for POSTs, "upload" for the settlement file; B's 2xx on a collection is B's own (empty) data.
ROWS: dict[str, tuple[str, str, Any, int, int]] = {
    "payments_api_merchant_retrieve": ("GET", "/merchant", None, 200, 200),
    "payments_api_payment_create": ("POST", "/payments", payment_body(), 201, 201),
    "payments_api_payment_list": ("GET", "/payments", None, 200, 200),
    "payments_api_payment_capture": ("POST", "/payments/{authorized}/capture", {}, 200, 404),
    "payments_api_payment_cancel": ("POST", "/payments/{cancelable}/cancel", {}, 200, 404),
    "payments_api_refund_create": ("POST", "/payments/{payment}/refunds", {"amount": 100}, 201, 404),
    "payments_api_payment_summary": ("GET", "/payments/summary", None, 200, 200),
    "payments_api_payment_export": ("GET", "/payments/export", None, 200, 200),
    "payments_api_payment_retrieve": ("GET", "/payments/{payment}", None, 200, 404),
    "payments_customers_api_customer_create": ("POST", "/customers", {"email": "new@example.com"}, 201, 201),
    "payments_customers_api_customer_list": ("GET", "/customers", None, 200, 200),
    "payments_customers_api_customer_retrieve": ("GET", "/customers/{customer}", None, 200, 404),
    "reconciliation_api_settlement_upload": ("POST", "/settlements", "upload", 200, 202),
    "reconciliation_api_settlement_list": ("GET", "/settlements", None, 200, 200),
    "reconciliation_api_settlement_retrieve": ("GET", "/settlements/{settlement}", None, 200, 404),
    "reconciliation_api_discrepancy_list": ("GET", "/settlements/{settlement}/discrepancies", None, 200, 404),
    "reconciliation_api_discrepancy_export": ("GET", "/settlements/{settlement}/discrepancies/export", None, 200, 404),
    "reconciliation_api_discrepancy_resolve": (
        "POST",
        "/settlements/{settlement}/discrepancies/{discrepancy}/resolve",
        {"reason": "checked with the processor"},
        200,
        404,
    ),
    "audit_api_audit_event_list_api": ("GET", "/audit-events", None, 200, 200),
    "costs_api_cost_estimate": ("GET", "/costs/estimate", None, 200, 200),
    "webhooks_api_webhook_endpoint_create_api": (
        "POST",
        "/webhook-endpoints",
        {"url": "https://hooks.example.com/matrix", "events": ["*"]},
        201,
        201,
    ),
    "webhooks_api_webhook_endpoint_list_api": ("GET", "/webhook-endpoints", None, 200, 200),
    "webhooks_api_webhook_endpoint_retrieve_api": ("GET", "/webhook-endpoints/{endpoint}", None, 200, 404),
    "webhooks_api_webhook_endpoint_update_api": (
        "POST",
        "/webhook-endpoints/{endpoint}",
        {"description": "matrix"},
        200,
        404,
    ),
    "webhooks_api_webhook_endpoint_delete_api": ("DELETE", "/webhook-endpoints/{doomed_endpoint}", None, 200, 404),
    "webhooks_api_webhook_endpoint_rotate_api": ("POST", "/webhook-endpoints/{endpoint}/rotate-secret", {}, 200, 404),
    "webhooks_api_webhook_endpoint_test_api": ("POST", "/webhook-endpoints/{endpoint}/test", {}, 200, 404),
    "webhooks_api_event_list_api": ("GET", "/events", None, 200, 200),
    "webhooks_api_event_retrieve_api": ("GET", "/events/{event}", None, 200, 404),
    "disputes_api_dispute_list": ("GET", "/disputes", None, 200, 200),
    "disputes_api_dispute_retrieve": ("GET", "/disputes/{dispute}", None, 200, 404),
    "disputes_api_dispute_evidence": ("POST", "/disputes/{dispute}/evidence", {"text": "matrix"}, 200, 404),
    "disputes_api_dispute_accept": ("POST", "/disputes/{accepted_dispute}/accept", {}, 200, 404),
    "payments_api_refund_request_list": ("GET", "/refund-requests", None, 200, 200),
    "payments_api_refund_request_retrieve": ("GET", "/refund-requests/{refund_request}", None, 200, 404),
    "reconciliation_payouts_api_balance_retrieve": ("GET", "/balance", None, 200, 200),
    "reconciliation_payouts_api_payout_list": ("GET", "/payouts", None, 200, 200),
    "reconciliation_payouts_api_payout_retrieve": ("GET", "/payouts/{payout}", None, 200, 404),
}


def _operations() -> dict[str, tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {
        operation["operationId"]: (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def test_every_api_operation_has_a_row():
    operations = _operations()
    assert set(operations) == set(ROWS), "add a row to ROWS for every new API operation"
    for operation_id, (method, path) in operations.items():
        row_method, row_path = ROWS[operation_id][:2]
        assert method == row_method
        assert path.split("{")[0] == "/api/v1" + row_path.split("{")[0]


@pytest.fixture
def world(settings, tmp_path) -> World:
    settings.STORAGES = {
        **settings.STORAGES,
        "settlements": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "settlements"},
        },
    }
    merchant = make_merchant("Acme")
    own = make_api_key(merchant.merchant_id)
    revoked_key = api_key_create(merchant_id=merchant.merchant_id, name="old", actor=TEST_ACTOR)
    api_key_revoke(key_id=revoked_key.key.key_id, actor=TEST_ACTOR)
    other = make_api_key(make_merchant("Globex").merchant_id)
    payment = make_payment(merchant.merchant_id)
    authorized = make_payment(merchant.merchant_id, capture=False)
    cancelable = make_payment(merchant.merchant_id, capture=False)
    customer = customer_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="a@example.com")
    settlement_id, discrepancy_id, csv_content = settlement_with_a_discrepancy(merchant.merchant_id, own)
    endpoint, _ = webhook_endpoint_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="https://hooks.example.com/a", events=["*"]
    )
    doomed, _ = webhook_endpoint_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="https://hooks.example.com/b", events=["*"]
    )
    event = event_list_for_merchant(merchant_id=merchant.merchant_id).items[0]
    dispute = dispute_open(
        merchant_id=merchant.merchant_id, payment_id=make_payment(merchant.merchant_id).payment_id, actor=TEST_ACTOR
    )
    accepted = dispute_open(
        merchant_id=merchant.merchant_id, payment_id=make_payment(merchant.merchant_id).payment_id, actor=TEST_ACTOR
    )
    refund_request = refund_request_create(
        merchant_id=merchant.merchant_id, payment_id=make_payment(merchant.merchant_id).payment_id, actor=TEST_ACTOR
    )
    return World(
        own=own,
        revoked=revoked_key.secret,
        other=other,
        ids={
            "payment": payment.payment_id,
            "authorized": authorized.payment_id,
            "cancelable": cancelable.payment_id,
            "customer": customer.customer_id,
            "settlement": settlement_id,
            "discrepancy": discrepancy_id,
            "csv": csv_content.decode(),
            "endpoint": endpoint.endpoint_id,
            "doomed_endpoint": doomed.endpoint_id,
            "event": event.event_id,
            "dispute": dispute.dispute_id,
            "accepted_dispute": accepted.dispute_id,
            "refund_request": refund_request.request_id,
            "payout": next(iter(Payout.by_merchant.query(merchant.merchant_id))).payout_id,
        },
    )


def _text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _call(world: World, operation_id: str, secret: str | None, key: str):
    method, path, body, *_ = ROWS[operation_id]
    url = "/api/v1" + path.format(**world.ids)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret is not None else {}
    client = Client()
    if method == "GET":
        return client.get(url, **headers)
    if method == "DELETE":
        return client.delete(url, **headers)
    headers["HTTP_IDEMPOTENCY_KEY"] = key
    if body == "upload":
        upload = SimpleUploadedFile("settlement.csv", world.ids["csv"].encode(), content_type="text/csv")
        return client.post(url, {"file": upload}, **headers)
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


A_OBJECTS = (
    "payment",
    "authorized",
    "cancelable",
    "customer",
    "settlement",
    "discrepancy",
    "endpoint",
    "event",
    "dispute",
    "refund_request",
    "payout",
)


def test_every_api_operation_answers_each_principal_with_the_exact_status(world):
    """One world, every row: (no key, revoked key, unknown key, merchant B's key, A's own key). Per
    row: the statuses, the code of the three 401s, the code of B's 404 (or, when B gets its own data,
    which of A's objects that data names: none)."""
    got, expected = {}, {}
    for operation_id, (_, _, _, own_status, other_status) in sorted(ROWS.items()):
        responses = [
            _call(world, operation_id, secret, f"{operation_id}-{n}")
            for n, secret in enumerate([None, world.revoked, "sk_test_" + "0" * 40, world.other, world.own])
        ]
        texts = [_text(response) for response in responses]
        other, other_text = responses[3], texts[3]
        got[operation_id] = (
            [r.status_code for r in responses],
            [json.loads(text).get("code") for text in texts[:3]],
            json.loads(other_text).get("code") if other.status_code == 404 else None,
            [] if other.status_code == 404 else [name for name in A_OBJECTS if world.ids[name] in other_text],
        )
        expected[operation_id] = (
            [401, 401, 401, other_status, own_status],
            ["authentication_required"] * 3,
            "resource_missing" if other_status == 404 else None,
            [],
        )
    assert got == expected


def test_a_card_in_a_create_is_refused_without_auth_before_anything_is_written():
    api_user = integrator()
    response = Client().post(
        "/api/v1/payments",
        data=json.dumps({"amount": 100, "currency": "usd", "card": card_body()}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 401
    assert api_user.get("/payments").json()["data"] == []
