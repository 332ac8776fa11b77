"""API key authentication: a write reads the key and its merchant, in one BatchGetItem once the
process has seen the key, and both are read afresh every time (a revoked key or a suspended
merchant counts at once); a replay's idempotency claim returns the stored record with its failed
condition, so it needs no read of its own."""

from __future__ import annotations

import json

import pytest

from merchants.models import Merchant
from merchants.services.api_keys import api_key_create, api_key_revoke
from merchants.services.settings import merchant_suspend
from tests.costs.capture import dynamodb_calls
from tests.factories import TEST_ACTOR
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.engine, pytest.mark.django_db]

BODY = {
    "amount": 2500,
    "currency": "usd",
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
    "capture": False,
}


def _create(client, secret: str, key: str, *, capture: bool = False):
    return client.post(
        "/api/v1/payments",
        json.dumps({**BODY, "capture": capture}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def _operations(calls) -> list[str]:
    return [call.operation for call in calls.calls]


def test_a_write_with_a_key_seen_before_reads_the_key_and_its_merchant_in_one_call(client, merchant):
    secret = api_key_create(merchant_id=merchant.merchant_id, name="auth", actor=TEST_ACTOR).secret
    with dynamodb_calls() as first:
        assert _create(client, secret, "first").status_code == 201
    with dynamodb_calls() as second:
        assert _create(client, secret, "second").status_code == 201

    assert _operations(first)[:3] == ["GetItem", "GetItem", "PutItem"]  # the key, then its merchant
    # the key and the merchant, the idempotency claim, the payment's transaction
    assert _operations(second)[:3] == ["BatchGetItem", "PutItem", "TransactWriteItems"]
    (read,) = second.of("BatchGetItem")
    assert len(read.params["RequestItems"]) == 2


def test_a_merchant_suspended_after_its_key_was_seen_is_refused_at_once(client, merchant):
    secret = api_key_create(merchant_id=merchant.merchant_id, name="auth", actor=TEST_ACTOR).secret
    assert _create(client, secret, "before").status_code == 201
    assert _create(client, secret, "warm").status_code == 201

    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Chargeback review")

    refused = _create(client, secret, "after")
    assert refused.status_code == 403 and refused.json()["code"] == "merchant_suspended"


def test_a_key_revoked_after_it_was_seen_is_refused_at_once(client, merchant):
    created = api_key_create(merchant_id=merchant.merchant_id, name="auth", actor=TEST_ACTOR)
    assert _create(client, created.secret, "before").status_code == 201
    assert _create(client, created.secret, "warm").status_code == 201

    api_key_revoke(key_id=created.key.key_id, actor=TEST_ACTOR)

    assert _create(client, created.secret, "after").status_code == 401


def test_a_replay_is_answered_from_the_claims_failed_condition_without_another_read(client, merchant):
    secret = api_key_create(merchant_id=merchant.merchant_id, name="auth", actor=TEST_ACTOR).secret
    first = _create(client, secret, "order-1")
    assert first.status_code == 201

    with dynamodb_calls() as calls:
        replayed = _create(client, secret, "order-1")

    assert replayed.status_code == 201 and replayed["Idempotent-Replayed"] == "true"
    assert replayed.content == first.content
    assert "GetItem" not in _operations(calls)
    assert _operations(calls)[:2] == ["BatchGetItem", "PutItem"]
    (claim, *_) = calls.of("PutItem")
    assert claim.params["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def _delivery_urls(merchant_id: str, payment_id: str) -> list[str]:
    return [d.url for d in WebhookDelivery.query(merchant_id) if d.entity_id == payment_id]


def test_a_captured_create_fans_its_event_out_from_the_merchant_its_key_was_read_with(client, merchant):
    secret = api_key_create(merchant_id=merchant.merchant_id, name="auth", actor=TEST_ACTOR).secret
    assert _create(client, secret, "warm").status_code == 201
    merchant.update(actions=[Merchant.webhook_url.set("https://hooks.test/legacy")])

    with dynamodb_calls() as calls:
        made = _create(client, secret, "captured", capture=True)

    assert made.status_code == 201
    # the key and the merchant, the claim, the endpoints subscribed, the transaction: no other merchant
    # read (the deliveries, run inline in tests, come after)
    assert _operations(calls)[:4] == ["BatchGetItem", "PutItem", "Query", "TransactWriteItems"]
    assert _delivery_urls(merchant.merchant_id, made.json()["id"]) == ["https://hooks.test/legacy"]

    merchant.update(actions=[Merchant.webhook_url.remove()])  # each request reads the merchant afresh
    again = _create(client, secret, "captured-again", capture=True)
    assert again.status_code == 201 and _delivery_urls(merchant.merchant_id, again.json()["id"]) == []
