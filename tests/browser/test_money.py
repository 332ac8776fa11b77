"""Money as merchants read it, in Chromium: the refund dialog (prefilled, capped, its limit said before the
confirm step), amounts by currency, the amount filter in one currency, and saying no clearly."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from payments import selectors
from tests.browser.demo_data import make_realistic_payments
from tests.factories import make_merchant, make_payment, make_user

pytestmark = pytest.mark.browser


def test_a_refund_over_what_is_left_is_refused_in_the_dialog_before_any_confirmation(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    payment = make_payment(merchant.merchant_id, amount=3285, description="Camp stove")
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    sign_in("olga")
    page.goto(f"{live_server.url}/payments/{payment.payment_id}/")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.get_by_role("button", name="Refund…").click()
    dialog = page.get_by_role("dialog")
    amount = dialog.get_by_label("Amount to refund")
    expect(amount).to_have_value("32.85")
    expect(amount).to_have_attribute("max", "32.85")
    amount.fill("1000")
    dialog.get_by_role("button", name="Refund", exact=True).click()

    error = page.get_by_role("dialog").get_by_test_id("refund-error")
    expect(error).to_have_text("Refunding $1,000.00 would exceed the $32.85 still refundable.")
    expect(page.get_by_role("dialog").get_by_label("Amount to refund")).to_be_focused()
    expect(page.get_by_test_id("refund-confirm-amount")).to_have_count(0)  # no confirm step for a wrong amount
    screenshot("refund-over-limit")
    assert dialogs == []
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 0

    page.get_by_role("dialog").get_by_label("Amount to refund").fill("")  # empty: everything that is left
    page.get_by_role("dialog").get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_test_id("refund-confirm-amount")).to_have_text("$32.85")
    page.get_by_role("button", name="No, go back").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 0


def test_amounts_read_by_currency_and_the_amount_filter_keeps_to_one_currency(
    page, live_server, sign_in, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    dollars = make_payment(merchant.merchant_id, amount=123456)
    euros = make_payment(merchant.merchant_id, amount=123456, currency="eur")
    yen = make_payment(merchant.merchant_id, amount=500000, currency="jpy")
    make_user("vera", merchant_id=merchant.merchant_id, role="viewer")
    sign_in("vera")
    page.goto(f"{live_server.url}/payments/")
    table = page.locator("#payment-table")
    for shown in ("$1,234.56", "€1.234,56", "¥500,000"):
        expect(table).to_contain_text(shown)

    page.get_by_label("Currency", exact=True).select_option("jpy")
    expect(page.get_by_label("Min amount (JPY)")).to_be_visible()
    page.get_by_label("Min amount (JPY)").fill("5000")

    expect(page).to_have_url(re.compile(r"currency=jpy.*amount_min=5000|amount_min=5000.*currency=jpy"))
    expect(page.locator("#payment-table tbody tr")).to_have_count(1)
    assert page.locator("#payment-table tbody tr").get_attribute("data-payment-id") == yen.payment_id
    assert {dollars.payment_id, euros.payment_id}.isdisjoint(
        page.locator("#payment-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.paymentId)")
    )


def test_a_negative_amount_filter_says_what_is_wrong(page, live_server, sign_in, transactional_db, dynamodb_backend):
    merchant = make_merchant("Acme Outdoor")
    make_payment(merchant.merchant_id, amount=900)
    make_user("vera", merchant_id=merchant.merchant_id, role="viewer")
    sign_in("vera")
    page.goto(f"{live_server.url}/payments/")

    page.get_by_label("Min amount (USD)").fill("-5")

    alert = page.locator("#payment-table").get_by_role("alert")
    expect(alert).to_contain_text("Some filters need fixing.")
    expect(alert).to_contain_text("Min amount: Enter an amount of 0 or more.")
    expect(page.get_by_role("link", name="Costs")).to_have_count(0)  # not in a viewer's navigation


def test_the_payments_list_on_a_phone(page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend):
    merchant = make_merchant("Acme Outdoor")
    make_realistic_payments(merchant.merchant_id, count=40, days=5)
    make_user("vera", merchant_id=merchant.merchant_id, role="viewer")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in("vera")

    page.goto(f"{live_server.url}/payments/")

    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 1–25")
    screenshot("payments-mobile")
