"""An ended session in a real browser: an htmx request goes to the sign-in page as a whole page and
comes back to the page it left; the warning a minute before the idle timeout keeps the session."""

from __future__ import annotations

import re
import time
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from core.middleware import LAST_ACTIVITY
from payments import selectors
from tests.factories import make_merchant, make_payment, make_user

pytestmark = pytest.mark.browser

SESSION_STORE = import_module(settings.SESSION_ENGINE).SessionStore


def _session_of(page):
    (cookie,) = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    return SESSION_STORE(session_key=cookie["value"])


def _idle_on_the_server(page, seconds: int) -> None:
    """The server last saw this browser's session used `seconds` ago."""
    session = _session_of(page)
    session[LAST_ACTIVITY] = int(time.time()) - seconds
    session.save()


def test_a_filter_change_after_the_session_ended_signs_in_again_and_comes_back_to_the_filtered_list(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    held = [make_payment(merchant.merchant_id, amount=1500 + i, capture=False) for i in range(2)]
    for i in range(3):
        make_payment(merchant.merchant_id, amount=900 + i)
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    sign_in("olga")
    page.goto(f"{live_server.url}/payments/?status=requires_capture")
    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 1–2")
    Session.objects.all().delete()  # the session ended while the page stayed open

    page.get_by_label("Status").select_option("succeeded")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?"))
    expect(page.get_by_test_id("session-expired")).to_have_text("Your session expired. Sign in again to continue.")
    expect(page.locator("nav.navbar")).to_have_count(1)  # a whole page, not a sign-in page inside the table
    expect(page.locator("#payment-table")).to_have_count(0)
    screenshot("session-expired-sign-in")
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/payments/?status=requires_capture")
    expect(page.get_by_label("Status")).to_have_value("requires_capture")
    expect(page.get_by_test_id("result-count")).to_contain_text("Showing 1–2")
    assert len(held) == 2


def test_a_refund_sent_after_the_session_ended_is_not_made_and_the_pages_say_so(
    page, live_server, sign_in, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    payment = make_payment(merchant.merchant_id, amount=8000)
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    sign_in("olga")
    detail = f"{live_server.url}/payments/{payment.payment_id}/"
    page.goto(detail)
    page.on("dialog", lambda dialog: dialog.accept())
    _idle_on_the_server(page, settings.SESSION_COOKIE_AGE)  # 15 minutes without a request

    page.get_by_role("button", name="Refund…").click()
    page.get_by_label("Amount to refund").fill("25.50")
    page.get_by_role("button", name="Refund", exact=True).click()

    notice = "Your session expired before the refund was sent: nothing was changed."
    expect(page.get_by_test_id("session-expired")).to_contain_text(notice)
    expect(page.locator("#payment-panel")).to_have_count(0)
    page.get_by_label("Username").fill("olga")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(detail)
    expect(page.locator("#messages")).to_contain_text(notice)
    expect(page.get_by_test_id("amount-refunded")).to_have_text("$0.00")
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 0


def test_the_idle_warning_appears_a_minute_before_and_stay_signed_in_keeps_the_session(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    page.clock.install()  # the page's timers run on a clock the test moves
    sign_in("olga")
    page.goto(f"{live_server.url}/payments/")
    warning = page.locator("#session-warning")
    stay = page.get_by_role("button", name="Stay signed in")
    expect(warning).to_be_hidden()
    idle = settings.SESSION_COOKIE_AGE

    _idle_on_the_server(page, idle - 50)
    page.clock.fast_forward((idle - 60 + 1) * 1000)  # a minute before the end, by the page's count

    expect(warning).to_be_visible()
    expect(warning).to_contain_text("You will be signed out in 1 minute for inactivity")
    expect(stay).to_be_focused()  # nothing else had focus: Enter or Space keeps the session
    screenshot("session-idle-warning")
    stay.press("Enter")

    expect(warning).to_be_hidden()
    assert _session_of(page)[LAST_ACTIVITY] >= int(time.time()) - 5  # the server counted it as activity
    page.reload()
    expect(page).to_have_url(f"{live_server.url}/payments/")
    expect(page.get_by_test_id("whoami")).to_contain_text("olga")


def test_the_warning_waits_while_another_tab_uses_the_session(
    page, live_server, sign_in, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    page.clock.install()
    sign_in("olga")
    page.goto(f"{live_server.url}/payments/")
    idle = settings.SESSION_COOKIE_AGE

    _idle_on_the_server(page, 120)  # this tab has been still for 14 minutes; another was used 2 minutes ago
    with page.expect_response(re.compile(r"/accounts/session/$")) as asked:
        page.clock.fast_forward((idle - 60 + 1) * 1000)

    assert asked.value.status == 204 and int(asked.value.headers["x-paysite-idle-seconds-left"]) > idle - 130
    assert asked.value.request.headers["x-paysite-poll"] == "1"  # asking is not activity
    page.wait_for_timeout(500)
    expect(page.locator("#session-warning")).to_be_hidden()


def test_an_unattended_page_goes_to_the_sign_in_page_at_the_timeout(
    page, live_server, sign_in, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    page.clock.install()
    sign_in("olga")
    page.goto(f"{live_server.url}/payments/?status=succeeded")
    idle = settings.SESSION_COOKIE_AGE
    _idle_on_the_server(page, idle - 50)
    page.clock.fast_forward((idle - 60 + 1) * 1000)
    expect(page.locator("#session-warning")).to_be_visible()

    _idle_on_the_server(page, idle)  # nobody pressed the button
    page.clock.fast_forward(62 * 1000)

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/payments/%3Fstatus%3Dsucceeded&expired=1$"))
    expect(page.get_by_test_id("session-expired")).to_have_text("Your session expired. Sign in again to continue.")
