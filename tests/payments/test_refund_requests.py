"""Four-eyes approval of large refunds: the services and the API, on moto and DynamoDB Local."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from audit.selectors import audit_event_list_for_entity
from core.actor import Actor
from core.errors import InvalidState, ValidationFailed
from core.ids import now as clock_now
from merchants.services.merchants import merchant_webhook_url_set
from payments import selectors
from payments.enums import RefundRequestStatus, TransactionKind
from payments.errors import ApprovalByRequester
from payments.services import refund_requests
from payments.services.refund_approval import refund_approval_settings_set
from payments.services.refund_requests import (
    REQUEST_LIFETIME,
    Channel,
    refund_or_request_create,
    refund_request_approve,
    refund_request_create,
    refund_request_expire_due,
    refund_request_reject,
)
from payments.tasks import payment_recover_sweep_task
from tests.factories import TEST_ACTOR, make_payment
from tests.payments.helpers import integrator, new_key, problem
from webhooks.selectors import webhook_delivery_list_for_entity

REQUESTER = Actor(type="user", id="rita", ip="127.0.0.1")
APPROVER = Actor(type="user", id="alice", ip="127.0.0.1")


def _threshold(merchant_id: str, amount: int = 5000, *, api: bool = False) -> None:
    refund_approval_settings_set(
        merchant_id=merchant_id, actor=TEST_ACTOR, thresholds={"usd": amount}, api_refunds_need_approval=api
    )


def _ask(merchant_id: str, payment_id: str, amount: int | None, *, actor: Actor = REQUESTER):
    return refund_or_request_create(
        merchant_id=merchant_id, payment_id=payment_id, actor=actor, channel=Channel.DASHBOARD, amount=amount
    )


def _ledger_refunds(payment_id: str) -> list:
    entries = selectors.transaction_list_for_payment(payment_id=payment_id)
    return [entry for entry in entries if entry.kind == TransactionKind.REFUND]


# --- threshold ------------------------------------------------------------------------------


@pytest.mark.engine
def test_a_dashboard_refund_below_the_threshold_is_made_at_once(merchant, dynamodb_backend):
    _threshold(merchant.merchant_id, 5000)
    payment = make_payment(merchant.merchant_id, amount=10000)

    refund = _ask(merchant.merchant_id, payment.payment_id, 4999)

    assert refund.refund_id.startswith("re_")
    assert (
        int(selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).amount_refunded)
        == 4999
    )


@pytest.mark.engine
def test_a_dashboard_refund_at_the_threshold_becomes_a_request_and_nothing_moves(merchant, dynamodb_backend):
    _threshold(merchant.merchant_id, 5000)
    payment = make_payment(merchant.merchant_id, amount=10000)

    request = _ask(merchant.merchant_id, payment.payment_id, 5000)

    assert request.request_id.startswith("rr_")
    assert request.status == RefundRequestStatus.PENDING_APPROVAL
    after = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(after.amount_refunded) == 0 and after.status == "succeeded"
    assert int(after.amount_pending_refund) == 5000
    assert _ledger_refunds(payment.payment_id) == []
    (event,) = audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=request.request_id)
    assert (event.action, event.actor_id) == ("refund_request.create", "rita")


def test_the_rest_of_a_payment_is_measured_against_the_threshold(merchant):
    _threshold(merchant.merchant_id, 5000)
    payment = make_payment(merchant.merchant_id, amount=6000)

    request = _ask(merchant.merchant_id, payment.payment_id, None)

    assert int(request.amount) == 6000


def test_a_threshold_in_another_currency_does_not_apply(merchant):
    refund_approval_settings_set(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, thresholds={"eur": 100}, api_refunds_need_approval=True
    )
    payment = make_payment(merchant.merchant_id, amount=10000)

    refund = _ask(merchant.merchant_id, payment.payment_id, 10000)

    assert refund.refund_id.startswith("re_")


def test_thresholds_are_validated(merchant):
    with pytest.raises(ValidationFailed) as bad_currency:
        refund_approval_settings_set(
            merchant_id=merchant.merchant_id, actor=TEST_ACTOR, thresholds={"xxx": 100}, api_refunds_need_approval=False
        )
    with pytest.raises(ValidationFailed) as bad_amount:
        refund_approval_settings_set(
            merchant_id=merchant.merchant_id, actor=TEST_ACTOR, thresholds={"usd": 0}, api_refunds_need_approval=False
        )

    assert bad_currency.value.code == "invalid_currency"
    assert bad_amount.value.code == "amount_too_small"


# --- decisions ------------------------------------------------------------------------------


@pytest.mark.engine
def test_the_requester_can_neither_approve_nor_reject(merchant, dynamodb_backend):
    _threshold(merchant.merchant_id)
    payment = make_payment(merchant.merchant_id, amount=10000)
    request = _ask(merchant.merchant_id, payment.payment_id, 8000)

    with pytest.raises(ApprovalByRequester):
        refund_request_approve(merchant_id=merchant.merchant_id, request_id=request.request_id, actor=REQUESTER)
    with pytest.raises(ApprovalByRequester):
        refund_request_reject(
            merchant_id=merchant.merchant_id, request_id=request.request_id, actor=REQUESTER, reason="no"
        )

    stored = selectors.refund_request_get(merchant_id=merchant.merchant_id, request_id=request.request_id)
    assert stored.status == RefundRequestStatus.PENDING_APPROVAL
    assert _ledger_refunds(payment.payment_id) == []


@pytest.mark.engine
def test_approval_moves_the_money_once_and_names_both_people(merchant, dynamodb_backend):
    _threshold(merchant.merchant_id)
    payment = make_payment(merchant.merchant_id, amount=10000)
    request = _ask(merchant.merchant_id, payment.payment_id, 8000)

    approved = refund_request_approve(merchant_id=merchant.merchant_id, request_id=request.request_id, actor=APPROVER)
    with pytest.raises(InvalidState):
        refund_request_approve(merchant_id=merchant.merchant_id, request_id=request.request_id, actor=APPROVER)

    assert approved.status == RefundRequestStatus.APPROVED and approved.refund_id.startswith("re_")
    stored = selectors.refund_request_get(merchant_id=merchant.merchant_id, request_id=request.request_id)
    assert (stored.status, stored.refund_id, stored.decided_by) == ("approved", approved.refund_id, "alice")
    after = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert (int(after.amount_refunded), int(after.amount_pending_refund), after.status) == (
        8000,
        0,
        "partially_refunded",
    )
    (refund_entry,) = _ledger_refunds(payment.payment_id)
    assert (int(refund_entry.amount), refund_entry.refund_id) == (8000, approved.refund_id)
    refund_event = next(
        e
        for e in audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=payment.payment_id)
        if e.action == "payment.refund"
    )
    assert (
        refund_event.actor_id == "alice" and "rita" in refund_event.detail and request.request_id in refund_event.detail
    )
    actions = {
        e.action for e in audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=request.request_id)
    }
    assert actions == {"refund_request.create", "refund_request.approve"}


@pytest.mark.engine
def test_rejection_needs_a_reason_releases_the_hold_and_moves_nothing(merchant, dynamodb_backend):
    _threshold(merchant.merchant_id)
    payment = make_payment(merchant.merchant_id, amount=10000)
    request = _ask(merchant.merchant_id, payment.payment_id, 8000)

    with pytest.raises(ValidationFailed):
        refund_request_reject(
            merchant_id=merchant.merchant_id, request_id=request.request_id, actor=APPROVER, reason=" "
        )
    rejected = refund_request_reject(
        merchant_id=merchant.merchant_id, request_id=request.request_id, actor=APPROVER, reason="customer kept it"
    )

    assert (rejected.status, rejected.decision_reason) == ("rejected", "customer kept it")
    after = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert (int(after.amount_refunded), int(after.amount_pending_refund)) == (0, 0)
    assert _ledger_refunds(payment.payment_id) == []
    with pytest.raises(InvalidState):
        refund_request_approve(merchant_id=merchant.merchant_id, request_id=request.request_id, actor=APPROVER)


# --- holds and expiry -----------------------------------------------------------------------


@pytest.mark.engine
def test_two_pending_requests_cannot_together_exceed_the_captured_amount(merchant, dynamodb_backend):
    _threshold(merchant.merchant_id)
    payment = make_payment(merchant.merchant_id, amount=10000)
    _ask(merchant.merchant_id, payment.payment_id, 6000)

    with pytest.raises(ValidationFailed) as second:
        _ask(merchant.merchant_id, payment.payment_id, 5000)
    with pytest.raises(ValidationFailed) as small:  # below the threshold, but only 4000 are left
        _ask(merchant.merchant_id, payment.payment_id, 4001)
    fits = _ask(merchant.merchant_id, payment.payment_id, 4000)

    assert second.value.code == small.value.code == "refund_exceeds_captured"
    assert fits.refund_id.startswith("re_")
    after = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert (int(after.amount_refunded), int(after.amount_pending_refund)) == (4000, 6000)


@pytest.mark.engine
def test_an_expired_request_reads_expired_cannot_be_approved_and_the_sweep_releases_its_hold(
    merchant, dynamodb_backend
):
    _threshold(merchant.merchant_id)
    payment = make_payment(merchant.merchant_id, amount=10000)
    request = _ask(merchant.merchant_id, payment.payment_id, 8000)
    later = clock_now() + REQUEST_LIFETIME + timedelta(seconds=1)

    stored = selectors.refund_request_get(merchant_id=merchant.merchant_id, request_id=request.request_id)
    assert selectors.refund_request_status(stored, now=later) == "expired"
    assert selectors.refund_request_status(stored) == "pending_approval"
    with pytest.raises(InvalidState):
        refund_request_approve(
            merchant_id=merchant.merchant_id, request_id=request.request_id, actor=APPROVER, now=later
        )
    assert refund_request_expire_due(now=later) == 1
    assert refund_request_expire_due(now=later) == 0

    stored = selectors.refund_request_get(merchant_id=merchant.merchant_id, request_id=request.request_id)
    assert stored.status == RefundRequestStatus.EXPIRED
    after = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert (int(after.amount_refunded), int(after.amount_pending_refund)) == (0, 0)


def test_a_refund_that_needs_the_room_of_an_expired_request_releases_it(merchant, monkeypatch):
    _threshold(merchant.merchant_id)
    payment = make_payment(merchant.merchant_id, amount=10000)
    request = _ask(merchant.merchant_id, payment.payment_id, 8000)
    later = clock_now() + REQUEST_LIFETIME + timedelta(seconds=1)
    monkeypatch.setattr(refund_requests, "clock_now", lambda: later)

    refund = _ask(merchant.merchant_id, payment.payment_id, 4000)

    assert int(refund.amount) == 4000
    stored = selectors.refund_request_get(merchant_id=merchant.merchant_id, request_id=request.request_id)
    assert stored.status == RefundRequestStatus.EXPIRED


# --- API ------------------------------------------------------------------------------------


def _api_with_approval(*, api: bool = True, threshold: int = 5000):
    seller = integrator()
    _threshold(seller.merchant_id, threshold, api=api)
    payment = seller.create(amount=10000)
    return seller, payment


@pytest.mark.engine
def test_api_refund_at_the_threshold_answers_202_with_the_request_and_replays_it(db, dynamodb_backend):
    seller, payment = _api_with_approval()
    key = new_key()

    first = seller.post(f"/payments/{payment['id']}/refunds", {"amount": 5000, "reason": "duplicate"}, key=key)
    again = seller.post(f"/payments/{payment['id']}/refunds", {"amount": 5000, "reason": "duplicate"}, key=key)

    assert first.status_code == 202, first.content
    body = first.json()
    assert set(body) >= {"id", "object", "payment_id", "amount", "currency", "reason", "status", "requested_by",
                         "expires_at", "created"}  # fmt: skip
    assert body["id"].startswith("rr_") and body["object"] == "refund_request"
    assert (body["payment_id"], body["amount"], body["currency"], body["reason"], body["status"]) == (
        payment["id"],
        5000,
        "usd",
        "duplicate",
        "pending_approval",
    )
    assert body["requested_by"].startswith("key_") and body["expires_at"].endswith("Z")
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (202, first.content, "true")
    assert seller.get(f"/payments/{payment['id']}").json()["amount_refunded"] == 0
    assert len(seller.get("/refund-requests").json()["data"]) == 1


@pytest.mark.engine
def test_api_refunds_below_the_threshold_or_without_the_flag_are_made_at_once(db, dynamodb_backend):
    seller, payment = _api_with_approval()
    below = seller.post(f"/payments/{payment['id']}/refunds", {"amount": 4999})
    other, other_payment = _api_with_approval(api=False)
    not_asked = other.post(f"/payments/{other_payment['id']}/refunds", {"amount": 9000})

    assert below.status_code == 201 and below.json()["object"] == "refund"
    assert not_asked.status_code == 201 and not_asked.json()["amount"] == 9000


@pytest.mark.engine
def test_api_pending_requests_count_against_the_refundable_amount(db, dynamodb_backend):
    seller, payment = _api_with_approval()
    assert seller.post(f"/payments/{payment['id']}/refunds", {"amount": 7000}).status_code == 202

    too_much = seller.post(f"/payments/{payment['id']}/refunds", {"amount": 3001})
    rest = seller.post(f"/payments/{payment['id']}/refunds")

    assert too_much.status_code == 422 and problem(too_much)["code"] == "refund_exceeds_captured"
    assert rest.status_code == 201 and rest.json()["amount"] == 3000


@pytest.mark.engine
def test_api_lists_and_retrieves_refund_requests_with_filters(db, dynamodb_backend):
    seller, first_payment = _api_with_approval()
    second_payment = seller.create(amount=10000)
    ids = [
        seller.post(f"/payments/{p['id']}/refunds", {"amount": 6000}).json()["id"]
        for p in (first_payment, second_payment)
    ]
    refund_request_reject(merchant_id=seller.merchant_id, request_id=ids[0], actor=APPROVER, reason="no")

    everything = seller.get("/refund-requests").json()
    pending = seller.get("/refund-requests", status="pending_approval").json()
    rejected = seller.get("/refund-requests", status="rejected").json()
    of_first = seller.get("/refund-requests", payment_id=first_payment["id"]).json()
    paged = seller.get("/refund-requests", limit=1).json()
    next_page = seller.get("/refund-requests", limit=1, starting_after=paged["next_cursor"]).json()
    one = seller.get(f"/refund-requests/{ids[0]}")

    assert everything["object"] == "list" and [r["id"] for r in everything["data"]] == ids[::-1]
    assert [r["id"] for r in pending["data"]] == [ids[1]]
    assert [r["id"] for r in rejected["data"]] == [ids[0]]
    assert [r["id"] for r in of_first["data"]] == [ids[0]]
    assert (paged["has_more"], [r["id"] for r in paged["data"]]) == (True, [ids[1]])
    assert (next_page["has_more"], [r["id"] for r in next_page["data"]]) == (False, [ids[0]])
    assert one.status_code == 200 and one.json()["status"] == "rejected"


def test_api_another_merchants_request_is_404_and_bad_filters_are_422(db):
    seller, payment = _api_with_approval()
    request_id = seller.post(f"/payments/{payment['id']}/refunds", {"amount": 6000}).json()["id"]
    stranger = integrator()

    missing = stranger.get(f"/refund-requests/{request_id}")
    listed = stranger.get("/refund-requests").json()
    bad_status = seller.get("/refund-requests", status="maybe")
    bad_cursor = seller.get("/refund-requests", starting_after="pay_nope")

    assert missing.status_code == 404 and problem(missing)["code"] == "resource_missing"
    assert listed["data"] == []
    assert bad_status.status_code == 422 and bad_cursor.status_code == 422


def test_api_a_request_past_its_lifetime_reads_expired_before_any_sweep(db):
    seller, payment = _api_with_approval()
    long_ago = clock_now() - REQUEST_LIFETIME - timedelta(seconds=1)
    old = refund_request_create(
        merchant_id=seller.merchant_id, payment_id=payment["id"], actor=REQUESTER, amount=5000, now=long_ago
    )
    fresh_id = seller.post(f"/payments/{payment['id']}/refunds", {"amount": 5000}).json()["id"]

    one = seller.get(f"/refund-requests/{old.request_id}").json()
    expired = seller.get("/refund-requests", status="expired").json()
    pending = seller.get("/refund-requests", status="pending_approval").json()

    assert one["status"] == "expired"
    assert [r["id"] for r in expired["data"]] == [old.request_id]
    assert [r["id"] for r in pending["data"]] == [fresh_id]


def test_approval_and_rejection_send_webhook_events(db):
    seller, payment = _api_with_approval()
    merchant_webhook_url_set(merchant_id=seller.merchant_id, actor=TEST_ACTOR, url="https://hooks.example.com/in")
    approve_id = seller.post(f"/payments/{payment['id']}/refunds", {"amount": 5000}).json()["id"]
    reject_id = seller.post(f"/payments/{payment['id']}/refunds", {"amount": 5000}).json()["id"]

    refund_request_approve(merchant_id=seller.merchant_id, request_id=approve_id, actor=APPROVER)
    refund_request_reject(merchant_id=seller.merchant_id, request_id=reject_id, actor=APPROVER, reason="twice")

    (approved,) = webhook_delivery_list_for_entity(merchant_id=seller.merchant_id, entity_id=approve_id)
    (rejected,) = webhook_delivery_list_for_entity(merchant_id=seller.merchant_id, entity_id=reject_id)
    assert approved.event_type == "refund_request.approved"
    assert json.loads(approved.payload)["data"]["object"]["status"] == "approved"
    assert json.loads(approved.payload)["data"]["object"]["refund_id"].startswith("re_")
    assert rejected.event_type == "refund_request.rejected"
    assert json.loads(rejected.payload)["data"]["object"]["decision_reason"] == "twice"


def test_the_recovery_sweep_task_also_expires_requests_nobody_decided(merchant):
    _threshold(merchant.merchant_id)
    payment = make_payment(merchant.merchant_id, amount=10000)
    long_ago = clock_now() - REQUEST_LIFETIME - timedelta(seconds=1)
    old = refund_request_create(
        merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=REQUESTER, amount=9000, now=long_ago
    )

    payment_recover_sweep_task.call(reschedule=False)

    stored = selectors.refund_request_get(merchant_id=merchant.merchant_id, request_id=old.request_id)
    assert stored.status == RefundRequestStatus.EXPIRED
    after = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(after.amount_pending_refund) == 0
