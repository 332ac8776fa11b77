"""Idempotency-Key semantics (API.md "Idempotency"), through the API and the idempotency service."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from idempotency import services as idempotency
from idempotency.models import IdempotencyRecord
from merchants.services.merchants import merchant_create
from payments import processor, selectors, services
from payments.enums import TransactionKind
from payments.models import DailySummary, Payment, Transaction
from payments.services.idempotency import idempotent_change
from tests.factories import TEST_ACTOR, card
from tests.payments.helpers import card_body, integrator, new_key, payment_body, problem

pytestmark = pytest.mark.engine


def _payment_count(merchant_id: str) -> int:
    return len(list(Payment.by_merchant.query(merchant_id)))


# --- replay ----------------------------------------------------------------------------------


def test_replay_returns_the_stored_status_and_body_byte_for_byte(client, dynamodb_backend):
    api = integrator(client)
    key = new_key()

    first = api.post("/payments", payment_body(), key=key)
    again = api.post("/payments", payment_body(), key=key)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert _payment_count(api.merchant_id) == 1


def test_replay_ignores_key_order_and_whitespace(client, dynamodb_backend):
    api = integrator(client)
    key = new_key()
    body = payment_body()
    first = api.post("/payments", body, key=key)

    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4)
    again = api.post("/payments", raw=reordered, key=key)

    assert again.content == first.content and again["Idempotent-Replayed"] == "true"


def test_a_decline_is_stored_and_replayed(client, dynamodb_backend):
    api = integrator(client)
    key = new_key()
    body = payment_body(card=card_body("4000000000000002"))

    first = api.post("/payments", body, key=key)
    again = api.post("/payments", body, key=key)

    assert first.status_code == again.status_code == 402
    assert again.content == first.content and again["Content-Type"] == "application/problem+json"
    assert again["Idempotent-Replayed"] == "true"
    assert _payment_count(api.merchant_id) == 1


@pytest.mark.parametrize("action, expected", [("capture", 200), ("cancel", 200), ("refunds", 201)])
def test_capture_cancel_and_refund_replay(client, dynamodb_backend, action, expected):
    api = integrator(client)
    payment = api.create(capture=action == "refunds", amount=900)
    key = new_key()

    first = api.post(f"/payments/{payment['id']}/{action}", key=key)
    again = api.post(f"/payments/{payment['id']}/{action}", key=key)

    assert first.status_code == again.status_code == expected
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    ledger = api.get(f"/payments/{payment['id']}").json()["transactions"]
    assert len(ledger) == (2 if action != "refunds" else 3)


def test_the_stored_response_is_the_response(client, dynamodb_backend):
    api = integrator(client)

    first = api.post("/payments", payment_body(), key="stored")

    record = IdempotencyRecord.get(f"{api.merchant_id}#POST /payments#stored", consistent_read=True)
    assert (record.status, record.response_status) == ("completed", 201)
    assert record.response_body.encode() == first.content
    assert abs(record.expires_at - record.created - timedelta(hours=24)) < timedelta(seconds=1)  # TTL: whole seconds
    assert "4242424242424242" not in str(record.serialize())


# --- reuse, in progress, missing -------------------------------------------------------------


def test_same_key_with_another_body_is_422_reused(client, dynamodb_backend):
    api = integrator(client)
    key = new_key()
    api.post("/payments", payment_body(amount=100), key=key)

    response = api.post("/payments", payment_body(amount=200), key=key)

    assert response.status_code == 422 and problem(response)["code"] == "idempotency_key_reused"
    assert _payment_count(api.merchant_id) == 1


def test_same_key_while_in_progress_is_409(client, dynamodb_backend):
    api = integrator(client)
    body = payment_body()
    idempotency.idempotency_claim(
        merchant_id=api.merchant_id,
        endpoint="POST /payments",
        key="busy",
        fingerprint=idempotency.request_fingerprint(body=json.dumps(body)),
    )

    response = api.post("/payments", body, key="busy")

    assert response.status_code == 409 and problem(response)["code"] == "idempotency_key_in_use"
    assert int(response["Retry-After"]) > 0
    assert _payment_count(api.merchant_id) == 0


@pytest.mark.parametrize(
    "path", ["/payments", "/payments/{id}/capture", "/payments/{id}/cancel", "/payments/{id}/refunds"]
)
def test_missing_key_is_400(client, dynamodb_backend, path):
    api = integrator(client)
    payment = api.create(capture=False)

    response = api.post(path.format(id=payment["id"]), payment_body() if path == "/payments" else None, key=None)

    assert response.status_code == 400 and problem(response)["code"] == "idempotency_key_missing"
    assert problem(response)["param"] == "Idempotency-Key"


@pytest.mark.parametrize("key", ["x" * 256, "caf\u00e9", "tab\there", "abc\n", "abc\r\n"])
def test_a_key_outside_1_to_255_printable_ascii_is_400(client, dynamodb_backend, key):
    api = integrator(client)

    response = api.post("/payments", payment_body(), key=key)

    assert response.status_code == 400 and problem(response)["code"] == "idempotency_key_invalid"
    assert _payment_count(api.merchant_id) == 0 and IdempotencyRecord.count() == 0


def test_a_255_character_key_is_accepted(client, dynamodb_backend):
    api = integrator(client)

    assert api.post("/payments", payment_body(), key="k" * 255).status_code == 201


def test_keys_are_scoped_to_merchant_and_endpoint(client, dynamodb_backend):
    ours, theirs = integrator(client), integrator()
    payment = ours.create()

    created = theirs.post("/payments", payment_body(amount=111), key="shared")
    refunded = ours.post(f"/payments/{payment['id']}/refunds", {"amount": 5}, key="shared")
    created_here = ours.post("/payments", payment_body(amount=222), key="shared")

    assert (created.status_code, refunded.status_code, created_here.status_code) == (201, 201, 201)


def test_validation_failures_are_not_stored(client, dynamodb_backend):
    api = integrator(client)
    key = new_key()

    rejected = api.post("/payments", payment_body(amount=0), key=key)
    accepted = api.post("/payments", payment_body(), key=key)

    assert rejected.status_code == 422 and accepted.status_code == 201
    assert "Idempotent-Replayed" not in accepted


def test_an_invalid_state_is_not_stored(client, dynamodb_backend):
    api = integrator(client)
    payment = api.create(capture=False)
    key = new_key()
    api.post(f"/payments/{payment['id']}/cancel", key=new_key())

    refused = api.post(f"/payments/{payment['id']}/capture", key=key)

    assert refused.status_code == 409 and problem(refused)["code"] == "invalid_state"
    assert IdempotencyRecord.count(f"{api.merchant_id}#POST /payments/{payment['id']}/capture#{key}") == 0


# --- expiry ----------------------------------------------------------------------------------


def test_an_expired_record_is_treated_as_absent(client, dynamodb_backend):
    api = integrator(client)
    long_ago = datetime.now(UTC) - timedelta(hours=25)
    stored = idempotent_change(
        merchant_id=api.merchant_id,
        endpoint="POST /payments",
        key="old",
        fingerprint=idempotency.request_fingerprint(body=json.dumps(payment_body(amount=100))),
        change=lambda hook: services.payment_create(
            merchant_id=api.merchant_id,
            actor=TEST_ACTOR,
            amount=100,
            currency="usd",
            card=card(),
            also_in_transaction=hook,
        ),
        render=lambda outcome: (201, outcome.payment.payment_id),
        now=long_ago,
    )
    assert IdempotencyRecord.count() == 1  # still there: DynamoDB Local never deletes by TTL

    response = api.post("/payments", payment_body(amount=200), key="old")

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert response.json()["id"] != stored.body and response.json()["amount"] == 200


@pytest.mark.django_db  # the takeover asks the (sandbox) processor about the abandoned reference
def test_an_abandoned_in_progress_record_is_taken_over_after_its_lock_expires(
    client, dynamodb_backend, settings, monkeypatch
):
    api = integrator(client)
    body = payment_body()
    abandoned = idempotency.idempotency_claim(
        merchant_id=api.merchant_id,
        endpoint="POST /payments",
        key="abandoned",
        fingerprint=idempotency.request_fingerprint(body=json.dumps(body)),
        now=datetime.now(UTC) - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS + 5),
    )
    asked = _spy_on_references(monkeypatch)

    response = api.post("/payments", body, key="abandoned")

    assert response.status_code == 201 and _payment_count(api.merchant_id) == 1
    # The request that died may have reached the processor: the same request there, asked first.
    assert asked == [("lookup", abandoned.reference), ("authorize", abandoned.reference)]


def test_a_request_that_lost_its_lock_commits_nothing(dynamodb_backend):
    """The completion is conditioned on the lock token in the payment's own transaction: when another
    request took the key over, the payment is not written either."""
    merchant = merchant_create(name="M", actor=TEST_ACTOR)

    def change(hook):
        IdempotencyRecord(idempotency_key=f"{merchant.merchant_id}#POST /payments#k").update(
            actions=[IdempotencyRecord.lock_token.set("someone-else")]
        )
        return services.payment_create(
            merchant_id=merchant.merchant_id,
            actor=TEST_ACTOR,
            amount=100,
            currency="usd",
            card=card(),
            also_in_transaction=hook,
        )

    with pytest.raises(idempotency.IdempotencyKeyInUse):
        idempotent_change(
            merchant_id=merchant.merchant_id,
            endpoint="POST /payments",
            key="k",
            fingerprint="f",
            change=change,
            render=lambda outcome: (201, "{}"),
        )

    assert _payment_count(merchant.merchant_id) == 0 and Transaction.count() == 0


def _spy_on_references(monkeypatch) -> list[tuple[str, str]]:
    """Which processor calls were made, with which reference."""
    asked: list[tuple[str, str]] = []
    for name in ("authorize", "lookup"):
        real = getattr(processor, name)

        def spy(*, _name=name, _real=real, **kwargs):
            asked.append((_name, kwargs["reference"]))
            return _real(**kwargs)

        monkeypatch.setattr(processor, name, spy)
    return asked


# --- a crash between the processor call and the commit ----------------------------------------


@pytest.mark.django_db  # the retry asks the (sandbox) processor about the crashed request's reference
def test_a_crash_after_the_processor_leaves_nothing_half_written_and_the_key_retryable(
    client, dynamodb_backend, monkeypatch
):
    api = integrator(client)
    real_authorize = processor.authorize
    calls = []

    def authorize_then_crash(**kwargs):
        calls.append((kwargs["reference"], real_authorize(**kwargs)))
        raise RuntimeError("worker killed between the processor call and the commit")

    monkeypatch.setattr(processor, "authorize", authorize_then_crash)
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        api.post("/payments", payment_body(), key="crash")

    [(reference, authorization)] = calls
    assert authorization.approved
    assert _payment_count(api.merchant_id) == 0
    assert Transaction.count() == 0 and DailySummary.count(api.merchant_id) == 0
    # The processor may hold an authorization under the claim's reference: the claim is kept with
    # it, its lock released, so the retry is the same request at the processor.
    [record] = IdempotencyRecord.scan()
    assert (record.status, record.reference, record.lock_expires_at) == ("in_progress", reference, 0)

    monkeypatch.setattr(processor, "authorize", real_authorize)
    asked = _spy_on_references(monkeypatch)
    retried = api.post("/payments", payment_body(), key="crash")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert _payment_count(api.merchant_id) == 1
    assert asked == [("lookup", reference), ("authorize", reference)]


# --- concurrency (DynamoDB Local only: moto is not thread-safe) --------------------------------


def _race(count: int, request) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        results[index] = request(index)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.engine_only
def test_twenty_concurrent_requests_with_one_new_key_create_exactly_one_payment(dynamodb_backend):
    api = integrator()
    body = json.dumps(payment_body())

    def send(_: int):
        response = Client().post(
            "/api/v1/payments", data=body, content_type="application/json", **api.headers("race-key")
        )
        return response.status_code, response.content, response.get("Idempotent-Replayed")

    results = _race(20, send)

    assert _payment_count(api.merchant_id) == 1
    created = [r for r in results if r[0] == 201]
    assert created and {content for _, content, _ in created} == {created[0][1]}
    assert sum(1 for r in created if r[2] is None) <= 1  # one original; the other 201s are replays
    assert all(r[0] in (201, 409) for r in results), [r[0] for r in results]
    for status, content, _ in results:
        if status == 409:
            assert json.loads(content)["code"] == "idempotency_key_in_use"
    payment_id = json.loads(created[0][1])["id"]
    assert [t.kind for t in selectors.transaction_list_for_payment(payment_id=payment_id)] == [
        TransactionKind.AUTHORIZATION,
        TransactionKind.CAPTURE,
    ]


@pytest.mark.engine_only
def test_ten_racing_refunds_never_exceed_the_captured_amount(dynamodb_backend):
    api = integrator()
    payment = api.create(amount=1000)

    def refund(index: int):
        response = Client().post(
            f"/api/v1/payments/{payment['id']}/refunds",
            data=json.dumps({"amount": 150}),
            content_type="application/json",
            **api.headers(f"refund-{index}"),
        )
        return response.status_code, json.loads(response.content)

    results = _race(10, refund)

    statuses = [status for status, _ in results]
    assert set(statuses) <= {201, 409, 422}, statuses
    succeeded = [body for status, body in results if status == 201]
    stored = selectors.payment_get(merchant_id=api.merchant_id, payment_id=payment["id"])
    ledger = [
        t for t in selectors.transaction_list_for_payment(payment_id=payment["id"]) if t.kind == TransactionKind.REFUND
    ]
    assert stored.amount_refunded == 150 * len(succeeded) == sum(int(t.amount) for t in ledger) <= 1000
    assert len(succeeded) >= 1
    assert {body["id"] for body in succeeded} == {t.refund_id for t in ledger}
