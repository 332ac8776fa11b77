"""The Lambda package (`make lambda`): what is in the zip, and its handlers answering API Gateway v2
events in a fresh process that has the unzipped package alone on its path, against DynamoDB Local."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from core import dynamodb
from scripts.lambda_build import AWS_SERVICES
from scripts.lambda_invoke import DOMAIN, http_event, invoke, response_body
from tests.factories import make_api_key, make_merchant

UNZIPPED_LIMIT = 250 * 1024 * 1024
WEB = "paysite.lambda_handlers.web.handler"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def test_the_zip_has_the_runtime_lock_for_linux_the_apps_and_static_files_and_no_tests(lambda_zip):
    with zipfile.ZipFile(lambda_zip) as archive:
        infos = archive.infolist()
    names = {info.filename for info in infos}
    roots = {name.split("/", 1)[0] for name in names}

    assert sum(info.file_size for info in infos) < UNZIPPED_LIMIT
    assert {"paysite", "payments", "core", "django", "pynamodb", "apig_wsgi", "psycopg", "manage.py"} <= roots
    assert not roots & {"tests", "bench", "scripts", "node_modules", "var", ".env", "pytest", "moto", "cfnlint"}
    assert "staticfiles/staticfiles.json" in names
    native = [name for name in names if name.endswith(".so") and name.startswith("pydantic_core/")]
    assert native and all("cpython-311-x86_64-linux-gnu" in name for name in native)
    assert "paysite/__pycache__/settings.cpython-311.pyc" in names  # /var/task is read-only: compiled here
    api_models = {name.split("/")[2] for name in names if name.startswith("botocore/data/") and name.count("/") > 2}
    assert api_models == set(AWS_SERVICES) and {"dynamodb", "s3"} <= api_models  # the services the code calls
    with zipfile.ZipFile(lambda_zip) as archive:  # their endpoints only: parsed by the first client
        endpoints = json.loads(archive.read("botocore/data/endpoints.json"))
    services = {name for partition in endpoints["partitions"] for name in partition["services"]}
    assert {"dynamodb", "s3", "sts"} <= services and not services & {"ec2", "lambda", "sqs"}


def _environment(tmp_path, engine_endpoint: str) -> dict[str, str]:
    """What the template gives the functions, with DynamoDB Local and SQLite in place of AWS."""
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],
        "FIELD_ENCRYPTION_KEY": os.environ["FIELD_ENCRYPTION_KEY"],
        "FINGERPRINT_KEY": os.environ["FINGERPRINT_KEY"],
        "AUDIT_SIGNING_KEY": os.environ["AUDIT_SIGNING_KEY"],
        "DJANGO_ALLOWED_HOSTS": f".{DOMAIN.split('.', 1)[1]}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'django.sqlite3'}",
        "PAYSITE_VAR_DIR": str(tmp_path),
        "DYNAMODB_ENDPOINT": engine_endpoint,
        "DYNAMODB_TABLE_PREFIX": dynamodb.table_name(""),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LOG_LEVEL": "WARNING",
    }


def _web(event: dict) -> dict:
    return {"handler": WEB, "event": event}


@pytest.mark.engine_only
def test_the_packaged_handler_creates_replays_and_lists_payments_and_serves_the_sign_in_page(
    lambda_package, engine_endpoint, tmp_path
):
    merchant = make_merchant("Acme")
    key = make_api_key(merchant.merchant_id)
    auth = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    create = http_event(
        "POST",
        "/api/v1/payments",
        headers={**auth, "idempotency-key": f"order-{uuid.uuid4()}"},
        body=json.dumps({"amount": 2500, "currency": "usd", "card": CARD}),
    )

    migrated, created, replayed, listed, sign_in = invoke(
        lambda_package,
        _environment(tmp_path, engine_endpoint),
        [
            {"handler": "paysite.lambda_handlers.jobs.manage", "event": {"command": ["migrate", "--noinput"]}},
            _web(create),
            _web(create),
            _web(http_event("GET", "/api/v1/payments", headers=auth, query={"limit": "10"})),
            _web(http_event("GET", "/accounts/login/")),
        ],
    )

    assert "Applying" in migrated["result"]["output"]
    first, again = created["result"], replayed["result"]
    assert first["statusCode"] == 201, response_body(first)
    payment = json.loads(response_body(first))
    assert payment["status"] == "succeeded" and payment["amount"] == 2500
    assert again["statusCode"] == 201 and again["headers"]["idempotent-replayed"] == "true"
    assert response_body(again) == response_body(first)
    page = listed["result"]
    assert page["statusCode"] == 200
    assert [p["id"] for p in json.loads(response_body(page))["data"]] == [payment["id"]]
    html = response_body(sign_in["result"]).decode()
    assert sign_in["result"]["statusCode"] == 200 and 'name="password"' in html
    assert re.search(r"/static/vendor/bulma/bulma\.min\.[0-9a-f]{12}\.css", html)  # collected, manifest names


@pytest.mark.engine_only
def test_a_fresh_web_function_answers_an_api_request_without_the_libraries_of_other_paths(
    lambda_package, engine_endpoint, tmp_path
):
    """The cold start (README "Lambda"): S3 clients, YAML and QR codes are imported where they are
    used (`core.lazy`), not by the first request of a fresh process."""
    key = make_api_key(make_merchant("Acme").merchant_id)
    env = _environment(tmp_path, engine_endpoint)
    invoke(lambda_package, env, [{"handler": "paysite.lambda_handlers.jobs.manage", "event": {"command": ["migrate"]}}])

    listed, imported = invoke(
        lambda_package,
        env,
        [_web(http_event("GET", "/api/v1/payments", headers={"authorization": f"Bearer {key}"})), {"modules": True}],
    )

    assert listed["result"]["statusCode"] == 200, response_body(listed["result"])
    modules = set(imported["modules"])
    assert {"django", "ninja", "pynamodb", "botocore", "payments.api"} <= modules
    assert not modules & {"boto3", "s3transfer", "yaml", "qrcode"}
    # Only the router the request reached, and no disputes services until a capture (core.lazy_api);
    # no payment services (the writes, and the webhooks they send) and no field encryption for a read.
    assert not modules & {"webhooks.api", "costs.api", "reconciliation.api", "disputes.api", "disputes.tasks"}
    assert not modules & {"payments.services", "webhooks.services", "cryptography"}


@pytest.mark.engine_only
def test_the_packaged_handler_serves_static_files_and_the_jobs_run(lambda_package, engine_endpoint, tmp_path):
    env = _environment(tmp_path, engine_endpoint)
    manifest = json.loads((lambda_package / "staticfiles" / "staticfiles.json").read_text())
    css = manifest["paths"]["vendor/bulma/bulma.min.css"]

    _, static, worker, sweep = invoke(
        lambda_package,
        env,
        [
            {"handler": "paysite.lambda_handlers.jobs.manage", "event": {"command": ["migrate", "--noinput"]}},
            _web(http_event("GET", f"/static/{css}")),
            {"handler": "paysite.lambda_handlers.jobs.tasks", "event": {"batch": True}},
            {"handler": "paysite.lambda_handlers.jobs.webhook_sweep", "event": {}},
        ],
    )

    assert static["result"]["statusCode"] == 200
    assert "immutable" in static["result"]["headers"]["cache-control"]
    assert b"bulma.io" in response_body(static["result"])[:200]
    assert worker["result"]["worker_id"].startswith("lambda-")
    assert sweep["result"] == {"enqueued": 0}


_COLLECTOR_PROBE = """
import gc, json, sys
sys.path.insert(0, {root!r})
from scripts.lambda_invoke import http_event
import paysite.lambda_handlers.web as web
after_import = gc.isenabled()
answer = web.handler(http_event("GET", "/api/v1/openapi.json"), None)
print(json.dumps([after_import, answer["statusCode"], gc.isenabled(), gc.get_freeze_count() > 0]))
"""


@pytest.mark.pure
@pytest.mark.parametrize("in_lambda", [True, False], ids=["in-lambda", "elsewhere"])
def test_the_collector_is_held_through_a_cold_start_in_lambda_only(tmp_path, in_lambda):
    """In Lambda the collector is off from the import to the end of the first request; a process that
    only imports the module (a test, a script) keeps it on, for nothing else would turn it back on."""
    root = str(Path(__file__).resolve().parents[2])
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "AWS_LAMBDA_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="paysite.settings", DJANGO_DEBUG="1", PAYSITE_ENV_FILE="", PAYSITE_VAR_DIR=str(tmp_path)
    )
    env["DJANGO_ALLOWED_HOSTS"] = DOMAIN  # the host of the event
    if in_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "paysite-test"
    result = subprocess.run(
        [sys.executable, "-c", _COLLECTOR_PROBE.format(root=root)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    after_import, status, after_request, frozen = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 200
    assert after_request is True
    assert (after_import, frozen) == ((False, True) if in_lambda else (True, False))
