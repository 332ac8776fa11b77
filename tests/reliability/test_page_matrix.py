"""Authorization matrix of the pages: every URL pattern (outside /api/ and /admin/) × (signed out,
viewer, operator, admin, an admin of another merchant, ops staff without MFA), each with the exact
status; a URL pattern without a row fails. And CSRF: every page form and htmx POST is refused
without the token and accepted with it."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apilog.selectors import api_request_list_for_merchant
from audit.models import AuditEvent
from customers.services import customer_create
from disputes.services import dispute_evidence_file_add, dispute_open
from merchants.selectors import api_key_list_for_merchant
from reconciliation.models import Payout
from tests.factories import TEST_ACTOR, make_api_key, make_merchant, make_payment, make_user
from tests.reliability.settlements import settlement_with_a_discrepancy
from webhooks.endpoints import webhook_endpoint_create
from webhooks.selectors import webhook_delivery_list_for_merchant

pytestmark = pytest.mark.django_db

PRINCIPALS = ("anonymous", "viewer", "operator", "admin", "other_admin", "staff_no_mfa")
LOGIN, MFA, CHOOSE = "login", "mfa", "choose"  # 302 to the sign-in page, to MFA enrolment, to the merchant chooser

# URL name: (method, path, POST data, expected per PRINCIPALS)
ROWS: dict[str, tuple[str, str, dict, tuple]] = {
    "home": ("GET", "/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "login": ("GET", "/accounts/login/", {}, (200, 302, 302, 302, 302, 302)),  # signed in: sent on
    "logout": ("POST", "/accounts/logout/", {}, (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),
    "session-idle": ("POST", "/accounts/session/", {}, (401, 204, 204, 204, 204, 204)),  # "Stay signed in"
    "theme-update": ("POST", "/accounts/theme/", {"theme": "dark"}, (LOGIN, 302, 302, 302, 302, MFA)),  # back to "/"
    "merchant-switch": ("POST", "/merchant/switch/", {"merchant_id": "{merchant}"}, (LOGIN, 302, 302, 302, 302, MFA)),
    "merchant-choose": ("GET", "/merchant/choose/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "payments:payment-list": ("GET", "/payments/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "payments:payment-export": ("GET", "/payments/export/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "payments:payment-detail": ("GET", "/payments/{payment}/", {}, (LOGIN, 200, 200, 200, 404, MFA)),
    "payments:payment-capture": ("POST", "/payments/{authorized}/capture/", {}, (LOGIN, 403, 200, 200, 404, MFA)),
    "payments:payment-cancel": ("POST", "/payments/{authorized}/cancel/", {}, (LOGIN, 403, 200, 200, 404, MFA)),
    "payments:payment-refund": ("POST", "/payments/{payment}/refund/", {}, (LOGIN, 403, 200, 200, 404, MFA)),
    "payments:payment-import": ("GET", "/payments/import/", {}, (LOGIN, 403, 403, 200, 200, MFA)),
    "payments:refund-request-list": ("GET", "/payments/refund-requests/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "payments:refund-approval-settings": (
        "POST",
        "/payments/refund-requests/settings/",
        {"thresholds": "USD 500.00"},
        (LOGIN, 403, 403, 302, 302, MFA),
    ),
    # an unknown request: the list page says so (a foreign request is unknown too)
    "payments:refund-request-approve": (
        "POST",
        "/payments/refund-requests/rr_01JZZZZZZZZZZZZZZZZZZZZZZZ/approve/",
        {},
        (LOGIN, 403, 302, 302, 302, MFA),
    ),
    "payments:refund-request-reject": (
        "POST",
        "/payments/refund-requests/rr_01JZZZZZZZZZZZZZZZZZZZZZZZ/reject/",
        {"reason": "matrix"},
        (LOGIN, 403, 302, 302, 302, MFA),
    ),
    "disputes:dispute-list": ("GET", "/disputes/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "disputes:dispute-open": ("GET", "/disputes/open/{payment}/", {}, (LOGIN, 403, 403, 403, 403, MFA)),  # ops only
    "disputes:dispute-detail": ("GET", "/disputes/{dispute}/", {}, (LOGIN, 200, 200, 200, 404, MFA)),
    "disputes:dispute-evidence": (
        "POST",
        "/disputes/{dispute}/evidence/",
        {"text": "matrix draft", "action": "save"},
        (LOGIN, 403, 302, 302, 404, MFA),
    ),
    "disputes:dispute-evidence-file": (
        "POST",
        "/disputes/{dispute}/evidence/files/",
        {},
        (LOGIN, 403, 422, 422, 404, MFA),  # no file chosen: the page says so
    ),
    "disputes:dispute-evidence-file-download": (
        "GET",
        "/disputes/{dispute}/evidence/files/{evidence_file}/",
        {},
        (LOGIN, 200, 200, 200, 404, MFA),
    ),
    "disputes:dispute-accept": (
        "POST",
        "/disputes/{dispute}/accept/",
        {},
        (LOGIN, 403, 422, 422, 404, MFA),  # without `confirm`: the page asks for it
    ),
    "reconciliation:settlement-list": ("GET", "/settlements/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "payouts:balance": ("GET", "/balance/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "payouts:payout-list": ("GET", "/balance/payouts/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "payouts:payout-detail": ("GET", "/balance/payouts/{payout}/", {}, (LOGIN, 200, 200, 200, 404, MFA)),
    "payouts:payout-export": ("GET", "/balance/payouts/{payout}/payments.csv", {}, (LOGIN, 200, 200, 200, 404, MFA)),
    "reconciliation:settlement-upload": ("GET", "/settlements/upload/", {}, (LOGIN, 403, 200, 200, 200, MFA)),
    "reconciliation:settlement-detail": ("GET", "/settlements/{settlement}/", {}, (LOGIN, 200, 200, 200, 404, MFA)),
    "reconciliation:discrepancy-export": (
        "GET",
        "/settlements/{settlement}/discrepancies.csv",
        {},
        (LOGIN, 200, 200, 200, 404, MFA),
    ),
    "reconciliation:discrepancy-resolve": (
        "POST",
        "/settlements/{settlement}/discrepancies/{discrepancy}/resolve/",
        {"reason": "checked with the processor"},
        (LOGIN, 403, 302, 302, 404, MFA),  # the operator resolves it; the admin is told it already is
    ),
    "reconciliation:discrepancy-resolve-bulk": (
        "POST",
        "/settlements/{settlement}/discrepancies/resolve/",
        {"scope": "kind", "kind": "amount_mismatch", "reason": "checked with the processor"},
        (LOGIN, 403, 302, 302, 404, MFA),  # back to the page with the outcome (the admin's: none left open)
    ),
    "customers:customer-list": ("GET", "/customers/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "customers:customer-detail": ("GET", "/customers/{customer}/", {}, (LOGIN, 200, 200, 200, 404, MFA)),
    "developers:developers": ("GET", "/developers/", {}, (LOGIN, 403, 403, 200, 200, MFA)),
    "developers:api-key-create": ("POST", "/developers/keys/", {"name": "matrix"}, (LOGIN, 403, 403, 200, 200, MFA)),
    "developers:api-key-revoke": ("POST", "/developers/keys/{key}/revoke/", {}, (LOGIN, 403, 403, 200, 404, MFA)),
    "developers:endpoint-create": (
        "POST",
        "/developers/endpoints/",
        {"url": "https://hooks.example.com/matrix", "events": "*"},
        (LOGIN, 403, 403, 200, 200, MFA),  # another merchant's admin adds one to their own merchant
    ),
    "developers:endpoint-edit": ("GET", "/developers/endpoints/{endpoint}/", {}, (LOGIN, 403, 403, 200, 404, MFA)),
    "developers:endpoint-disable": (
        "POST",
        "/developers/endpoints/{endpoint}/disable/",
        {"disabled": "0"},
        (LOGIN, 403, 403, 302, 404, MFA),
    ),
    "developers:endpoint-delete": (
        "POST",
        "/developers/endpoints/{endpoint}/delete/",
        {},
        (LOGIN, 403, 403, 200, 404, MFA),  # without `confirm`: the confirmation page
    ),
    "developers:endpoint-rotate": (
        "POST",
        "/developers/endpoints/{endpoint}/rotate/",
        {},
        (LOGIN, 403, 403, 200, 404, MFA),  # without `confirm`: the confirmation page
    ),
    "developers:endpoint-test": (
        "POST",
        "/developers/endpoints/{endpoint}/test/",
        {},
        (LOGIN, 403, 403, 302, 404, MFA),
    ),
    "developers:delivery-log": ("GET", "/developers/deliveries/", {}, (LOGIN, 403, 403, 200, 200, MFA)),
    "developers:request-log": ("GET", "/developers/logs/", {}, (LOGIN, 403, 403, 200, 200, MFA)),
    "developers:request-detail": ("GET", "/developers/logs/{api_request}/", {}, (LOGIN, 403, 403, 200, 404, MFA)),
    "developers:delivery-resend": (
        "POST",
        "/developers/deliveries/{delivery}/resend/",
        {},
        (LOGIN, 403, 403, 302, 404, MFA),
    ),
    "ops:merchant-list": ("GET", "/ops/merchants/", {}, (LOGIN, 403, 403, 403, 403, MFA)),
    "audit:event-list": ("GET", "/audit/", {}, (LOGIN, 403, 403, 200, 200, MFA)),
    "audit:event-export": ("GET", "/audit/export/", {}, (LOGIN, 403, 403, 200, 200, MFA)),
    "audit:verify": ("GET", "/audit/verify/", {}, (LOGIN, 403, 403, 403, 403, MFA)),
    "audit:event-detail": ("GET", "/audit/{event}/", {}, (LOGIN, 403, 403, 200, 404, MFA)),
    "compliance:report": ("GET", "/compliance/", {}, (LOGIN, 403, 403, 403, 403, MFA)),
    "compliance:report-json": ("GET", "/compliance/report.json", {}, (LOGIN, 403, 403, 403, 403, MFA)),
    "compliance:report-html": ("GET", "/compliance/report.html", {}, (LOGIN, 403, 403, 403, 403, MFA)),
    # "Run now", ops staff only (its POST: tests/compliance/test_runs.py); a GET, so the CSRF test's admin is not refused
    "compliance:run": ("GET", "/compliance/run/", {}, (LOGIN, 403, 403, 403, 403, MFA)),
    "mfa-setup": ("GET", "/mfa/setup/", {}, (LOGIN, 200, 200, 200, 200, 200)),
    "mfa-verify": ("GET", "/mfa/verify/", {}, (LOGIN, MFA, MFA, MFA, MFA, MFA)),  # no device yet: enrol
    "mfa-recovery": ("GET", "/mfa/recovery/", {}, (LOGIN, 302, 302, 302, 302, 302)),
    "costs:cost-estimate": ("GET", "/costs/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "settings:merchant-settings": ("GET", "/settings/", {}, (LOGIN, 403, 403, 200, 200, MFA)),
    # ops staff only (their POSTs: tests/merchants/test_settings.py); a GET, so the CSRF test's admin is not refused
    "settings:ops": ("GET", "/settings/ops/", {}, (LOGIN, 403, 403, 403, 403, MFA)),
    "settings:team": ("GET", "/settings/team/", {}, (LOGIN, 403, 403, 200, 200, MFA)),
    "settings:team-invite": (
        "POST",
        "/settings/team/invites/",
        {"email": "matrix@example.com", "role": "viewer"},
        (LOGIN, 403, 403, 302, 302, MFA),
    ),
    # an unknown invite, a foreign member: 404; the member's role is set to the one it has
    "settings:team-invite-revoke": (
        "POST",
        "/settings/team/invites/inv_01JZZZZZZZZZZZZZZZZZZZZZZZ/revoke/",
        {},
        (LOGIN, 403, 403, 404, 404, MFA),
    ),
    "settings:team-member-role": (
        "POST",
        "/settings/team/members/{member}/role/",
        {"role": "viewer"},
        (LOGIN, 403, 403, 302, 404, MFA),
    ),
    "settings:team-member-remove": (
        "POST",
        "/settings/team/members/{member}/remove/",
        {},
        (LOGIN, 403, 403, 302, 404, MFA),  # the admin removed the member
    ),
    # password reset and change, the invite link (no invite in the session: 404)
    "password_reset": ("GET", "/accounts/password/reset/", {}, (200, 200, 200, 200, 200, MFA)),
    "password_reset_done": ("GET", "/accounts/password/reset/sent/", {}, (200, 200, 200, 200, 200, MFA)),
    "password_reset_confirm": (
        "GET",
        "/accounts/password/reset/MQ/not-a-token/",
        {},
        (200, 200, 200, 200, 200, MFA),  # says the link does not work
    ),
    "password_reset_complete": ("GET", "/accounts/password/reset/done/", {}, (200, 200, 200, 200, 200, MFA)),
    "password_change": ("GET", "/accounts/password/change/", {}, (LOGIN, 200, 200, 200, 200, MFA)),
    "invite-open": ("GET", "/accounts/invite/not-a-token/", {}, (302, 302, 302, 302, 302, MFA)),
    "invite-accept": ("GET", "/accounts/invite/", {}, (404, 404, 404, 404, 404, MFA)),
}


def _url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) in ("api/v1/", "admin/"):
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_page_has_a_row():
    assert _url_names() == set(ROWS), "add a row to ROWS for every new page"


@pytest.fixture
def pages(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "settlements": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "settlements"},
        },
    }
    settings.REQUIRE_STAFF_MFA = True
    merchant, other = make_merchant("Acme"), make_merchant("Globex")
    secret = make_api_key(merchant.merchant_id)
    settlement_id, discrepancy_id, _ = settlement_with_a_discrepancy(merchant.merchant_id, secret)
    key = api_key_list_for_merchant(merchant_id=merchant.merchant_id)[0]
    customer = customer_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="c@example.com")
    event = next(e for e in AuditEvent.query(merchant.merchant_id) if e.action == "payment.create")
    users = {role: make_user(merchant_id=merchant.merchant_id, role=role) for role in ("viewer", "operator", "admin")}
    users["other_admin"] = make_user(merchant_id=other.merchant_id, role="admin")
    users["staff_no_mfa"] = make_user(staff=True)
    ids = {
        "merchant": merchant.merchant_id,
        "payment": make_payment(merchant.merchant_id).payment_id,
        "authorized": make_payment(merchant.merchant_id, capture=False).payment_id,
        "settlement": settlement_id,
        "discrepancy": discrepancy_id,
        "payout": next(iter(Payout.by_merchant.query(merchant.merchant_id))).payout_id,
        "customer": customer.customer_id,
        "key": key.key_id,
        "event": event.event_id,
    }
    endpoint, _ = webhook_endpoint_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="https://hooks.example.com/in", events=["*"]
    )
    make_payment(merchant.merchant_id)  # its event goes to the endpoint: a delivery
    ids["endpoint"] = endpoint.endpoint_id
    dispute = dispute_open(
        merchant_id=merchant.merchant_id, payment_id=make_payment(merchant.merchant_id).payment_id, actor=TEST_ACTOR
    )
    ids["dispute"] = dispute.dispute_id
    with_file = dispute_evidence_file_add(
        merchant_id=merchant.merchant_id,
        dispute_id=dispute.dispute_id,
        actor=TEST_ACTOR,
        upload=SimpleUploadedFile("receipt.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    ids["evidence_file"] = with_file.evidence.files[0].file_id
    ids["member"] = str(make_user(merchant_id=merchant.merchant_id, role="viewer").memberships.get().pk)
    ids["delivery"] = webhook_delivery_list_for_merchant(merchant_id=merchant.merchant_id).items[0].event_id
    ids["api_request"] = api_request_list_for_merchant(merchant_id=merchant.merchant_id).items[0].log_id
    return users, ids


def _outcome(response) -> int | str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/accounts/login/"):
            return LOGIN
        if location.startswith("/mfa/setup/"):
            return MFA
    return response.status_code


def _request(client: Client, method: str, path: str, data: dict, ids: dict):
    url = path.format(**ids)
    if method == "GET":
        return client.get(url)
    return client.post(url, {name: value.format(**ids) for name, value in data.items()})


def test_every_page_answers_each_principal_with_the_exact_status(pages):
    users, ids = pages
    got, expected = {}, {}
    for name, (method, path, data, statuses) in ROWS.items():
        row = []
        for principal in PRINCIPALS:
            client = Client()
            if principal != "anonymous":
                client.force_login(users[principal])
            row.append(_outcome(_request(client, method, path, data, ids)))
        got[name], expected[name] = tuple(row), statuses
    mismatches = {n: g for n, g in got.items() if g != expected[n]}
    assert not mismatches, "\n".join(f"{n}: got {g}, row {expected[n]}" for n, g in mismatches.items())


POSTS = [name for name, (method, *_) in ROWS.items() if method == "POST"] + ["login"]
_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def _post_form_data(name: str, ids: dict) -> tuple[str, dict]:
    method, path, data, _ = ROWS[name]
    if name == "login":
        return "/accounts/login/", {"username": "nobody", "password": "wrong"}
    return path.format(**ids), {key: value.format(**ids) for key, value in data.items()}


def test_every_page_post_is_refused_without_the_csrf_token_and_accepted_with_it(pages):
    users, ids = pages
    refused, accepted = {}, {}
    for name in POSTS:
        path, data = _post_form_data(name, ids)
        client = Client(enforce_csrf_checks=True)
        if name != "login":
            client.force_login(users["admin"])
        refused[name] = client.post(path, data).status_code
        client.get("/accounts/login/" if name == "login" else "/")  # sets the csrftoken cookie
        token = client.cookies["csrftoken"].value
        as_form = client.post(path, {**data, "csrfmiddlewaretoken": token}).status_code
        as_htmx = client.post(path, data, HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true").status_code
        accepted[name] = (as_form != 403, as_htmx != 403)
    assert refused == dict.fromkeys(POSTS, 403)
    assert accepted == dict.fromkeys(POSTS, (True, True))


def test_every_post_form_on_the_pages_carries_the_token_and_htmx_sends_it(pages):
    users, ids = pages
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["admin"])
    missing, htmx_without_token, full_pages, checked = [], [], 0, 0
    for name, (method, path, _, _) in ROWS.items():
        if method != "GET" or name.startswith(("mfa", "login", "compliance", "audit:verify", "ops:")):
            continue
        response = client.get(path.format(**ids))
        if response.streaming or "text/html" not in response["Content-Type"]:
            continue
        html = response.content.decode()
        if "<body" in html:
            full_pages += 1
            if "X-CSRFToken" not in html:
                htmx_without_token.append(name)  # its htmx requests would go without the token
        for form in _FORM.findall(html):
            if re.search(r'method="post"', form, re.I):
                checked += 1
                if "csrfmiddlewaretoken" not in form:
                    missing.append(name)
    assert htmx_without_token == [] and full_pages >= 13, (htmx_without_token, full_pages)
    assert missing == [] and checked >= 5, (missing, checked)
