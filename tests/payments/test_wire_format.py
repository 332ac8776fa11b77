"""One wire format: the `...Out` schemas serialise every payment body, and the bytes an idempotent POST
stores are compact UTF-8 JSON in the schema's key order. Stored replays made before a change must still
match, so these bodies are written out here in full."""

import json

import pytest

from payments.services.refund_approval import refund_approval_settings_set
from tests.factories import TEST_ACTOR
from tests.payments.helpers import integrator, payment_body
from tests.webhooks.test_services import Receiver
from webhooks.models import Event

pytestmark = pytest.mark.engine

DESCRIPTION = 'Café ☕ "quoted" \\ back\u2028line'
METADATA = {"ключ": "значение", "order": "A-17"}


def _text(value: str) -> str:
    """A JSON string as the wire writes it: UTF-8 kept, quotes, backslashes and controls escaped."""
    return json.dumps(value, ensure_ascii=False)


def _payment_bytes(body: dict, *, status: str, captured: int, refunded: int) -> str:
    card = body["card"]
    return (
        f'{{"id":"{body["id"]}","object":"payment","merchant_id":"{body["merchant_id"]}","amount":2500,'
        f'"currency":"usd","status":"{status}","amount_captured":{captured},"amount_refunded":{refunded},'
        f'"customer_id":null,"description":{_text(DESCRIPTION)},'
        f'"metadata":{{"ключ":"значение","order":"A-17"}},'
        f'"card":{{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2034,'
        f'"fingerprint":"{card["fingerprint"]}"}},"failure_code":null,"settlement_id":null,"disputed":false,'
        f'"created":"{body["created"]}","updated":"{body["updated"]}"}}'
    )


def test_the_stored_payment_body_is_compact_utf8_json_in_the_schemas_key_order(client, dynamodb_backend):
    api = integrator(client)

    response = api.post("/payments", payment_body(description=DESCRIPTION, metadata=METADATA), key="wire-1")
    replay = api.post("/payments", payment_body(description=DESCRIPTION, metadata=METADATA), key="wire-1")

    body = response.json()
    expected = _payment_bytes(body, status="succeeded", captured=2500, refunded=0)
    assert response.content.decode("utf-8") == expected
    assert replay["Idempotent-Replayed"] == "true" and replay.content == response.content
    assert body["created"].endswith("Z") and len(body["created"]) in (20, 24)  # seconds, or milliseconds


def test_the_refund_body_embeds_the_payment_in_the_same_format(client, dynamodb_backend):
    api = integrator(client)
    payment = api.create(description=DESCRIPTION, metadata=METADATA)

    response = api.post(f"/payments/{payment['id']}/refunds", {"amount": 500, "reason": "duplicate"})

    body = response.json()
    embedded = _payment_bytes(body["payment"], status="partially_refunded", captured=2500, refunded=500)
    assert response.content.decode("utf-8") == (
        f'{{"id":"{body["id"]}","object":"refund","payment_id":"{payment["id"]}","amount":500,"currency":"usd",'
        f'"status":"succeeded","reason":"duplicate","created":"{body["created"]}","payment":{embedded}}}'
    )


def test_a_read_serialises_the_same_object_with_its_ledger(client, dynamodb_backend):
    api = integrator(client)
    created = api.post("/payments", payment_body(description=DESCRIPTION, metadata=METADATA))

    read = api.get(f"/payments/{created.json()['id']}").json()
    listed = api.get("/payments").json()["data"]

    ledger = read.pop("transactions")
    assert list(read.items()) == list(created.json().items())
    keys = ["id", "object", "type", "amount", "currency", "status", "reason", "refund_id", "settlement_id", "created"]
    assert ledger and all(list(entry) == keys for entry in ledger)
    assert {entry["amount"] for entry in ledger} == {2500}
    assert listed == [created.json()]


# --- webhook endpoints, deliveries and events ---------------------------------------------------


