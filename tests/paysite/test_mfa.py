"""TOTP MFA for ops staff: enrolment with a QR code, verification at sign-in, recovery codes, refusal
of staff pages without MFA when REQUIRE_STAFF_MFA is on."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.factories import make_merchant, make_user

PASSWORD = "correct horse battery"


def _code(device: TOTPDevice, *, ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _actions(outcome: str | None = None) -> list[str]:
    return [e.action for e in AuditEvent.query("ops") if outcome is None or e.outcome == outcome]


@pytest.fixture
def require_mfa(settings):
    settings.REQUIRE_STAFF_MFA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp slows guessing after a wrong code; these tests retry at once
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def _sign_in(client, username: str):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD})


@pytest.mark.parametrize("path", ["/ops/merchants/", "/compliance/", "/audit/verify/", "/admin/"])
def test_staff_without_mfa_are_sent_to_enrolment_and_get_no_staff_page(client, db, require_mfa, path):
    make_merchant("Acme")
    make_user("ops-a", staff=True)
    _sign_in(client, "ops-a")

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == "/mfa/setup/?next=" + quote(path, safe="")


def test_enrolment_shows_a_qr_code_confirms_with_a_code_and_gives_recovery_codes(client, db, require_mfa):
    make_user("ops-b", staff=True)
    _sign_in(client, "ops-b")

    page = client.get("/mfa/setup/?next=/ops/merchants/")
    device = TOTPDevice.objects.get(user__username="ops-b", confirmed=False)
    wrong = client.post("/mfa/setup/", {"token": "000000" if _code(device) != "000000" else "111111"})
    enrolled = client.post("/mfa/setup/", {"token": _code(device), "next": "/ops/merchants/"})

    html = page.content.decode()
    assert "<svg" in html and 'data-testid="mfa-secret"' in html and "<script" not in html.split("</head>", 1)[1]
    assert wrong.status_code == 422
    codes = enrolled.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/ops/merchants/").status_code == 200
    assert "auth.mfa_enroll" in _actions("success") and "auth.mfa_enroll" in _actions("failure")


def test_an_enrolled_user_verifies_at_every_sign_in(client, db, require_mfa):
    user = make_user("ops-c", staff=True)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    _sign_in(client, "ops-c")

    refused = client.get("/ops/merchants/")
    bad = client.post("/mfa/verify/", {"token": "12345x", "next": "/ops/merchants/"})
    good = client.post("/mfa/verify/", {"token": _code(device), "next": "/ops/merchants/"})

    assert refused.status_code == 302 and refused["Location"].startswith("/mfa/verify/")
    assert bad.status_code == 422
    assert good.status_code == 302 and good["Location"] == "/ops/merchants/"
    assert client.get("/ops/merchants/").status_code == 200
    assert "auth.mfa_verify" in _actions("failure") and "auth.mfa_verify" in _actions("success")


def test_a_recovery_code_signs_in_once(client, db, require_mfa):
    from paysite.mfa import mfa_recovery_codes_new

    user = make_user("ops-d", staff=True)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    code = mfa_recovery_codes_new(user=user)[0]

    _sign_in(client, "ops-d")
    first = client.post("/mfa/verify/", {"token": code, "next": "/"})
    client.post("/accounts/logout/")
    _sign_in(client, "ops-d")
    again = client.post("/mfa/verify/", {"token": code, "next": "/"})

    assert first.status_code == 302 and again.status_code == 422


def test_without_the_setting_staff_pass_and_members_are_never_asked(client, db, settings):
    settings.REQUIRE_STAFF_MFA = False
    make_user("ops-e", staff=True)
    _sign_in(client, "ops-e")
    assert client.get("/ops/merchants/").status_code == 200

    settings.REQUIRE_STAFF_MFA = True
    merchant = make_merchant("Acme")
    make_user("member-e", merchant_id=merchant.merchant_id, role="admin")
    client.post("/accounts/logout/")
    _sign_in(client, "member-e")
    assert client.get("/payments/").status_code == 200
