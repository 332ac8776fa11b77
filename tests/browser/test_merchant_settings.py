"""Merchant settings in the browser: an admin sets the time zone and the home page uses it; a
suspended merchant shows its banner on every page, its API writes get 403 and the dashboard refuses
changes; reactivated, the same Idempotency-Key creates the payment."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from merchants.selectors import merchant_get
from merchants.services.settings import merchant_reactivate, merchant_suspend
from tests.factories import TEST_ACTOR, make_api_key, make_merchant, make_payment, make_user

pytestmark = pytest.mark.browser

BODY = {
    "amount": 2500,
    "currency": "usd",
    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
}


def test_an_admin_sets_the_time_zone_and_the_home_page_uses_it(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Tokyo")
    make_payment(merchant.merchant_id, amount=4200)
    make_user("alice", merchant_id=merchant.merchant_id, role="admin")
    sign_in("alice")

    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("Statement descriptor").fill("ab")
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("A statement descriptor is 5 to 22 characters")).to_be_visible()
    expect(page.get_by_label("Statement descriptor")).to_be_focused()  # the first bad field, for the keyboard
    page.get_by_label("Statement descriptor").fill("ACME TOKYO")
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved.")
    screenshot("merchant-settings")

    page.get_by_role("link", name="Home").click()
    expect(page.get_by_test_id("merchant-time-zone")).to_have_text("Asia/Tokyo")
    expect(page.get_by_test_id("days-zone")).to_contain_text("Days are Asia/Tokyo days from")
    expect(page.locator("table.payment-rows time").first).to_contain_text("JST")
    assert merchant_get(merchant_id=merchant.merchant_id).statement_descriptor == "ACME TOKYO"


def test_a_suspended_merchant_shows_its_banner_refuses_writes_and_reads_still_work(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Suspended")
    make_payment(merchant.merchant_id)
    secret = make_api_key(merchant.merchant_id)
    make_user("alice", merchant_id=merchant.merchant_id, role="admin")
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Chargeback review")
    api = page.request
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": "browser-1"}

    refused = api.post(f"{live_server.url}/api/v1/payments", data=BODY, headers=headers)
    read = api.get(f"{live_server.url}/api/v1/payments", headers={"Authorization": f"Bearer {secret}"})

    assert refused.status == 403 and refused.json()["code"] == "merchant_suspended"
    assert refused.headers["content-type"] == "application/problem+json"
    assert read.status == 200 and len(read.json()["data"]) == 1

    sign_in("alice")
    expect(page.get_by_test_id("suspended-banner")).to_contain_text("Acme Suspended is suspended")
    screenshot("merchant-suspended")
    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page.get_by_test_id("suspended-banner")).to_be_visible()
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("button", name="Save settings")).to_be_disabled()
    page.evaluate("document.querySelector('#general form').submit()")  # a change sent anyway
    expect(page.get_by_role("heading", name="Nothing was changed")).to_be_visible()
    expect(page.get_by_text("This merchant is suspended: nothing can be changed")).to_be_visible()
    assert merchant_get(merchant_id=merchant.merchant_id).name == "Acme Suspended"

    merchant_reactivate(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Cleared")
    created = api.post(f"{live_server.url}/api/v1/payments", data=BODY, headers=headers)
    page.goto(f"{live_server.url}/")

    assert created.status == 201 and "idempotent-replayed" not in created.headers
    expect(page.get_by_test_id("suspended-banner")).to_have_count(0)
