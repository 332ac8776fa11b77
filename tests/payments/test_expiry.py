"""Uncaptured authorizations expire after 7 days: the sweep voids them at the processor and cancels
them through the cancel service (ledger, counters, audit event, webhook event), once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.selectors import audit_event_list_for_entity
from core import dynamodb
from core.ids import now as clock_now
from payments import processor, selectors, services
from payments.enums import PaymentStatus, TransactionKind
from payments.errors import InvalidPaymentState, ProcessorError
from payments.models import DailySummary
from payments.services import expiry
from payments.services.captures import AUTHORIZATION_LIFETIME, authorization_expires_at
from sandbox.models import SandboxAuthorization
from tests.factories import TEST_ACTOR, VISA, make_api_key, make_merchant, make_payment
from webhooks.selectors import event_list_for_merchant

pytestmark = [pytest.mark.engine, pytest.mark.django_db]

WEEK_AND_A_BIT = AUTHORIZATION_LIFETIME + timedelta(minutes=5)


def _authorized(merchant_id: str, *, age: timedelta, amount: int = 3182):
    return make_payment(merchant_id, amount=amount, capture=False, now=clock_now() - age)


def _status(merchant_id: str, payment_id: str) -> str:
    return selectors.payment_get(merchant_id=merchant_id, payment_id=payment_id).status


def _count(merchant_id: str, name: str) -> int:
    return sum(item.value(name) for item in DailySummary.query(merchant_id, consistent_read=True))


def _canceled_events(merchant_id: str) -> list:
    return event_list_for_merchant(merchant_id=merchant_id, event_type="payment.canceled", limit=100).items


@pytest.fixture
def operations():
    """The DynamoDB operations sent while the test runs (names only)."""
    sent: list[str] = []
    client = dynamodb.connection().client

    def record(model, params, **kwargs):
        table = params.get("TableName", "").removeprefix(dynamodb.table_name(""))
        sent.append(f"{model.name} {table} {params.get('IndexName', '')}".strip())

    client.meta.events.register("before-parameter-build.dynamodb", record, unique_id="expiry-operations")
    yield sent
    client.meta.events.unregister("before-parameter-build.dynamodb", unique_id="expiry-operations")


def test_the_sweep_voids_and_cancels_only_authorizations_older_than_seven_days(dynamodb_backend):
    merchant = make_merchant()
    old = _authorized(merchant.merchant_id, age=WEEK_AND_A_BIT)
    young = _authorized(merchant.merchant_id, age=timedelta(days=6, hours=23))
    captured = _authorized(merchant.merchant_id, age=WEEK_AND_A_BIT)
    services.payment_capture(
        merchant_id=merchant.merchant_id,
        payment_id=captured.payment_id,
        actor=TEST_ACTOR,
        now=clock_now() - timedelta(days=7),
    )

    report = expiry.authorization_expire_due()

    assert report.expired == [old.payment_id]
    assert _status(merchant.merchant_id, old.payment_id) == PaymentStatus.CANCELED
    assert _status(merchant.merchant_id, young.payment_id) == PaymentStatus.REQUIRES_CAPTURE
    assert _status(merchant.merchant_id, captured.payment_id) == PaymentStatus.SUCCEEDED
    # Voided at the processor under the payment's reference: nothing can be charged under it any more.
    voided = processor.lookup(reference=expiry.processor_reference_of(old))
    assert voided is not None and voided.voided
    # The cancel service's transaction: ledger, counters, audit event by the system, webhook event.
    ledger = selectors.transaction_list_for_payment(payment_id=old.payment_id)
    assert [(t.kind, t.reason) for t in ledger] == [
        (TransactionKind.AUTHORIZATION, None),
        (TransactionKind.CANCEL, expiry.EXPIRED_REASON),
    ]
    assert _count(merchant.merchant_id, "count_canceled") == 1
    assert _count(merchant.merchant_id, "count_requires_capture") == 1
    cancel = [
        e
        for e in audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=old.payment_id)
        if e.action == "payment.cancel"
    ]
    assert len(cancel) == 1 and cancel[0].actor_type == "system" and "expired" in cancel[0].detail
    assert [e.entity_id for e in _canceled_events(merchant.merchant_id)] == [old.payment_id]


def test_running_the_sweep_twice_expires_nothing_twice(dynamodb_backend):
    merchant = make_merchant()
    old = _authorized(merchant.merchant_id, age=WEEK_AND_A_BIT)

    first = expiry.authorization_expire_due()
    second = expiry.authorization_expire_due()
    again = expiry.authorization_expire(merchant_id=merchant.merchant_id, payment_id=old.payment_id)  # a stale index

    assert first.expired == [old.payment_id]
    assert second.expired == [] and again == expiry.UNCHANGED
    ledger = selectors.transaction_list_for_payment(payment_id=old.payment_id)
    assert [t.kind for t in ledger].count(TransactionKind.CANCEL) == 1
    assert _count(merchant.merchant_id, "count_canceled") == 1
    assert len(_canceled_events(merchant.merchant_id)) == 1


def test_a_payment_captured_before_the_sweep_reads_it_is_left_alone_and_not_voided(dynamodb_backend):
    merchant = make_merchant()
    payment = _authorized(merchant.merchant_id, age=WEEK_AND_A_BIT)
    services.payment_capture(
        merchant_id=merchant.merchant_id,
        payment_id=payment.payment_id,
        actor=TEST_ACTOR,
        now=clock_now() - timedelta(days=7),
    )

    # As if the (eventually consistent) index still listed it as awaiting capture.
    outcome = expiry.authorization_expire(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)

    assert outcome == expiry.UNCHANGED
    assert _status(merchant.merchant_id, payment.payment_id) == PaymentStatus.SUCCEEDED
    assert processor.lookup(reference=expiry.processor_reference_of(payment)) is None  # no void sent


def test_the_cancel_is_conditional_so_a_capture_that_lands_during_the_void_wins(dynamodb_backend, monkeypatch):
    merchant = make_merchant()
    payment = _authorized(merchant.merchant_id, age=WEEK_AND_A_BIT)
    real_void = processor.void

    def void_while_a_capture_commits(**kwargs):
        real_void(**kwargs)
        services.payment_capture(  # started before the expiry, committed while the sweep voided
            merchant_id=merchant.merchant_id,
            payment_id=payment.payment_id,
            actor=TEST_ACTOR,
            now=clock_now() - timedelta(minutes=10),
        )

    monkeypatch.setattr(processor, "void", void_while_a_capture_commits)

    outcome = expiry.authorization_expire(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)

    assert outcome == expiry.UNCHANGED
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert (stored.status, int(stored.amount_captured)) == (PaymentStatus.SUCCEEDED, 3182)
    kinds = [t.kind for t in selectors.transaction_list_for_payment(payment_id=payment.payment_id)]
    assert TransactionKind.CANCEL not in kinds


def test_a_void_the_processor_cannot_take_leaves_the_authorization_for_the_next_sweep(dynamodb_backend, monkeypatch):
    merchant = make_merchant()
    payment = _authorized(merchant.merchant_id, age=WEEK_AND_A_BIT)

    def unavailable(**kwargs):
        raise ProcessorError("The processor is unavailable.")

    with monkeypatch.context() as patched:
        patched.setattr(processor, "void", unavailable)
        failed = expiry.authorization_expire_due()
    assert failed.outcomes[expiry.VOID_FAILED] == 1 and failed.expired == []
    assert _status(merchant.merchant_id, payment.payment_id) == PaymentStatus.REQUIRES_CAPTURE

    assert expiry.authorization_expire_due().expired == [payment.payment_id]
    assert _status(merchant.merchant_id, payment.payment_id) == PaymentStatus.CANCELED


def test_an_authorization_not_yet_due_is_not_expired_even_when_asked_directly(dynamodb_backend):
    merchant = make_merchant()
    payment = _authorized(merchant.merchant_id, age=timedelta(days=6))

    assert (
        expiry.authorization_expire(merchant_id=merchant.merchant_id, payment_id=payment.payment_id) == expiry.NOT_DUE
    )
    assert _status(merchant.merchant_id, payment.payment_id) == PaymentStatus.REQUIRES_CAPTURE


def test_an_expired_authorization_can_no_longer_be_captured(dynamodb_backend):
    merchant = make_merchant()
    payment = _authorized(merchant.merchant_id, age=WEEK_AND_A_BIT)
    assert authorization_expires_at(payment) == payment.created + AUTHORIZATION_LIFETIME

    with pytest.raises(InvalidPaymentState, match="expired"):
        services.payment_capture(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)

    assert _status(merchant.merchant_id, payment.payment_id) == PaymentStatus.REQUIRES_CAPTURE


def test_the_sweep_queries_the_status_index_per_merchant_and_never_scans(dynamodb_backend, operations):
    merchants = [make_merchant(), make_merchant()]
    for merchant in merchants:
        _authorized(merchant.merchant_id, age=WEEK_AND_A_BIT)
        for _ in range(3):
            make_payment(merchant.merchant_id)  # captured payments the sweep must not read
    operations.clear()

    report = expiry.authorization_expire_due(merchant_ids=[m.merchant_id for m in merchants])

    assert len(report.expired) == 2 and report.checked == 2
    assert not [name for name in operations if name.startswith("Scan")]
    payment_queries = [name for name in operations if name.startswith("Query payments")]
    assert payment_queries == ["Query payments by-merchant-status"] * 2  # one per merchant, bounded by the cutoff


def test_an_authorization_made_with_an_idempotency_key_is_voided_under_the_reference_it_was_authorized_by(
    client, dynamodb_backend, monkeypatch
):
    # The processor reference of an API request is random and kept by its idempotency claim for 24 h
    # only; the payment keeps it, so the void 7 days later reaches the authorization.
    merchant = make_merchant()
    authorized: list[str] = []
    real_authorize = processor.authorize

    def authorize(**kwargs):
        authorized.append(kwargs["reference"])
        return real_authorize(**kwargs)

    monkeypatch.setattr(processor, "authorize", authorize)
    card = {"number": VISA, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    response = client.post(
        "/api/v1/payments",
        data={"amount": 4100, "currency": "usd", "capture": False, "card": card},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant.merchant_id)}",
        HTTP_IDEMPOTENCY_KEY="expiry-reference-1",
    )
    assert response.status_code == 201, response.content
    payment_id = response.json()["id"]
    assert len(authorized) == 1 and authorized[0] != processor.reference_for(payment_id)

    expiry.authorization_expire_due(now=clock_now() + WEEK_AND_A_BIT, merchant_ids=[merchant.merchant_id])

    assert _status(merchant.merchant_id, payment_id) == PaymentStatus.CANCELED
    assert SandboxAuthorization.objects.get(reference=authorized[0]).voided_at is not None
