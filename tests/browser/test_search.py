"""The payments list's forgiving search in a real browser: an id prefix and words of a description,
typed into the search box, narrow the table in place; a customer shows by name, not by id."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from customers.services import customer_create
from tests.factories import TEST_ACTOR, make_merchant, make_payment, make_user

pytestmark = pytest.mark.browser


def _row_ids(page) -> list[str]:
    return page.locator("#payment-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.paymentId)")


def test_search_payments_by_id_prefix_and_by_description_words(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    ada = customer_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="ada@example.com", name="Ada Byron")
    order = make_payment(merchant.merchant_id, description="Order 261129-5381", customer_id=ada.customer_id)
    others = [make_payment(merchant.merchant_id, description=f"Order 2611{n:02d}-1000") for n in range(3)]
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    sign_in("olga")

    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 1–4")
    expect(page.locator(f'tr[data-payment-id="{order.payment_id}"] td[data-label="Customer"]')).to_have_text(
        "Ada Byron"
    )

    search = page.get_by_label("Search")
    search.press_sequentially("Order 261129-5381", delay=20)
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"Showing 1–1 of 1"))
    assert _row_ids(page) == [order.payment_id]
    expect(page).to_have_url(re.compile(r"q=Order"))
    screenshot("payments-search")

    partial = others[1].payment_id[:18].lower()  # a partial id, typed in lowercase
    search.fill(partial)
    search.press("Enter")
    expect(page).to_have_url(re.compile(f"q={partial}"))
    expect(page.locator(f'tr[data-payment-id="{others[1].payment_id}"]')).to_be_visible()
    expect(page.locator("#payment-table tbody tr")).to_have_count(1)
    assert _row_ids(page) == [others[1].payment_id]

    search.fill("order")
    search.press("Enter")
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"of 4"))
