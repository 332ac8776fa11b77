"""The team in the browser: an admin invites by email from Settings → Team; the invitee opens the link
from the email, sets a password and is signed in with the role. And a forgotten password is reset by
the emailed link. The mail is read from Django's email backend."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from merchants.models import Membership
from tests.factories import make_merchant, make_user

pytestmark = pytest.mark.browser
NEW_PASSWORD = "a long new password 42"


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_an_invitee_opens_the_emailed_link_sets_a_password_and_has_the_role(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Team")
    make_user("alice", merchant_id=merchant.merchant_id, role="admin")
    sign_in("alice")

    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="Team", exact=True).click()
    page.get_by_label("Email address").fill("jo@example")
    page.get_by_role("button", name="Send invite").click()
    expect(page.get_by_text("Enter a valid email address")).to_be_visible()
    expect(page.get_by_label("Email address")).to_be_focused()  # the bad field, for the keyboard
    page.get_by_label("Email address").fill("jo@example.com")
    page.get_by_label("Role", exact=True).select_option("operator")
    page.get_by_role("button", name="Send invite").click()
    expect(page.get_by_role("status")).to_contain_text("Invite sent to jo@example.com as operator")
    expect(page.get_by_test_id("invite-jo@example.com")).to_be_visible()
    screenshot("team")
    page.get_by_role("button", name="Sign out").click()

    (message,) = mail.outbox
    page.goto(_link(message))
    assert "/accounts/invite/" in page.url and page.url.rstrip("/").endswith("invite")  # no token in the address
    expect(page.get_by_test_id("invite-username")).to_have_text("jo@example.com")
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and join").click()

    expect(page.get_by_test_id("whoami")).to_contain_text("jo@example.com · operator")
    expect(page.get_by_role("status").first).to_contain_text("Welcome to Acme Team")
    assert Membership.objects.get(user__username="jo@example.com").role == "operator"


def test_a_forgotten_password_is_reset_by_the_emailed_link(
    page, live_server, sign_in, transactional_db, dynamodb_backend
):
    user = make_user("bob", merchant_id=make_merchant("Acme Reset").merchant_id, role="viewer")
    user.email = "bob@example.com"
    user.save()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("bob@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    (message,) = mail.outbox
    page.goto(_link(message))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()

    sign_in("bob", password=NEW_PASSWORD)
    expect(page.get_by_test_id("whoami")).to_contain_text("bob · viewer")
