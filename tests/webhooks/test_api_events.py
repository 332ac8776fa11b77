"""Webhook events through the payments API: one event per change, none for a replayed request."""

import json

import pytest

from merchants.services.merchants import merchant_webhook_url_set
from tests.factories import TEST_ACTOR, make_api_key, make_merchant
from webhooks.selectors import webhook_delivery_list_for_entity

pytestmark = pytest.mark.engine


@pytest.fixture
def queued_only(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _post(client, secret, path, body, key):
    return client.post(
        f"/api/v1{path}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_an_api_payment_writes_one_event_and_its_replay_writes_none(client, queued_only, dynamodb_backend):
    merchant = make_merchant()
    merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="https://hooks.example.com/in")
    secret = make_api_key(merchant.merchant_id)
    body = {
        "amount": 1999,
        "currency": "usd",
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
    }

    first = _post(client, secret, "/payments", body, "order-1")
    replay = _post(client, secret, "/payments", body, "order-1")
    refund = _post(client, secret, f"/payments/{first.json()['id']}/refunds", {"amount": 999}, "refund-1")

    assert (first.status_code, replay.status_code, refund.status_code) == (201, 201, 201)
    deliveries = webhook_delivery_list_for_entity(merchant_id=merchant.merchant_id, entity_id=first.json()["id"])
    assert [d.event_type for d in reversed(deliveries)] == ["payment.succeeded", "payment.refunded"]
    created_event = json.loads(deliveries[-1].payload)
    assert created_event["data"]["object"] == first.json()
    assert "4242424242424242" not in deliveries[-1].payload and '"cvc"' not in deliveries[-1].payload
