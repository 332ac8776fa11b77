"""One wire format: the `...Out` schemas serialise every payment body, and the bytes an idempotent POST
stores are compact UTF-8 JSON in the schema's key order. Stored replays made before a change must still
match, so these bodies are written out here in full."""

import json

import pytest

from tests.payments.helpers import integrator, payment_body

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
