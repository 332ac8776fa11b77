"""Deployment safety: production settings pass Django's deployment checks, and a full scenario logs no
card number, CVC, API secret, webhook secret or customer PII in clear."""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from merchants.services.merchants import merchant_webhook_secret_rotate
from tests.factories import TEST_ACTOR, make_user
from tests.payments.helpers import card_body, integrator, payment_body
from webhooks.endpoints import webhook_endpoint_create

ROOT = Path(__file__).resolve().parents[2]


def _production_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PAYSITE_ENV_FILE": "",  # no developer .env
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(40),
        "FINGERPRINT_KEY": secrets.token_urlsafe(40),
        "AUDIT_SIGNING_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "pay.example.com",
    }
    env.update(overrides)
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_with_no_warnings():
    result = _check_deploy(_production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    # The one silenced check is axes.W006 (lockout per account, not per IP: paysite/settings.py says why).
    assert "System check identified no issues (1 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_settings_refuse_a_weak_secret_key():
    result = _check_deploy(_production_env(DJANGO_SECRET_KEY="short"))

    assert result.returncode != 0
    assert "DJANGO_DEBUG off" in result.stderr


CARD, CVC = "4111111111111111", "739"
DECLINED = "4000000000000002"
EMAIL, PHONE, NAME = "jane.xylophone@example.org", "+44 20 7946 0958", "Jane Xylophone"
PASSWORD = "correct horse battery"


@pytest.mark.django_db
def test_a_full_scenario_logs_no_secret_and_no_pii_in_clear(caplog, capfd):
    caplog.set_level(logging.DEBUG)  # everything the configured loggers let through, at any level
    api = integrator()

    paid = api.post("/payments", payment_body(card=card_body(CARD, cvc=CVC)), key="k1")
    replay = api.post("/payments", payment_body(card=card_body(CARD, cvc=CVC)), key="k1")
    declined = api.post("/payments", payment_body(card=card_body(DECLINED, cvc=CVC)))
    invalid = api.post("/payments", payment_body(card=card_body("4111111111111112", cvc=CVC)))
    in_metadata = api.post("/payments", payment_body(metadata={"note": CARD}))
    refund = api.post(f"/payments/{paid.json()['id']}/refunds", {"amount": 100})
    customer = api.post("/customers", {"email": EMAIL, "name": NAME, "phone": PHONE})
    listed = api.get("/customers", email=EMAIL)
    assert [r.status_code for r in (paid, replay, declined, invalid, in_metadata, refund, customer, listed)] == [
        201,
        201,
        402,
        422,
        422,
        201,
        201,
        200,
    ]

    admin = make_user("scenario-admin", merchant_id=api.merchant_id, role="admin", password=PASSWORD)
    browser = Client()
    assert browser.post("/accounts/login/", {"username": admin.username, "password": PASSWORD}).status_code == 302
    created = browser.post("/developers/keys/", {"name": "ci"})
    new_secret = re.search(r"sk_test_[A-Za-z0-9_\-]+", created.content.decode()).group(0)
    endpoint, endpoint_secret = webhook_endpoint_create(
        merchant_id=api.merchant_id, actor=TEST_ACTOR, url="https://hooks.example.com/in", events=["*"]
    )
    rotated = browser.post(
        f"/developers/endpoints/{endpoint.endpoint_id}/rotate/", {"confirm": "yes"}, HTTP_HX_REQUEST="true"
    )
    assert rotated.status_code == 200
    shown = re.search(r"whsec_[A-Za-z0-9_\-]+", rotated.content.decode())
    webhook_secret = merchant_webhook_secret_rotate(merchant_id=api.merchant_id, actor=TEST_ACTOR)
    failed_login = Client().post("/accounts/login/", {"username": admin.username, "password": "not-" + PASSWORD})
    assert failed_login.status_code == 200

    logged = [record.getMessage() for record in caplog.records]
    logged += [logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info]
    out, err = capfd.readouterr()
    text = "\n".join([*logged, out, err])
    assert len(caplog.records) > 10  # the scenario did log
    secrets_in_clear = {
        "card number": CARD,
        "declined card number": DECLINED,
        "API secret": api.secret,
        "new API secret": new_secret,
        "webhook secret": webhook_secret,
        "endpoint secret": endpoint_secret,
        "webhook secret shown on the page": shown.group(0) if shown else webhook_secret,
        "email": EMAIL,
        "phone": PHONE,
        "name": NAME,
        "password": PASSWORD,
    }
    found = [label for label, value in secrets_in_clear.items() if value in text]
    assert found == []
    assert not re.search(r"cvc\W{0,4}" + CVC, text, re.I)
    assert "whsec_" not in text and "sk_test_" not in text
