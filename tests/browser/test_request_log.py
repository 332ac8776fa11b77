"""The API request log in a real browser: an API request made over HTTP to the live server is found
on Developers → Logs by its X-Request-Id, and its page shows the bodies with the card redacted."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.factories import make_api_key, make_merchant, make_user

pytestmark = pytest.mark.browser


def test_find_an_api_request_by_its_request_id(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    make_user("ada", merchant_id=merchant.merchant_id, role="admin")
    body = {
        "amount": 4200,
        "currency": "usd",
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "314"},
    }
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/payments",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {make_api_key(merchant.merchant_id)}",
            "Content-Type": "application/json",
            "Idempotency-Key": "browser-order-1",
            "X-Request-Id": "checkout-browser-1",
        },
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        payment = json.loads(response.read())

    sign_in("ada")
    page.goto(f"{live_server.url}/developers/logs/")
    page.get_by_label("X-Request-Id").fill("checkout-browser-1")
    page.get_by_role("button", name="Find").click()
    rows = page.get_by_test_id("api-requests").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("/api/v1/payments")
    expect(rows.first).to_contain_text("201")
    screenshot("request-log")
    rows.first.get_by_role("link").click()

    expect(page.get_by_test_id("request-facts")).to_contain_text("browser-order-1")
    expect(page.get_by_test_id("response-body")).to_contain_text(payment["id"])
    request_body = page.get_by_test_id("request-body").inner_text()
    assert "[redacted]" in request_body and "4242424242424242" not in request_body and "314" not in request_body
