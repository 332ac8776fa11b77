"""Security headers: a CSP without 'unsafe-inline' for scripts on every page, and pages that need none
(no inline scripts or event handlers); HSTS, X-Frame-Options DENY and Referrer-Policy."""

from __future__ import annotations

import re

import pytest

from compliance.checks import Context, check_security_headers
from tests.factories import make_payment

# an executable inline script: a <script> without src that is not a JSON data block (json_script)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _assert_clean(response, path):
    csp = response["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, path
    assert "frame-ancestors 'none'" in csp
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), path
    assert not INLINE_HANDLER.search(html), path
    assert response["X-Frame-Options"] == "DENY" and response["Referrer-Policy"], path


PAGES = [
    "/",
    "/payments/",
    "/payments/{payment}/",
    "/customers/",
    "/settlements/",
    "/developers/",
    "/audit/",
    "/audit/verify/",
    "/compliance/",
    "/ops/merchants/",
    "/mfa/setup/",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_csp_and_no_inline_script(signed_in, merchant, path):
    payment = make_payment(merchant.merchant_id)
    client = signed_in("admin", staff=True)
    client.post("/merchant/switch/", {"merchant_id": merchant.merchant_id})

    response = client.get(path.format(payment=payment.payment_id))

    assert response.status_code == 200
    _assert_clean(response, path)


def test_the_sign_in_page_has_the_csp_and_no_inline_script(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    _assert_clean(response, "/accounts/login/")


def test_htmx_is_configured_by_a_meta_tag_not_an_inline_script(signed_in):
    response = signed_in("admin").get("/")

    assert response.status_code == 200
    assert '<meta name="htmx-config"' in response.content.decode()


def test_production_settings_send_hsts_and_the_report_row_passes(db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    check = check_security_headers(Context())

    assert check.status == "pass", check
    assert any(line.startswith("Strict-Transport-Security: max-age=31536000") for line in check.evidence)
    assert any(line.startswith("Content-Security-Policy: default-src 'self'") for line in check.evidence)
