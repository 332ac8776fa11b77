"""A large refund from request to approval by a second person in Chromium: the merchant admin sets the
threshold on the Approvals page, an operator's refund at the threshold waits there, the requester
cannot decide it, and another operator approves it, which refunds the payment."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.actor import Actor
from payments import selectors
from payments.services.refund_requests import Channel, refund_or_request_create
from tests.factories import make_merchant, make_payment, make_user

pytestmark = pytest.mark.browser


def test_a_refund_request_is_approved_by_a_second_operator(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    for username, role in (("ada", "admin"), ("rita", "operator"), ("alice", "operator")):
        make_user(username, merchant_id=merchant.merchant_id, role=role)
    payment = make_payment(merchant.merchant_id, amount=12000)

    sign_in("ada")
    page.get_by_role("link", name="Approvals").click()
    page.get_by_label("Thresholds, one currency per line").fill("USD 50.00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Refund approval settings saved.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # rita's dashboard refund of $80.00 is at or above the threshold: it waits for someone else
    asked = refund_or_request_create(
        merchant_id=merchant.merchant_id,
        payment_id=payment.payment_id,
        actor=Actor(type="user", id="rita"),
        channel=Channel.DASHBOARD,
        amount=8000,
    )
    sign_in("rita")
    page.get_by_role("link", name="Approvals").click()
    row = page.locator(f"tr[data-request-id='{asked.request_id}']")
    expect(row.get_by_test_id("request-status")).to_have_text("Awaiting approval")
    expect(row.get_by_test_id("own-request")).to_be_visible()
    expect(row.get_by_role("button", name="Approve and refund")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    sign_in("alice")
    page.get_by_role("link", name="Approvals").click()
    row = page.locator(f"tr[data-request-id='{asked.request_id}']")
    expect(row).to_contain_text("$80.00")
    screenshot("refund-approvals")
    row.get_by_role("button", name="Approve and refund").click()
    expect(page.get_by_text("Approved: $80.00 refunded")).to_be_visible()

    page.get_by_role("link", name="Approved", exact=True).click()
    row = page.locator(f"tr[data-request-id='{asked.request_id}']")
    expect(row).to_contain_text("by alice")
    row.get_by_role("link", name=payment.payment_id).click()
    expect(page.get_by_test_id("amount-refunded")).to_have_text("$80.00")
    after = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(after.amount_refunded) == 8000 and int(after.amount_pending_refund) == 0
