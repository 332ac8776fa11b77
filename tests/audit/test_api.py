"""`GET /api/v1/audit-events`: newest first, paged, filtered, scoped to the key's merchant, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audit.services import audit_record
from core.actor import SYSTEM
from tests.factories import make_api_key, make_merchant, make_payment

pytestmark = pytest.mark.engine


def _get(client, secret, **params):
    return client.get("/api/v1/audit-events", params, HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_lists_the_merchants_events_newest_first_with_every_field(client, dynamodb_backend):
    merchant = make_merchant("Acme")
    other = make_merchant("Globex")
    secret = make_api_key(merchant.merchant_id)
    payment = make_payment(merchant.merchant_id)
    make_payment(other.merchant_id)

    body = _get(client, secret).json()

    actions = [event["action"] for event in body["data"]]
    assert actions == ["payment.create", "api_key.create", "merchant.create"]
    assert body["has_more"] is False and body["next_cursor"] is None
    created = body["data"][0]
    assert created["entity_id"] == payment.payment_id and created["outcome"] == "success"
    assert set(created) >= {
        "id",
        "occurred_at",
        "actor_type",
        "actor_id",
        "source_ip",
        "user_agent",
        "request_id",
        "before",
        "after",
    }
    assert all(event["id"].startswith("evt_") for event in body["data"])


def test_pages_with_starting_after_return_every_event_once(client, dynamodb_backend):
    merchant = make_merchant("Acme")
    secret = make_api_key(merchant.merchant_id)
    for _ in range(5):
        make_payment(merchant.merchant_id)

    seen, cursor = [], None
    while True:
        params = {"limit": 2, "action": "payment.create"}
        if cursor:
            params["starting_after"] = cursor
        body = _get(client, secret, **params).json()
        seen += [event["id"] for event in body["data"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break

    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)


def test_filters_by_entity_and_time_range(client, dynamodb_backend):
    merchant = make_merchant("Acme")
    secret = make_api_key(merchant.merchant_id)
    now = datetime.now(UTC)
    old = audit_record(
        merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.old", entity_id="pay_x", at=now - timedelta(days=3)
    )
    payment = make_payment(merchant.merchant_id)

    by_entity = _get(client, secret, entity_id=payment.payment_id).json()["data"]
    in_range = _get(
        client,
        secret,
        occurred_gte=(now - timedelta(days=4)).isoformat(),
        occurred_lt=(now - timedelta(days=2)).isoformat(),
    ).json()["data"]
    by_prefix = _get(client, secret, action="payment.").json()["data"]

    assert [e["action"] for e in by_entity] == ["payment.create"]
    assert [e["id"] for e in in_range] == [old.event_id]
    assert {e["action"] for e in by_prefix} == {"payment.create"}


def test_reading_the_audit_log_is_itself_audited(client, dynamodb_backend):
    merchant = make_merchant("Acme")
    secret = make_api_key(merchant.merchant_id)

    _get(client, secret)
    newest = _get(client, secret, limit=1).json()["data"][0]

    assert newest["action"] == "audit_log.read" and newest["actor_type"] == "api_key"


def test_bad_cursor_and_limit_are_422(client, dynamodb_backend):
    merchant = make_merchant("Acme")
    secret = make_api_key(merchant.merchant_id)

    assert _get(client, secret, starting_after="pay_01").json()["code"] == "invalid_cursor"
    assert _get(client, secret, limit=0).json()["code"] == "invalid_limit"
    assert _get(client, secret, limit=0).status_code == 422
