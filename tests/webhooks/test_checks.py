"""`check --deploy` warns while webhooks may go to plain http and private addresses."""

import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from webhooks.checks import PRIVATE_URLS_ON

pytestmark = pytest.mark.pure
ROOT = Path(__file__).resolve().parents[2]


def _check_deploy() -> str:
    out = io.StringIO()
    try:
        call_command("check", deploy=True, stdout=out, stderr=out)
    except SystemCheckError as error:  # other deploy findings of the test settings may be errors
        out.write(str(error))
    return out.getvalue()


@pytest.mark.parametrize(("allowed", "warned"), [(True, True), (False, False)])
def test_check_deploy_warns_while_private_webhook_urls_are_allowed(allowed, warned, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = allowed

    output = _check_deploy()

    assert (f"({PRIVATE_URLS_ON})" in output) is warned
    assert PRIVATE_URLS_ON == "webhooks.W001"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"DJANGO_DEBUG": "0"}, "False"),
        ({"DJANGO_DEBUG": "1"}, "True"),
        ({"DJANGO_DEBUG": "1", "WEBHOOK_ALLOW_PRIVATE_URLS": "0"}, "False"),
        ({"DJANGO_DEBUG": "0", "WEBHOOK_ALLOW_PRIVATE_URLS": "1"}, "True"),
    ],
)
def test_the_setting_follows_django_debug_unless_set(environment, expected):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PAYSITE_ENV_FILE": "",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(40),
        "FINGERPRINT_KEY": secrets.token_urlsafe(40),
        "AUDIT_SIGNING_KEY": secrets.token_urlsafe(40),
        **environment,
    }
    code = "import paysite.settings as s; print(s.WEBHOOK_ALLOW_PRIVATE_URLS)"

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.stdout.strip() == expected, result.stderr
