import pytest
from playwright.sync_api import expect

from tests.factories import make_merchant, make_payment, make_user

pytestmark = pytest.mark.browser


def test_member_signs_in_and_opens_a_payment(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    payment = make_payment(merchant.merchant_id, amount=4200)
    make_user("alice", merchant_id=merchant.merchant_id, role="operator")

    sign_in("alice")

    expect(page.get_by_role("heading", name="Acme Outdoor")).to_be_visible()
    expect(page.get_by_test_id("whoami")).to_contain_text("alice · operator")
    screenshot("sign-in-home")
    page.get_by_role("link", name=payment.payment_id).click()
    expect(page.get_by_role("heading", name="$42.00")).to_be_visible()
    assert page.url.endswith(f"/payments/{payment.payment_id}/")


def test_wrong_password_shows_the_error_on_the_page(page, live_server, sign_in, transactional_db, dynamodb_backend):
    make_user("bob")

    sign_in("bob", password="not the password")

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
