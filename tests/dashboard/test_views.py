"""Home, customers, developers, ops and the error pages, for every role."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from customers.services import customer_create
from merchants.selectors import api_key_list_for_merchant, merchant_list
from payments import services
from tests.factories import HTMX, TEST_ACTOR, make_api_key, make_payment, make_user
from webhooks.endpoints import webhook_endpoint_secret_reveal
from webhooks.selectors import webhook_endpoint_list

# --- home ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_home_shows_summary_cards_charts_and_latest_payments(as_role, merchant, role):
    now = datetime.now(UTC)
    make_payment(merchant.merchant_id, amount=10000, now=now - timedelta(days=3))
    latest = make_payment(merchant.merchant_id, amount=2500)
    services.refund_create(merchant_id=merchant.merchant_id, payment_id=latest.payment_id, actor=TEST_ACTOR, amount=500)

    response = as_role(role).get(reverse("home"))

    body = response.content.decode()
    board = response.context["board"]
    assert response.status_code == 200
    today, week, month = board.windows
    assert (today.totals.captured, week.totals.captured, month.totals.captured) == (2500, 12500, 12500)
    assert today.totals.refunded == 500 and month.totals.net == 12000 and month.totals.count == 2
    assert "$125.00" in body and "$120.00" in body  # 7-day volume, 30-day net
    assert 'id="volume-data"' in body and 'id="status-data"' in body and "chart.umd.min.js" in body
    assert latest.payment_id in body


def test_home_currency_tab_is_an_htmx_fragment(as_role, merchant):
    make_payment(merchant.merchant_id, amount=1000)
    make_payment(merchant.merchant_id, amount=700, currency="eur")

    response = as_role("viewer").get(reverse("home"), {"currency": "eur"}, **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="overview"') and "<html" not in body
    assert "€7,00" in body and "Latest payments" not in body


def test_home_without_payments_has_an_empty_state(as_role):
    response = as_role("viewer").get(reverse("home"))

    assert b'data-testid="home-empty"' in response.content


# --- customers -------------------------------------------------------------------------------


@pytest.fixture
def customer(merchant):
    return customer_create(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        email="jane.doe@example.com",
        name="Jane Doe",
        phone="+1 555 0100 42",
    )


def _customer_page_url(page: str, customer) -> str:
    if page == "list":
        return reverse("customers:customer-list")
    return reverse("customers:customer-detail", args=[customer.customer_id])


@pytest.mark.parametrize("page", ["list", "detail"])
@pytest.mark.parametrize("role", ["operator", "admin"])
def test_customers_in_clear_for_operator_and_admin(as_role, customer, role, page):
    response = as_role(role).get(_customer_page_url(page, customer))

    assert response.status_code == 200
    assert b"jane.doe@example.com" in response.content and b"Jane Doe" in response.content
    assert (b"+1 555 0100 42" in response.content) is (page == "detail")  # the list has no phone column


@pytest.mark.parametrize("page", ["list", "detail"])
def test_customers_masked_for_viewer(as_role, customer, page):
    response = as_role("viewer").get(_customer_page_url(page, customer))

    body = response.content.decode()
    assert response.status_code == 200
    assert "jane.doe@example.com" not in body and "Jane Doe" not in body and "0100 42" not in body
    assert "j•••@example.com" in body and "J••• D•••" in body and "masked" in body


def test_customer_detail_lists_their_payments_and_email_search(as_role, merchant, customer):
    paid = make_payment(merchant.merchant_id, customer_id=customer.customer_id)
    make_payment(merchant.merchant_id)
    client = as_role("operator")

    detail = client.get(reverse("customers:customer-detail", args=[customer.customer_id]))
    found = client.get(reverse("customers:customer-list"), {"email": "JANE.DOE@example.com"}, **HTMX)
    missing = client.get(reverse("customers:customer-list"), {"email": "nobody@example.com"}, **HTMX)
    invalid = client.get(reverse("customers:customer-list"), {"email": "not-an-email"})

    assert [p.payment_id for p in detail.context["payments"]] == [paid.payment_id]
    assert found.content.decode().lstrip().startswith('<section id="customer-table"')
    assert customer.customer_id.encode() in found.content
    assert b"No customer has that email" in missing.content
    assert b"Enter a valid email address" in invalid.content


def test_another_merchants_customer_is_404(as_role, other):
    theirs = customer_create(merchant_id=other.merchant_id, actor=TEST_ACTOR, email="x@example.com")

    response = as_role("admin").get(reverse("customers:customer-detail", args=[theirs.customer_id]))

    assert response.status_code == 404


# --- developers ------------------------------------------------------------------------------

DEV = reverse("developers:developers")


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("operator", 403), ("admin", 200)])
def test_developers_page_is_for_admins(as_role, role, status):
    assert as_role(role).get(DEV).status_code == status


def test_admin_creates_a_key_and_sees_the_secret_once(as_role, merchant):
    client = as_role("admin")

    created = client.post(reverse("developers:api-key-create"), {"name": "checkout"}, **HTMX)
    later = client.get(DEV)

    keys = api_key_list_for_merchant(merchant_id=merchant.merchant_id)
    shown = re.search(r'id="new-key-secret" type="text" value="([^"]+)"', created.content.decode())
    assert shown, created.content[:500]
    secret = shown.group(1)
    assert secret.startswith("sk_test_")
    assert created.content.decode().lstrip().startswith('<section id="api-keys"')
    assert secret.encode() in created.content and b'data-copy="#new-key-secret"' in created.content
    assert secret.encode() not in later.content and keys[0].prefix.encode() in later.content
    assert [k.name for k in keys] == ["checkout"]


def test_key_name_is_required(as_role):
    response = as_role("admin").post(reverse("developers:api-key-create"), {"name": ""})

    assert response.status_code == 422 and b"This field is required" in response.content


def test_admin_revokes_a_key_after_confirming(as_role, merchant):
    make_api_key(merchant.merchant_id, name="old")
    key = api_key_list_for_merchant(merchant_id=merchant.merchant_id)[0]
    client = as_role("admin")
    url = reverse("developers:api-key-revoke", args=[key.key_id])

    ask = client.post(url)
    assert b"Revoke" in ask.content and api_key_list_for_merchant(merchant_id=merchant.merchant_id)[0].revoked is None
    done = client.post(url, {"confirm": "yes"}, **HTMX)

    assert b"is revoked" in done.content
    assert api_key_list_for_merchant(merchant_id=merchant.merchant_id)[0].revoked is not None


def test_another_merchants_key_cannot_be_revoked(as_role, other):
    make_api_key(other.merchant_id)
    key = api_key_list_for_merchant(merchant_id=other.merchant_id)[0]

    response = as_role("admin").post(reverse("developers:api-key-revoke", args=[key.key_id]), {"confirm": "yes"})

    assert response.status_code == 404
    assert api_key_list_for_merchant(merchant_id=other.merchant_id)[0].revoked is None


def test_developers_page_shows_a_new_endpoints_secret_once(as_role, merchant):
    client = as_role("admin")

    added = client.post(reverse("developers:endpoint-create"), {"url": "https://example.com/hook", "events": ["*"]})
    page = client.get(DEV)

    [endpoint] = webhook_endpoint_list(merchant_id=merchant.merchant_id)
    secret = webhook_endpoint_secret_reveal(endpoint=endpoint)
    assert secret.startswith("whsec_") and secret.encode() in added.content
    assert secret.encode() not in page.content and b"https://example.com/hook" in page.content


def test_admin_adds_an_endpoint_with_field_errors_first(as_role, merchant):
    client = as_role("admin")
    url = reverse("developers:endpoint-create")

    bad = client.post(url, {"url": "http://example.com/hook", "events": ["*"]})
    good = client.post(url, {"url": "https://example.com/hook", "events": ["payment.failed"]})

    assert bad.status_code == 422 and b"must use https" in bad.content
    assert good.status_code == 200
    assert [e.events for e in webhook_endpoint_list(merchant_id=merchant.merchant_id)] == [["payment.failed"]]


def test_admin_rotates_an_endpoints_secret_after_confirming(as_role, merchant):
    client = as_role("admin")
    client.post(reverse("developers:endpoint-create"), {"url": "https://example.com/hook", "events": ["*"]})
    [endpoint] = webhook_endpoint_list(merchant_id=merchant.merchant_id)
    url = reverse("developers:endpoint-rotate", args=[endpoint.endpoint_id])
    before = webhook_endpoint_secret_reveal(endpoint=endpoint)

    ask = client.post(url)
    unchanged = webhook_endpoint_secret_reveal(endpoint=webhook_endpoint_list(merchant_id=merchant.merchant_id)[0])
    done = client.post(url, {"confirm": "yes"})

    after = webhook_endpoint_secret_reveal(endpoint=webhook_endpoint_list(merchant_id=merchant.merchant_id)[0])
    assert b"Rotate the webhook signing secret?" in ask.content and unchanged == before
    assert after != before and after.encode() in done.content and b"keeps signing beside it" in done.content


def test_payment_detail_lists_its_webhook_deliveries(as_role, merchant):
    client = as_role("admin")
    client.post(reverse("developers:endpoint-create"), {"url": "https://example.com/hook", "events": ["*"]})
    payment = make_payment(merchant.merchant_id)

    detail = client.get(reverse("payments:payment-detail", args=[payment.payment_id]))
    page = client.get(DEV)

    deliveries = detail.context["deliveries"]
    assert deliveries and all(d.entity_id == payment.payment_id for d in deliveries)
    assert b"payment.succeeded" in detail.content and b"payment.succeeded" in page.content


# --- ops -------------------------------------------------------------------------------------

OPS = reverse("ops:merchant-list")


def test_ops_page_is_for_staff_only(as_role, client):
    assert as_role("admin").get(OPS).status_code == 403


def test_ops_page_lists_merchants_with_their_volume(staff_client, merchant, other):
    make_payment(merchant.merchant_id, amount=12345)
    make_payment(other.merchant_id, amount=500, currency="eur")

    response = staff_client.get(OPS)

    body = response.content.decode()
    assert response.status_code == 200 and "Acme" in body and "Globex" in body
    assert "$123.45" in body and "€5,00" in body
    assert reverse("admin:merchants_membership_changelist") in body


def test_ops_creates_a_merchant_with_field_errors_first(staff_client):
    bad = staff_client.post(OPS, {"name": "", "default_currency": "usd"})
    good = staff_client.post(OPS, {"name": "Initech", "default_currency": "eur"}, **HTMX)

    assert bad.status_code == 422 and b"This field is required" in bad.content
    assert good.content.decode().lstrip().startswith('<div id="merchants"')
    assert b"Created Initech" in good.content
    created = next(m for m in merchant_list() if m.name == "Initech")
    assert created.default_currency == "eur"
    assert any(
        e.action == "merchant.create" and e.actor_id == "ops-staff" for e in AuditEvent.query(created.merchant_id)
    )


def test_ops_switches_merchant_and_sees_its_data(staff_client, merchant, other):
    theirs = make_payment(other.merchant_id)

    staff_client.post(reverse("merchant-switch"), {"merchant_id": other.merchant_id})
    response = staff_client.get(reverse("payments:payment-list"))

    assert [p.payment_id for p in response.context["payments"]] == [theirs.payment_id]
    assert b"Merchants</a>" in response.content  # the ops nav link


# --- layout and errors -----------------------------------------------------------------------


def test_nav_shows_role_and_only_the_links_the_role_may_use(as_role):
    viewer = as_role("viewer").get(reverse("home")).content.decode()

    assert "· viewer" in viewer and ">Payments</a>" in viewer and ">Customers</a>" in viewer
    assert ">Developers</a>" not in viewer and ">Merchants</a>" not in viewer


def test_404_page_is_styled(as_role):
    response = as_role("viewer").get("/payments/pay_01JDQZ0000000000000000000/")

    assert response.status_code == 404 and b"Not found" in response.content and b"navbar" in response.content


def test_500_page_renders_without_a_request_context():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")

    assert "Something went wrong" in html and "bulma" in html


def test_multi_merchant_member_gets_the_switcher(client, db, merchant, other):
    user = make_user(merchant_id=merchant.merchant_id, role="viewer")
    user.memberships.create(merchant_id=other.merchant_id, role="admin")
    client.force_login(user)

    response = client.get(reverse("home"))

    assert b'id="merchant-switcher"' in response.content and b"Globex" in response.content


_ANCHOR = re.compile(r"<a\b[^>]*>")
_HX_GET = re.compile(r"""<([a-z]+)\b[^>]*\bhx-get=["']?([^"'\s>]*)[^>]*>""")


def _works_without_javascript(name: str, tag: str) -> bool:
    return name == "a" and "href=" in tag or name == "form" and "action=" in tag


# page: every element with hx-get on it, as (tag, hx-get, has its no-JavaScript fallback)
HX_GET_ELEMENTS = {
    "home": [("a", "?currency=eur", True), ("a", "?currency=usd", True)],  # the currency tabs
    "payments:payment-list": [("form", "/payments/", True), ("a", "?sort=oldest", True)],  # filters, sort
    "developers:developers": [("form", "/developers/deliveries/", True)],  # the delivery log's filters
    "customers:customer-list": [("form", "/customers/", True)],  # the email search
}


@pytest.mark.parametrize("page", HX_GET_ELEMENTS)
def test_every_page_link_has_an_href(as_role, merchant, page):
    make_payment(merchant.merchant_id)
    make_payment(merchant.merchant_id, currency="eur")  # two currencies: the home page shows tabs

    response = as_role("admin").get(reverse(page))

    body = response.content.decode()
    anchors = _ANCHOR.findall(body)
    assert response.status_code == 200 and len(anchors) >= 5, anchors  # at least the navigation
    assert [tag for tag in anchors if "href=" not in tag] == []
    hx_get = [(m[1], m[2], _works_without_javascript(m[1], m[0])) for m in _HX_GET.finditer(body)]
    assert len(hx_get) == body.count("hx-get="), "an hx-get the pattern did not parse"
    assert hx_get == HX_GET_ELEMENTS[page]


def test_403_page_is_styled_and_names_the_role(as_role):
    response = as_role("operator").get(DEV)

    assert response.status_code == 403
    assert b"Your role cannot open this page" in response.content and b"signed in as operator" in response.content


PAGES = {
    "home": ("home", 200, 200, 200, 403),
    "payments": ("payments:payment-list", 200, 200, 200, 403),
    "customers": ("customers:customer-list", 200, 200, 200, 403),
    "developers": ("developers:developers", 403, 403, 200, 403),
    "merchants": ("ops:merchant-list", 403, 403, 403, 403),
}


@pytest.mark.parametrize("page", PAGES)
def test_page_access_by_role(client, db, merchant, page):
    """viewer, operator, admin, and a signed-in user with no membership: the exact status of each page."""
    name, *expected = PAGES[page]
    users = [make_user(merchant_id=merchant.merchant_id, role=r) for r in ("viewer", "operator", "admin")]
    users.append(make_user())
    got = []
    for user in users:
        client.force_login(user)
        got.append(client.get(reverse(name)).status_code)
    client.logout()
    anonymous = client.get(reverse(name))

    assert got == expected
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