def _endpoint_bytes(body: dict, *, url: str, secret: str | None = None) -> str:
    return (
        f'{{"id":"{body["id"]}","object":"webhook_endpoint","url":"{url}","events":["payment.succeeded"],'
        f'"description":{_text(DESCRIPTION)},"disabled":false,"status":"enabled","disabled_reason":null,'
        f'"created":"{body["created"]}","updated":"{body["updated"]}"'
        + ("" if secret is None else f',"secret":"{secret}"')
        + "}"
    )


def test_the_stored_webhook_endpoint_body_is_compact_utf8_json_in_the_schemas_key_order(client, dynamodb_backend):
    api = integrator(client)
    body = {"url": "https://hooks.example.com/in", "events": ["payment.succeeded"], "description": DESCRIPTION}

    response = api.post("/webhook-endpoints", body, key="wire-we")
    replay = api.post("/webhook-endpoints", body, key="wire-we")
    read = api.get(f"/webhook-endpoints/{response.json()['id']}").json()
    listed = api.get("/webhook-endpoints").json()["data"]

    created = response.json()
    assert response.content.decode("utf-8") == _endpoint_bytes(
        created, url="https://hooks.example.com/in", secret=created["secret"]
    )
    assert replay["Idempotent-Replayed"] == "true" and replay.content == response.content
    created.pop("secret")
    assert list(read.items()) == list(created.items()) and listed == [read]


def test_a_test_delivery_and_the_events_api_serialise_the_stored_items(client, dynamodb_backend):
    api = integrator(client)
    receiver = Receiver()
    try:
        endpoint = api.post(
            "/webhook-endpoints", {"url": receiver.url, "events": ["payment.succeeded"], "description": DESCRIPTION}
        ).json()
        ping = api.post(f"/webhook-endpoints/{endpoint['id']}/test", key="wire-ping")
    finally:
        receiver.close()
    payment = api.create(description=DESCRIPTION, metadata=METADATA)
    [event] = api.get("/events").json()["data"]

    delivery = ping.json()
    [attempt] = delivery["attempts"]
    assert ping.content.decode("utf-8") == (
        f'{{"id":"{delivery["event_id"]}:{endpoint["id"]}","object":"webhook_delivery",'
        f'"event_id":"{delivery["event_id"]}","endpoint_id":"{endpoint["id"]}","type":"ping","status":"delivered",'
        f'"attempts":[{{"at":"{attempt["at"]}","status_code":200,"error":null,'
        f'"duration_ms":{attempt["duration_ms"]}}}],"created":"{delivery["created"]}"}}'
    )
    assert isinstance(attempt["duration_ms"], int) and attempt["at"].endswith("Z")
    stored = Event.get(api.merchant_id, event["id"]).payload
    assert list(event) == ["id", "object", "type", "created", "data"]
    assert json.dumps(event, ensure_ascii=False, separators=(",", ":")) == stored
    assert api.get(f"/events/{event['id']}").json() == event
    assert event["data"]["object"] == {**payment, "updated": event["data"]["object"]["updated"]}


def test_the_stored_refund_request_body_is_compact_json_and_reads_serialise_the_same_object(
    client, db, dynamodb_backend
):
    api = integrator(client)
    refund_approval_settings_set(
        merchant_id=api.merchant_id, actor=TEST_ACTOR, thresholds={"usd": 1000}, api_refunds_need_approval=True
    )
    payment = api.create(description=DESCRIPTION, metadata=METADATA)

    response = api.post(f"/payments/{payment['id']}/refunds", {"amount": 2000, "reason": "duplicate"}, key="wire-rr")
    read = api.get(f"/refund-requests/{response.json()['id']}").json()
    listed = api.get("/refund-requests").json()["data"]

    body = response.json()
    assert response.status_code == 202 and response.content.decode("utf-8") == (
        f'{{"id":"{body["id"]}","object":"refund_request","payment_id":"{payment["id"]}","amount":2000,'
        f'"currency":"usd","reason":"duplicate","status":"pending_approval","requested_by":"{body["requested_by"]}",'
        f'"expires_at":"{body["expires_at"]}","created":"{body["created"]}","refund_id":null,"decided_by":null,'
        f'"decision_reason":null,"updated":"{body["updated"]}"}}'
    )
    assert list(read.items()) == list(body.items()) and listed == [read]
