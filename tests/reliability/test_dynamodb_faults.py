"""DynamoDB faults injected at the botocore level (tests/reliability/faults.py): transient ones are
retried away, persistent ones answer 503 `storage_unavailable` with `Retry-After` (a message on pages),
and no failed request leaves anything behind in any table."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client
from django.urls import reverse

from core import dynamodb, retry
from payments import selectors, services
from tests.factories import TEST_ACTOR, make_payment, make_user
from tests.payments.helpers import integrator, payment_body, problem
from tests.reliability import faults
from tests.reliability.faults import CONFLICT, CONNECTION, THROTTLED, THROTTLING, TIMEOUT

pytestmark = pytest.mark.django_db


def _payments_of(merchant_id: str) -> list:
    return list(selectors.payment_list_for_merchant(merchant_id=merchant_id, limit=100).items)


@pytest.mark.engine
@pytest.mark.parametrize("kind", [THROTTLED, THROTTLING, TIMEOUT, CONNECTION])
def test_a_transient_fault_on_every_kind_of_call_is_retried_and_the_payment_is_created_once(dynamodb_backend, kind):
    api = integrator()
    with faults.injected() as injected:
        for operation in ("GetItem", "PutItem", "TransactWriteItems"):
            injected.fail(operation, kind, times=1)
        response = api.post("/payments", payment_body(), key="k-transient")

    assert response.status_code == 201, response.content
    assert injected.injected["TransactWriteItems"] == 1 and injected.injected["PutItem"] == 1
    payments = _payments_of(api.merchant_id)
    assert [p.payment_id for p in payments] == [response.json()["id"]]
    replay = api.post("/payments", payment_body(), key="k-transient")
    assert replay.status_code == 201 and replay.json() == response.json()


@pytest.mark.engine
def test_a_transaction_conflict_sends_the_whole_transaction_again(dynamodb_backend):
    api = integrator()
    with faults.injected() as injected:
        injected.fail("TransactWriteItems", CONFLICT, times=retry.TRANSACTION_ATTEMPTS - 1)
        response = api.post("/payments", payment_body())

    assert response.status_code == 201, response.content
    assert injected.injected["TransactWriteItems"] == retry.TRANSACTION_ATTEMPTS - 1
    assert len(_payments_of(api.merchant_id)) == 1


@pytest.mark.engine
def test_a_refund_conflicting_until_the_retries_run_out_is_503_and_changes_nothing(dynamodb_backend):
    api = integrator()
    paid = api.create()
    before = faults.table_snapshot()
    with faults.injected() as injected:
        injected.fail("TransactWriteItems", CONFLICT)
        response = api.post(f"/payments/{paid['id']}/refunds", {"amount": 500}, key="k-refund")

    assert response.status_code == 503
    assert problem(response)["code"] == "storage_unavailable" and response["Retry-After"] == "1"
    assert injected.injected["TransactWriteItems"] == retry.TRANSACTION_ATTEMPTS
    assert faults.table_snapshot() == before
    retried = api.post(f"/payments/{paid['id']}/refunds", {"amount": 500}, key="k-refund")
    assert retried.status_code == 201, retried.content


@pytest.mark.engine
@pytest.mark.parametrize("kind", [THROTTLING, CONFLICT, TIMEOUT, CONNECTION])
def test_a_create_whose_commit_keeps_failing_is_503_with_retry_after_and_leaves_no_partial_state(
    dynamodb_backend, kind, settings
):
    settings.DYNAMODB = {**settings.DYNAMODB, "DEADLINE": 2.0}  # keep the throttling backoff short
    api = integrator()
    before = faults.table_snapshot()
    with faults.injected() as injected:
        injected.fail("TransactWriteItems", kind)
        response = api.post("/payments", payment_body(), key="k-down")

    assert response.status_code == 503, response.content
    body = problem(response)
    assert body["code"] == "storage_unavailable" and response["Retry-After"] == "1"
    assert injected.injected["TransactWriteItems"] >= 1
    # Every table as it was: no payment, ledger entry, summary, audit or webhook event, and the
    # Idempotency-Key's claim released, so the client's retry with the same key goes through.
    assert faults.table_snapshot() == before
    retried = api.post("/payments", payment_body(), key="k-down")
    assert retried.status_code == 201, retried.content
    assert len(_payments_of(api.merchant_id)) == 1


@pytest.mark.engine
@pytest.mark.parametrize("kind", [THROTTLED, TIMEOUT])
def test_reads_that_keep_failing_are_503_storage_unavailable(dynamodb_backend, kind, settings):
    settings.DYNAMODB = {**settings.DYNAMODB, "DEADLINE": 2.0}
    api = integrator()
    api.create()
    with faults.injected() as injected:
        injected.fail("Query", kind)
        response = api.get("/payments")
    assert response.status_code == 503
    assert problem(response)["code"] == "storage_unavailable" and response["Retry-After"] == "1"


def test_botocore_makes_every_attempt_within_the_deadline_and_none_past_it(settings):
    api = integrator()
    attempts = settings.DYNAMODB["MAX_ATTEMPTS"]
    with faults.injected() as injected:
        injected.fail("Query", CONNECTION)
        assert api.get("/payments").status_code == 503
    assert injected.injected["Query"] == attempts

    settings.DYNAMODB = {**settings.DYNAMODB, "DEADLINE": 0.0}
    with faults.injected() as injected:
        injected.fail("Query", CONNECTION)
        assert api.get("/payments").status_code == 503
    assert injected.injected["Query"] == 1


def test_a_transaction_conflict_is_retried_at_most_the_bounded_number_of_times():
    api = integrator()
    with faults.injected() as injected:
        injected.fail("TransactWriteItems", CONFLICT)
        assert api.post("/payments", payment_body()).status_code == 503
    assert injected.injected["TransactWriteItems"] == retry.TRANSACTION_ATTEMPTS


@pytest.mark.engine
def test_a_conditional_check_failure_is_not_retried_as_a_storage_fault(dynamodb_backend):
    """A real conflict stays a domain answer, never a 503. Another refund commits between this
    refund's read and its commit, so DynamoDB cancels its transaction (ConditionalCheckFailed on the
    refunded total it read); the service reads again and finds the refund would now take the refunded
    total past the captured amount: 422 `refund_exceeds_captured`, as the contract says."""
    api = integrator()
    paid = api.create(amount=1000)
    sent: Counter = Counter()

    def another_refund_first(event_name: str, **kwargs) -> None:
        sent["TransactWriteItems"] += 1
        if sent["TransactWriteItems"] == 1:  # this refund's commit, about to go: the other one wins
            services.refund_create(merchant_id=api.merchant_id, payment_id=paid["id"], actor=TEST_ACTOR, amount=600)

    events = dynamodb.connection().client.meta.events
    events.register_first("before-send.dynamodb.TransactWriteItems", another_refund_first, unique_id="race")
    try:
        response = api.post(f"/payments/{paid['id']}/refunds", {"amount": 500})
    finally:
        events.unregister("before-send.dynamodb.TransactWriteItems", unique_id="race")

    assert response.status_code == 422, response.content
    body = problem(response)
    assert (body["code"], body["param"]) == ("refund_exceeds_captured", "amount")
    assert sent["TransactWriteItems"] == 2  # the other refund's and this one's, cancelled and not sent again
    payment = api.get(f"/payments/{paid['id']}").json()
    assert payment["amount_refunded"] == 600 and payment["status"] == "partially_refunded"
    assert [t["amount"] for t in payment["transactions"] if t["type"] == "refund"] == [600]


@pytest.mark.engine_only
def test_a_transaction_applied_whose_answer_was_lost_is_not_applied_twice(dynamodb_backend):
    """botocore sends one ClientRequestToken for all attempts: DynamoDB answers the retry with the
    first attempt's result instead of applying it again."""
    api = integrator()
    with faults.lost_answer("TransactWriteItems") as sent:
        response = api.post("/payments", payment_body(), key="k-lost")

    assert sent["TransactWriteItems"] == 1
    assert response.status_code == 201, response.content
    payments = _payments_of(api.merchant_id)
    assert [p.payment_id for p in payments] == [response.json()["id"]]
    replay = api.post("/payments", payment_body(), key="k-lost")
    assert replay.status_code == 201 and replay.json()["id"] == response.json()["id"]


@pytest.mark.engine
def test_pages_show_a_503_message_when_storage_keeps_failing(dynamodb_backend, settings):
    settings.DYNAMODB = {**settings.DYNAMODB, "DEADLINE": 1.0}
    api = integrator()
    payment = make_payment(api.merchant_id)
    client = Client()
    client.force_login(make_user(merchant_id=api.merchant_id, role="admin"))
    before = faults.table_snapshot()

    with faults.injected() as injected:
        injected.fail("Query", TIMEOUT)
        page = client.get(reverse("payments:payment-list"))
    assert page.status_code == 503 and page["Retry-After"] == "1"
    assert "Temporarily unavailable" in page.content.decode()

    with faults.injected() as injected:
        injected.fail("TransactWriteItems", THROTTLING)
        refund = client.post(
            reverse("payments:payment-refund", args=[payment.payment_id]),
            {"confirm": "yes", "amount": "5.00"},
            HTTP_HX_REQUEST="true",
        )
    assert refund.status_code == 503 and "Temporarily unavailable" in refund.content.decode()
    assert faults.table_snapshot() == before
