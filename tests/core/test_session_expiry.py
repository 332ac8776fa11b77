"""A request whose session has ended (core.middleware.SessionExpiryMiddleware), the sign-in page that
says so, and "Stay signed in" (paysite.views.session_idle)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from core.middleware import LAST_ACTIVITY
from merchants.selectors import api_key_list_for_merchant
from payments import selectors
from tests.factories import make_payment, make_user

PASSWORD = "correct horse battery"
LIST = reverse("payments:payment-list")
SESSION = reverse("session-idle")
FILTERED = "/payments/?status=requires_capture&currency=usd"  # two filters: `&` must survive `next`
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{FILTERED}"}
REFUND_NOT_SENT = "Your session expired before the refund was sent: nothing was changed."


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def _expire(client: Client, how: str) -> None:
    """End the client's session: idle for the timeout (the next request signs it out), or gone from the
    database (expired and cleared, or signed out on another device)."""
    if how == "idle":
        session = client.session
        session[LAST_ACTIVITY] = int(time.time()) - settings.SESSION_COOKIE_AGE
        session.save()
    else:
        Session.objects.all().delete()


@pytest.fixture
def operator(client, db, merchant):
    user = make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    assert client.post("/accounts/login/", {"username": "olga", "password": PASSWORD}).status_code == 302
    assert client.get(FILTERED).status_code == 200  # the page the person was on
    return user


# --- htmx ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["idle", "deleted"])
def test_an_htmx_request_without_a_session_sends_the_browser_to_sign_in_and_back_to_its_page(client, operator, how):
    _expire(client, how)

    response = client.get(LIST, {"status": "succeeded"}, **HTMX)  # a filter change: the table fragment

    assert response.status_code == 200 and response.content == b""  # nothing to swap into the table
    assert "Location" not in response
    target = response["HX-Redirect"]
    assert urlsplit(target).path == "/accounts/login/"
    assert _query(target) == {"next": FILTERED, "expired": "1"}  # the page and its filters, not the fragment


@pytest.mark.parametrize(
    "current_url",
    [
        "https://evil.example/payments/?status=failed",
        "http://testserver.evil.example/payments/",
        "http://testserver//evil.example/payments/",
        "javascript:alert(1)",
        "http://testserver/accounts/login/?next=/payments/",
        "",
    ],
)
def test_an_htmx_request_from_a_page_not_of_this_site_comes_back_to_the_home_page(client, db, current_url):
    response = client.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=current_url)

    assert _query(response["HX-Redirect"]) == {"next": "/", "expired": "1"}


def test_a_poll_after_the_timeout_sends_the_page_to_sign_in(client, operator):
    _expire(client, "idle")

    response = client.get(LIST, HTTP_X_PAYSITE_POLL="1", **HTMX)

    assert _query(response["HX-Redirect"]) == {"next": FILTERED, "expired": "1"}


def test_a_signed_in_htmx_request_gets_its_fragment(client, operator):
    response = client.get(LIST, {"status": "succeeded"}, **HTMX)

    assert response.status_code == 200 and "HX-Redirect" not in response
    assert response.content.decode().lstrip().startswith('<section id="payment-table"')


# --- plain requests ---------------------------------------------------------------------------


def test_a_plain_page_load_without_a_session_keeps_the_redirect_with_its_whole_query(client, db):
    response = client.get(FILTERED)

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/accounts/login/"
    assert _query(response["Location"]) == {"next": FILTERED}  # never signed in: nothing expired


@pytest.mark.parametrize("how", ["idle", "deleted"])
def test_a_plain_page_load_after_the_session_ended_says_it_expired(client, operator, how):
    _expire(client, how)

    response = client.get(FILTERED)

    assert response.status_code == 302
    assert _query(response["Location"]) == {"next": FILTERED, "expired": "1"}


def test_a_page_that_needs_no_sign_in_is_left_alone(client, db):
    response = client.get("/accounts/login/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and "HX-Redirect" not in response


# --- the sign-in page -------------------------------------------------------------------------


def test_the_sign_in_page_says_the_session_expired_only_when_it_did(client, db):
    expired = client.get("/accounts/login/", {"next": FILTERED, "expired": "1"}).content.decode()
    plain = client.get("/accounts/login/", {"next": FILTERED}).content.decode()

    assert "Your session expired. Sign in again to continue." in expired
    assert 'data-testid="session-expired"' not in plain


@pytest.mark.parametrize("how", ["idle", "deleted"])
def test_signing_in_again_comes_back_to_the_page_with_its_filters(client, operator, how):
    _expire(client, how)
    sign_in = client.get(LIST, {"status": "succeeded"}, **HTMX)["HX-Redirect"]

    page = client.get(sign_in)
    signed_in = client.post(sign_in, {"username": "olga", "password": PASSWORD, "next": _query(sign_in)["next"]})

    assert "Your session expired. Sign in again to continue." in page.content.decode()
    assert signed_in.status_code == 302 and signed_in["Location"] == FILTERED
    assert client.get(signed_in["Location"]).status_code == 200


# --- an expired POST is never replayed ----------------------------------------------------------


@pytest.mark.parametrize("how", ["idle", "deleted"])
def test_an_expired_refund_changes_nothing_and_the_pages_after_it_say_so(client, operator, merchant, how):
    payment = make_payment(merchant.merchant_id, amount=5000)
    detail = reverse("payments:payment-detail", args=[payment.payment_id])
    assert client.get(detail).status_code == 200
    _expire(client, how)

    refused = client.post(
        reverse("payments:payment-refund", args=[payment.payment_id]),
        {"amount": "12.50", "reason": "requested_by_customer", "confirm": "yes"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{detail}",
    )
    sign_in = refused["HX-Redirect"]
    sign_in_page = client.get(sign_in).content.decode()
    signed_in = client.post(sign_in, {"username": "olga", "password": PASSWORD, "next": _query(sign_in)["next"]})
    landed = client.get(signed_in["Location"]).content.decode()

    assert _query(sign_in) == {"next": detail, "expired": "1"}  # the page, never the POST endpoint
    assert REFUND_NOT_SENT in sign_in_page
    assert signed_in["Location"] == detail  # a GET of the page: the refund is not sent again
    assert REFUND_NOT_SENT in landed
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 0 and stored.status == "succeeded"
    assert REFUND_NOT_SENT not in client.get(detail).content.decode()  # said once


@pytest.mark.parametrize(
    ("referer", "comes_back_to"),
    [
        ("{detail}", "{detail}"),  # the payment page's form
        ("{refund}", "/"),  # the confirmation page, shown at the refund's own URL: POST only
        ("https://evil.example/", "/"),
    ],
)
def test_an_expired_refund_without_javascript_goes_to_sign_in_and_changes_nothing(
    client, operator, merchant, referer, comes_back_to
):
    payment = make_payment(merchant.merchant_id, amount=5000)
    urls = {
        "detail": reverse("payments:payment-detail", args=[payment.payment_id]),
        "refund": reverse("payments:payment-refund", args=[payment.payment_id]),
    }
    _expire(client, "idle")

    refused = client.post(
        urls["refund"], {"amount": "10", "confirm": "yes"}, HTTP_REFERER="http://testserver" + referer.format(**urls)
    )

    assert refused.status_code == 302
    assert _query(refused["Location"]) == {"next": comes_back_to.format(**urls), "expired": "1"}
    assert REFUND_NOT_SENT in client.get(refused["Location"]).content.decode()
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 0


def test_an_expired_post_to_another_action_says_nothing_was_changed(client, db, merchant):
    make_user("ada", merchant_id=merchant.merchant_id, role="admin")
    client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
    _expire(client, "deleted")

    refused = client.post(
        reverse("developers:api-key-create"),
        {"name": "after hours"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/developers/",
    )
    sign_in = refused["HX-Redirect"]
    signed_in = client.post(sign_in, {"username": "ada", "password": PASSWORD, "next": _query(sign_in)["next"]})
    landed = client.get(signed_in["Location"]).content.decode()

    assert signed_in["Location"] == "/developers/"
    assert "Your session expired before your last action was carried out: nothing was changed." in landed
    assert api_key_list_for_merchant(merchant_id=merchant.merchant_id) == []


# --- "Stay signed in" ---------------------------------------------------------------------------


def test_stay_signed_in_needs_a_session(client, db):
    for method in (client.get, client.post):
        response = method(SESSION, HTTP_HX_CURRENT_URL=f"http://testserver{FILTERED}")

        assert response.status_code == 401
        assert _query(response["HX-Redirect"]) == {"next": FILTERED, "expired": "1"}


def test_stay_signed_in_resets_the_idle_clock(client, operator):
    session = client.session
    session[LAST_ACTIVITY] = int(time.time()) - (settings.SESSION_COOKIE_AGE - 30)  # the warning is showing
    session.save()

    asked = client.get(SESSION, HTTP_X_PAYSITE_POLL="1")
    unchanged = client.session[LAST_ACTIVITY]
    stayed = client.post(SESSION)

    assert asked.status_code == 204 and 25 <= int(asked["X-Paysite-Idle-Seconds-Left"]) <= 30
    assert unchanged <= int(time.time()) - (settings.SESSION_COOKIE_AGE - 30)  # asking is a poll: not activity
    assert stayed.status_code == 204 and int(stayed["X-Paysite-Idle-Seconds-Left"]) == settings.SESSION_COOKIE_AGE
    assert client.session[LAST_ACTIVITY] >= int(time.time()) - 5
    assert "no-store" in stayed["Cache-Control"]


def test_stay_signed_in_after_the_timeout_is_too_late(client, operator):
    _expire(client, "idle")

    response = client.post(SESSION, HTTP_HX_CURRENT_URL=f"http://testserver{FILTERED}")

    assert response.status_code == 401 and _query(response["HX-Redirect"]) == {"next": FILTERED, "expired": "1"}
    assert client.get(LIST).status_code == 302


def test_stay_signed_in_refuses_a_post_without_the_csrf_token(db, merchant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(merchant_id=merchant.merchant_id))

    assert client.post(SESSION).status_code == 403


def test_signed_in_pages_carry_the_timeout_and_the_warning_and_the_sign_in_page_does_not(client, operator):
    page = client.get(LIST).content.decode()
    sign_in = Client().get("/accounts/login/").content.decode()

    assert f'data-session-idle-seconds="{settings.SESSION_COOKIE_AGE}"' in page
    assert f'data-session-url="{SESSION}"' in page
    assert 'id="session-warning"' in page and "Stay signed in" in page and "paysite/session.js" in page
    assert "data-session-idle-seconds" not in sign_in and 'id="session-warning"' not in sign_in
