"""The dashboards in a real browser (Debian's Chromium) against a live server on DynamoDB Local."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from payments import selectors
from tests.browser.demo_data import make_realistic_payments
from tests.factories import make_merchant, make_payment, make_user

pytestmark = pytest.mark.browser


def _mark_page(page) -> None:
    """A marker that a full page load would wipe out: proves a change happened without a reload."""
    page.evaluate("window.__noReload = 'still here'")


def _not_reloaded(page) -> bool:
    return page.evaluate("window.__noReload") == "still here"


def _row_ids(page) -> list[str]:
    return page.locator("#payment-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.paymentId)")


def test_filter_payments_by_status_changes_table_and_url_without_reload(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    held = [make_payment(merchant.merchant_id, amount=1500 + i, capture=False) for i in range(3)]
    for i in range(5):
        make_payment(merchant.merchant_id, amount=900 + i)
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    sign_in("olga")

    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 1–8")
    _mark_page(page)
    page.get_by_label("Status").select_option("requires_capture")

    expect(page).to_have_url(re.compile(r"/payments/\?status=requires_capture$"))
    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 1–3")
    assert sorted(_row_ids(page)) == sorted(p.payment_id for p in held)
    assert _not_reloaded(page)
    screenshot("payments-filtered")

    search = page.get_by_label("Search")
    search.press_sequentially("9999", delay=30)  # no card ends in 9999: live search, focus stays put
    expect(page.get_by_test_id("result-count")).to_have_text("No payments shown")
    expect(page).to_have_url(re.compile(r"q=9999"))
    expect(search).to_be_focused()
    search.fill("")
    search.press("Enter")
    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 1–3")

    for _ in range(4):  # the pushed URLs are real history: back to the search for 9999
        page.go_back()
        if "q=9999" in page.url:
            break
    expect(page.get_by_test_id("result-count")).to_have_text("No payments shown")
    expect(page.get_by_label("Status")).to_have_value("requires_capture")  # the whole page, not a fragment
    expect(page.get_by_label("Search")).to_have_value("9999")


def test_refund_part_of_a_payment_updates_amounts_and_timeline_in_place(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    payment = make_payment(merchant.merchant_id, amount=8000, description="Tent, 2 person")
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    sign_in("olga")
    page.goto(f"{live_server.url}/payments/{payment.payment_id}/")
    expect(page.get_by_test_id("amount-refunded")).to_have_text("$0.00")
    timeline = page.get_by_test_id("timeline").locator("li")
    expect(timeline).to_have_count(2)  # authorization, capture
    _mark_page(page)

    page.get_by_role("button", name="Refund…").click()  # the refund dialog, prefilled with what is left
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Amount to refund")).to_have_value("80.00")
    dialog.get_by_label("Amount to refund").fill("25.50")
    dialog.get_by_label("Reason").select_option("requested_by_customer")
    dialog.get_by_role("button", name="Refund", exact=True).click()
    expect(dialog.get_by_test_id("refund-confirm-amount")).to_have_text("$25.50")  # the confirmation repeats it
    assert (
        int(selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).amount_refunded) == 0
    )
    dialog.get_by_role("button", name="Yes, refund $25.50").click()

    expect(page.get_by_test_id("notice")).to_have_text("Refunded $25.50.")
    expect(page.get_by_test_id("amount-refunded")).to_have_text("$25.50")
    expect(page.get_by_test_id("amount-net")).to_have_text("$54.50")
    expect(page.get_by_test_id("payment-status")).to_have_text("Partially refunded")
    expect(timeline).to_have_count(3)
    expect(timeline.nth(2)).to_contain_text("Refund · $25.50")
    assert _not_reloaded(page)
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 2550
    screenshot("payment-detail")


def test_declining_the_confirmation_changes_nothing(page, live_server, sign_in, transactional_db, dynamodb_backend):
    merchant = make_merchant("Acme Outdoor")
    payment = make_payment(merchant.merchant_id, amount=3000, capture=False)
    make_user("olga", merchant_id=merchant.merchant_id, role="admin")
    sign_in("olga")
    page.goto(f"{live_server.url}/payments/{payment.payment_id}/")
    page.on("dialog", lambda dialog: dialog.dismiss())

    page.get_by_role("button", name="Cancel authorization").click()

    expect(page.get_by_test_id("payment-status")).to_have_text("Uncaptured")
    assert (
        selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).status
        == "requires_capture"
    )


def test_viewer_sees_no_action_buttons(page, live_server, sign_in, transactional_db, dynamodb_backend):
    merchant = make_merchant("Acme Outdoor")
    payment = make_payment(merchant.merchant_id, amount=8000)
    held = make_payment(merchant.merchant_id, amount=100, capture=False)
    make_user("vera", merchant_id=merchant.merchant_id, role="viewer")
    sign_in("vera")

    for shown in (payment, held):
        page.goto(f"{live_server.url}/payments/{shown.payment_id}/")
        expect(page.get_by_test_id("no-actions")).to_be_visible()
        for name in ("Refund", "Capture", "Cancel authorization"):
            expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Developers")).to_have_count(0)


def test_ops_user_switches_merchant_and_sees_the_other_merchants_data(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    acme, kumo = make_merchant("Acme Outdoor"), make_merchant("Kumo Tea", currency="jpy")
    acme_payment = make_payment(acme.merchant_id, amount=4200)
    kumo_payment = make_payment(kumo.merchant_id, amount=3300, currency="jpy")
    make_user("ops", staff=True)
    sign_in("ops")

    expect(page.get_by_role("heading", name="Choose a merchant")).to_be_visible()
    page.get_by_role("button", name=re.compile("Acme Outdoor")).click()
    expect(page.get_by_role("heading", name="Acme Outdoor")).to_be_visible()
    expect(page.get_by_role("link", name=acme_payment.payment_id)).to_be_visible()

    page.get_by_test_id("merchant-switcher").click()  # the switcher searches by name
    page.get_by_label("Find a merchant").fill("kumo")
    results = page.get_by_test_id("merchant-results").get_by_role("button")
    expect(results).to_have_count(1)  # narrowed to Kumo Tea (clicking before the swap would race it)
    results.filter(has_text="Kumo Tea").click()

    expect(page.get_by_role("heading", name="Kumo Tea")).to_be_visible()
    expect(page.get_by_role("link", name=kumo_payment.payment_id)).to_be_visible()
    expect(page.get_by_role("link", name=acme_payment.payment_id)).to_have_count(0)
    expect(page.get_by_test_id("summary-cards")).to_contain_text("¥3,300")
    page.get_by_test_id("ops-menu").click()  # the platform's sections: one menu in the navbar
    page.get_by_role("link", name="Merchants").click()
    expect(page.get_by_test_id("merchant-table")).to_contain_text("Kumo Tea")
    screenshot("ops-merchants")


def test_export_downloads_a_csv_of_exactly_the_filtered_rows(
    page, live_server, sign_in, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    for amount in (500, 1200, 2400, 4800, 9600):
        make_payment(merchant.merchant_id, amount=amount)
    make_payment(merchant.merchant_id, amount=3000, capture=False)
    make_user("olga", merchant_id=merchant.merchant_id, role="viewer")
    sign_in("olga")
    page.goto(f"{live_server.url}/payments/")

    page.get_by_label("Status").select_option("succeeded")
    page.get_by_label("Min amount (USD)").fill("20")
    expect(page).to_have_url(re.compile(r"amount_min=20"))
    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 1–3")
    shown = _row_ids(page)
    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    path = info.value.path()

    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == shown
    assert [r["amount"] for r in rows] == ["96.00", "48.00", "24.00"]  # decimal major units, as people read them
    assert all(r["status"] == "succeeded" and r["currency"] == "usd" for r in rows)


def test_screenshots_of_the_main_pages_with_realistic_data(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    made = make_realistic_payments(merchant.merchant_id, count=300, days=30)
    make_user("ada", merchant_id=merchant.merchant_id, role="admin")
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in("ada")

    expect(page.get_by_test_id("summary-cards")).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart('volume-chart')")
    screenshot("home")
    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 1–25 · more on the next page")
    screenshot("payments")
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 26–50")
    refunded = next(
        p
        for p in made
        if selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=p.payment_id).amount_refunded
    )
    page.goto(f"{live_server.url}/payments/{refunded.payment_id}/")
    screenshot("payment")
    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_text("ada@example.com")).to_be_visible()
    screenshot("customers")
    page.get_by_role("link", name="Developers").click()
    page.get_by_label("New key").fill("checkout server")
    page.get_by_role("button", name="Create secret key").click()
    expect(page.get_by_test_id("new-secret")).to_be_visible()
    screenshot("developers")
    assert datetime.now(UTC) - made[0].created <= timedelta(days=30)


def test_small_screens_fold_the_menu_behind_a_button(page, live_server, sign_in, transactional_db, dynamodb_backend):
    merchant = make_merchant("Acme Outdoor")
    make_user("vera", merchant_id=merchant.merchant_id, role="viewer")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in("vera")
    customers = page.get_by_role("link", name="Customers")
    menu = page.get_by_role("button", name="Menu")

    expect(customers).to_be_hidden()
    menu.click()
    expect(customers).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    customers.click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
