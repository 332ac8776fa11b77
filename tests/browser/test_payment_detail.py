"""The payment page in Chromium (issue: dashboard trust and reach, point 6): it fits a 390 px phone
whatever the payment's state says (a failure, an expiry, fees), the refund dialog opens from the
keyboard, and without JavaScript the refund form waits in a disclosure until asked for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from core.ids import now as clock_now
from payments.errors import CardDeclined
from tests.factories import card, make_merchant, make_payment, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"
WIDER = """() => [...document.body.querySelectorAll("*")]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(-5).map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} ${Math.round(e.getBoundingClientRect().right)}`)"""


def test_the_payment_page_fits_a_phone_for_a_failed_an_expiring_and_a_refundable_payment(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    with pytest.raises(CardDeclined) as declined:
        make_payment(merchant.merchant_id, amount=3182, card=card("4000000000000002"))
    failed = declined.value.extensions["payment_id"]
    held = make_payment(
        merchant.merchant_id, amount=123_456_78, capture=False, description="Order 261129-5381, a long description"
    )
    paid = make_payment(merchant.merchant_id, amount=3182, now=clock_now() - timedelta(days=1))
    page.set_viewport_size(PHONE)
    sign_in("olga")

    for payment_id, says in (
        (failed, "This payment failed: declined by the card issuer."),
        (held.payment_id, "Capture it by"),
        (paid.payment_id, "Refunded"),
    ):
        page.goto(f"{live_server.url}/payments/{payment_id}/")
        expect(page.locator("#payment-panel")).to_contain_text(says)
        assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], (payment_id, page.evaluate(WIDER))
        if payment_id == failed:
            screenshot("payment-failed-mobile")


def test_the_refund_dialog_opens_and_closes_from_the_keyboard(
    page, live_server, sign_in, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    payment = make_payment(merchant.merchant_id, amount=8000)
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    sign_in("olga")
    page.goto(f"{live_server.url}/payments/{payment.payment_id}/")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_hidden()  # on demand only

    opener = page.get_by_role("button", name="Refund…")
    opener.focus()
    page.keyboard.press("Enter")

    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Amount to refund")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


@pytest.fixture
def no_script_page(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_without_javascript_the_refund_form_opens_on_demand_and_refunds(
    no_script_page, live_server, transactional_db, dynamodb_backend
):
    page = no_script_page
    merchant = make_merchant("Acme Outdoor")
    payment = make_payment(merchant.merchant_id, amount=8000)
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/payments/{payment.payment_id}/")
    disclosure = page.get_by_test_id("refund-disclosure")
    amount = disclosure.get_by_label("Amount to refund")
    expect(amount).to_be_hidden()

    summary = disclosure.locator("summary")
    summary.focus()
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")  # a <details> opens from the keyboard, no script needed
    expect(disclosure).to_have_attribute("open", "")
    expect(amount).to_be_visible()
    amount.fill("25.50")
    disclosure.get_by_role("button", name="Refund", exact=True).click()
    page.get_by_role("button", name="Yes, refund").click()  # the confirmation page

    expect(page.get_by_test_id("amount-refunded")).to_have_text("$25.50")
