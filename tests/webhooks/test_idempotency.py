"""`Idempotency-Key` on the webhook endpoint POSTs that create something (optional there, as for
customers): a create, a secret rotation, a test event. A replay answers the first response byte for
byte, secret included, while the idempotency record keeps that secret sealed, never in clear."""

import json

import pytest

from audit.selectors import audit_event_list_for_entity
from idempotency.models import IdempotencyRecord
from idempotency.services import idempotency_claim, idempotency_record_key, request_fingerprint
from merchants.services.settings import merchant_suspend
from tests.factories import TEST_ACTOR, make_api_key, make_merchant
from tests.webhooks.test_services import Receiver
from webhooks.endpoints import webhook_endpoint_secrets
from webhooks.selectors import webhook_endpoint_get, webhook_endpoint_list

pytestmark = pytest.mark.engine

PUBLIC = "https://hooks.example.com/in"
BODY = {"url": PUBLIC, "events": ["payment.succeeded"], "description": "orders"}


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def api(client):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)

    def call(path, body=None, *, key=None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        if key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        data = "" if body is None else json.dumps(body)
        return client.post(f"/api/v1{path}", data=data, content_type="application/json", **headers)

    call.merchant_id = merchant.merchant_id
    return call


def _code(response):
    return json.loads(response.content)["code"]


def _record(merchant_id, endpoint, key):
    return IdempotencyRecord.get(idempotency_record_key(merchant_id=merchant_id, endpoint=endpoint, key=key))


def test_a_retried_create_with_the_same_key_answers_the_first_endpoint_and_secret(api, dynamodb_backend):
    first = api("/webhook-endpoints", BODY, key="we-1")
    again = api("/webhook-endpoints", dict(reversed(list(BODY.items()))), key="we-1")  # same body, other order

    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert [e.endpoint_id for e in webhook_endpoint_list(merchant_id=api.merchant_id)] == [first.json()["id"]]
    assert first.json()["secret"].startswith("whsec_")


def test_the_stored_response_keeps_the_secret_sealed(api, dynamodb_backend):
    created = api("/webhook-endpoints", BODY, key="we-sealed").json()

    stored = _record(api.merchant_id, "POST /webhook-endpoints", "we-sealed").response_body
    endpoint = webhook_endpoint_get(merchant_id=api.merchant_id, endpoint_id=created["id"])

    assert created["secret"] not in stored
    assert json.loads(stored)["secret"] == endpoint.secret and endpoint.secret.startswith("enc1:")
    assert {k: v for k, v in json.loads(stored).items() if k != "secret"} == {
        k: v for k, v in created.items() if k != "secret"
    }


def test_a_replay_after_a_rotation_still_answers_the_first_response(api, dynamodb_backend):
    first = api("/webhook-endpoints", BODY, key="we-rot")
    rotated = api(f"/webhook-endpoints/{first.json()['id']}/rotate-secret").json()

    again = api("/webhook-endpoints", BODY, key="we-rot")

    assert again.content == first.content and again.json()["secret"] != rotated["secret"]


def test_the_same_key_with_another_body_is_422_idempotency_key_reused(api, dynamodb_backend):
    api("/webhook-endpoints", BODY, key="we-2")

    other = api("/webhook-endpoints", {**BODY, "description": "refunds"}, key="we-2")

    assert other.status_code == 422 and _code(other) == "idempotency_key_reused"
    assert len(webhook_endpoint_list(merchant_id=api.merchant_id)) == 1


def test_the_same_key_while_the_first_request_runs_is_409_idempotency_key_in_use(api, dynamodb_backend):
    idempotency_claim(
        merchant_id=api.merchant_id,
        endpoint="POST /webhook-endpoints",
        key="we-3",
        fingerprint=request_fingerprint(body=json.dumps(BODY)),
    )

    response = api("/webhook-endpoints", BODY, key="we-3")

    assert response.status_code == 409 and _code(response) == "idempotency_key_in_use"
    assert response["Retry-After"]
    assert webhook_endpoint_list(merchant_id=api.merchant_id) == []


def test_a_refused_create_does_not_use_the_key_up(api, settings, dynamodb_backend):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    refused = api("/webhook-endpoints", {**BODY, "url": "https://127.0.0.1/in"}, key="we-4")

    created = api("/webhook-endpoints", BODY, key="we-4")

    assert refused.status_code == 422 and _code(refused) == "invalid_webhook_url"
    assert created.status_code == 201 and "Idempotent-Replayed" not in created


@pytest.mark.parametrize("key", ["", "é", "x" * 256])
def test_an_invalid_key_is_400_and_creates_nothing(api, key, dynamodb_backend):
    response = api("/webhook-endpoints", BODY, key=key)

    assert response.status_code == 400
    assert _code(response) in {"idempotency_key_invalid", "idempotency_key_missing"}
    assert webhook_endpoint_list(merchant_id=api.merchant_id) == []


def test_without_a_key_each_create_makes_an_endpoint(api, dynamodb_backend):
    api("/webhook-endpoints", BODY)
    api("/webhook-endpoints", BODY)

    assert len(webhook_endpoint_list(merchant_id=api.merchant_id)) == 2


def test_a_suspended_merchant_is_refused_before_the_key_is_claimed(api, dynamodb_backend):
    merchant_suspend(merchant_id=api.merchant_id, actor=TEST_ACTOR, reason="fraud review")

    response = api("/webhook-endpoints", BODY, key="we-5")

    assert response.status_code == 403 and _code(response) == "merchant_suspended"
    with pytest.raises(IdempotencyRecord.DoesNotExist):
        _record(api.merchant_id, "POST /webhook-endpoints", "we-5")


def test_a_retried_rotation_with_the_same_key_rotates_once(api, dynamodb_backend):
    created = api("/webhook-endpoints", BODY).json()
    path = f"/webhook-endpoints/{created['id']}/rotate-secret"

    first = api(path, key="rot-1")
    again = api(path, key="rot-1")

    assert first.status_code == 200 and again["Idempotent-Replayed"] == "true" and again.content == first.content
    endpoint = webhook_endpoint_get(merchant_id=api.merchant_id, endpoint_id=created["id"])
    assert webhook_endpoint_secrets(endpoint=endpoint, at=endpoint.updated) == [
        first.json()["secret"],
        created["secret"],
    ]
    rotations = [
        e
        for e in audit_event_list_for_entity(merchant_id=api.merchant_id, entity_id=created["id"])
        if e.action == "webhook_endpoint.rotate_secret"
    ]
    assert len(rotations) == 1
    stored = _record(api.merchant_id, f"POST {path}", "rot-1").response_body
    assert first.json()["secret"] not in stored and json.loads(stored)["secret"] == endpoint.secret


def test_a_rotation_key_is_scoped_to_its_endpoint(api, dynamodb_backend):
    one, two = (api("/webhook-endpoints", BODY).json() for _ in range(2))

    first = api(f"/webhook-endpoints/{one['id']}/rotate-secret", key="rot-2")
    second = api(f"/webhook-endpoints/{two['id']}/rotate-secret", key="rot-2")

    assert second.status_code == 200 and "Idempotent-Replayed" not in second
    assert first.json()["id"] == one["id"] and second.json()["id"] == two["id"]


def test_rotating_an_unknown_endpoint_is_404_and_does_not_use_the_key_up(api, dynamodb_backend):
    missing = api("/webhook-endpoints/we_01JZZZZZZZZZZZZZZZZZZZZZZZ/rotate-secret", key="rot-3")

    assert missing.status_code == 404
    with pytest.raises(IdempotencyRecord.DoesNotExist):
        _record(api.merchant_id, "POST /webhook-endpoints/we_01JZZZZZZZZZZZZZZZZZZZZZZZ/rotate-secret", "rot-3")


def test_a_retried_test_event_with_the_same_key_sends_one_ping(api, receiver, dynamodb_backend):
    created = api("/webhook-endpoints", {**BODY, "url": receiver.url}).json()
    path = f"/webhook-endpoints/{created['id']}/test"

    first = api(path, key="ping-1")
    again = api(path, key="ping-1")
    other = api(path, key="ping-2")

    assert first.status_code == 200 and first.json()["status"] == "delivered"
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert other.json()["id"] != first.json()["id"]
    assert len(receiver.requests) == 2
