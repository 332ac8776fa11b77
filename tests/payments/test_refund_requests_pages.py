"""The dashboard side of four-eyes refunds: a large refund becomes a request, the Refund approvals
page lets a second person decide it, and a merchant admin sets the thresholds."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from merchants.selectors import merchant_get
from payments import selectors
from payments.forms import refund_key_new
from payments.refund_request_views import parse_thresholds
from payments.services.refund_approval import refund_approval_settings_set
from tests.factories import TEST_ACTOR, make_payment, make_user

APPROVALS = reverse("payments:refund-request-list")


def _refund_through_the_page(client: Client, payment_id: str, amount: str):
    return client.post(
        reverse("payments:payment-refund", args=[payment_id]),
        {"amount": amount, "reason": "requested_by_customer", "confirm": "yes", "idempotency_key": refund_key_new()},
        follow=True,
    )


def _signed_in(merchant_id: str, username: str, role: str = "operator") -> Client:
    client = Client()
    client.force_login(make_user(username, merchant_id=merchant_id, role=role))
    return client


def test_a_large_dashboard_refund_waits_and_a_second_operator_approves_it(db, merchant):
    refund_approval_settings_set(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, thresholds={"usd": 5000}, api_refunds_need_approval=False
    )
    payment = make_payment(merchant.merchant_id, amount=10000)
    rita, alice = _signed_in(merchant.merchant_id, "rita"), _signed_in(merchant.merchant_id, "alice")

    asked = _refund_through_the_page(rita, payment.payment_id, "60.00")
    (request,) = selectors.refund_request_list_for_merchant(merchant_id=merchant.merchant_id).items
    own_view = rita.get(APPROVALS)
    refused = rita.post(reverse("payments:refund-request-approve", args=[request.request_id]), follow=True)
    approved = alice.post(reverse("payments:refund-request-approve", args=[request.request_id]), follow=True)

    assert "needs approval" in asked.content.decode()
    assert b'data-testid="own-request"' in own_view.content
    assert "someone other than the person who asked" in refused.content.decode()
    assert "Approved: $60.00 refunded" in approved.content.decode()
    after = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(after.amount_refunded) == 6000


def test_rejecting_on_the_page_needs_a_reason(db, merchant):
    refund_approval_settings_set(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, thresholds={"usd": 5000}, api_refunds_need_approval=False
    )
    payment = make_payment(merchant.merchant_id, amount=10000)
    _refund_through_the_page(_signed_in(merchant.merchant_id, "rita"), payment.payment_id, "80.00")
    (request,) = selectors.refund_request_list_for_merchant(merchant_id=merchant.merchant_id).items
    alice = _signed_in(merchant.merchant_id, "alice")
    reject = reverse("payments:refund-request-reject", args=[request.request_id])

    without = alice.post(reject, {"reason": ""}, follow=True)
    with_reason = alice.post(reject, {"reason": "not our order", "status": "rejected"}, follow=True)

    assert "Say why" in without.content.decode()
    assert "Rejected refund request" in with_reason.content.decode()
    assert "not our order" in with_reason.content.decode()
    stored = selectors.refund_request_get(merchant_id=merchant.merchant_id, request_id=request.request_id)
    assert stored.status == "rejected"


def test_a_viewer_sees_the_page_but_cannot_decide_or_configure(db, merchant):
    viewer = _signed_in(merchant.merchant_id, "vera", role="viewer")
    payment = make_payment(merchant.merchant_id, amount=10000)
    refund_approval_settings_set(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, thresholds={"usd": 5000}, api_refunds_need_approval=False
    )
    _refund_through_the_page(_signed_in(merchant.merchant_id, "rita"), payment.payment_id, "70.00")
    (request,) = selectors.refund_request_list_for_merchant(merchant_id=merchant.merchant_id).items

    page = viewer.get(APPROVALS)
    decide = viewer.post(reverse("payments:refund-request-approve", args=[request.request_id]))
    configure = viewer.post(reverse("payments:refund-approval-settings"), {"thresholds": ""})

    assert page.status_code == 200 and request.request_id.encode() in page.content
    assert b"Approve and refund" not in page.content and b'name="thresholds"' not in page.content
    assert decide.status_code == 403 and configure.status_code == 403


def test_an_admin_sets_thresholds_in_major_units(db, merchant):
    admin = _signed_in(merchant.merchant_id, "ada", role="admin")

    saved = admin.post(
        reverse("payments:refund-approval-settings"),
        {"thresholds": "USD 500.00\neur 20", "api_refunds_need_approval": "on"},
        follow=True,
    )
    bad = admin.post(reverse("payments:refund-approval-settings"), {"thresholds": "USD 5.001"}, follow=True)

    assert "Refund approval settings saved." in saved.content.decode()
    assert "USD 500.00" in saved.content.decode()
    stored = merchant_get(merchant_id=merchant.merchant_id)
    assert stored.refund_approval_thresholds == {"usd": 50000, "eur": 2000}
    assert stored.api_refunds_need_approval is True
    assert "Line 1" in bad.content.decode()


@pytest.mark.pure
def test_threshold_lines_are_parsed_exactly():
    assert parse_thresholds("USD 500.00\n\n jpy 1000 ") == {"usd": 50000, "jpy": 1000}
    for bad in ("USD", "XXX 5", "USD five", "JPY 10.5", "USD 0"):
        try:
            parse_thresholds(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
