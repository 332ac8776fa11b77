import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from merchants.models import Membership
from merchants.selectors import api_key_get_by_hash, merchant_get
from merchants.services.api_keys import hash_secret
from payments.models import DailySummary, Payment

pytestmark = pytest.mark.engine


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_merchant_create_prints_the_id_alone(dynamodb_backend):
    output = run("merchant", "create", "--name", "Acme", "--currency", "eur")

    assert re.fullmatch(r"mer_[0-9A-Z]{26}\n", output)
    assert merchant_get(merchant_id=output.strip()).default_currency == "eur"


def test_apikey_create_prints_the_secret_alone_and_list_and_revoke(dynamodb_backend):
    merchant_id = run("merchant", "create", "--name", "Acme").strip()

    secret = run("apikey", "create", "--merchant", merchant_id, "--name", "ci").strip()
    key = api_key_get_by_hash(key_hash=hash_secret(secret))
    listed = run("apikey", "list", "--merchant", merchant_id)
    revoked = run("apikey", "revoke", key.key_id)

    assert re.fullmatch(r"sk_test_[A-Za-z0-9_\-]{24,}", secret)
    assert key.key_id in listed and "active" in listed and secret not in listed
    assert revoked.strip() == f"revoked {key.key_id}"
    assert api_key_get_by_hash(key_hash=hash_secret(secret)).revoked is not None


def test_apikey_for_an_unknown_merchant_is_a_clear_error(dynamodb_backend):
    with pytest.raises(CommandError, match="No merchant"):
        run("apikey", "create", "--merchant", "mer_01JZZZZZZZZZZZZZZZZZZZZZZZ")


def test_dynamodb_create_twice_and_template(dynamodb_backend):
    first = run("dynamodb", "create")
    second = run("dynamodb", "create")
    described = run("dynamodb", "describe")

    assert "created" not in second and second.count("exists") == first.count("\n")
    assert "ACTIVE" in described and "by-merchant-status" in described
    assert "AWS::DynamoDB::Table" in run("dynamodb", "template")


def test_dynamodb_delete_needs_confirmation(dynamodb_backend):
    with pytest.raises(CommandError, match="--yes"):
        run("dynamodb", "delete")


def test_seed_demo_goes_through_services_and_is_idempotent(db, settings, tmp_path, dynamodb_backend):
    settings.VAR_DIR = tmp_path

    run("seed_demo", "--payments", "90", "--days", "3", "--workers", "1", "--quiet")
    state = json.loads((tmp_path / "demo.json").read_text())
    counts = {mid: Payment.by_merchant.count(mid) for mid in state["merchants"].values()}
    run("seed_demo", "--payments", "90", "--days", "3", "--workers", "1", "--quiet")

    assert len(state["merchants"]) == 3 and state["complete"] is True
    assert {mid: Payment.by_merchant.count(mid) for mid in state["merchants"].values()} == counts
    assert sum(counts.values()) >= 60
    acme = state["merchants"]["acme"]
    statuses = {p.status for p in Payment.by_merchant.query(acme)}
    assert "succeeded" in statuses and len(statuses) >= 2
    summary_count = sum(
        int(getattr(item, f"count_{status}", None) or 0)
        for item in DailySummary.query(acme)
        for status in ("requires_capture", "succeeded", "failed", "canceled", "refunded", "partially_refunded")
    )
    assert summary_count == counts[acme]
    assert get_user_model().objects.get(username="ops").is_staff
    assert Membership.objects.filter(merchant_id=acme).count() == 3
    assert api_key_get_by_hash(key_hash=hash_secret(state["api_key"]["secret"])).merchant_id == acme
