"""The `seed_demo` command."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from merchants.models import Membership
from merchants.selectors import api_key_get_by_hash
from merchants.services.api_keys import hash_secret
from payments.management.commands.seed_demo import demo_refusal
from payments.models import DailySummary, Payment

pytestmark = pytest.mark.engine


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_seed_demo_goes_through_services_and_is_idempotent(db, settings, tmp_path, dynamodb_backend):
    settings.VAR_DIR = tmp_path

    # The suite runs with DEBUG off (and moto stands for AWS): --force, as a developer would say it.
    run("seed_demo", "--payments", "90", "--days", "3", "--workers", "1", "--quiet", "--force")
    state = json.loads((tmp_path / "demo.json").read_text())
    counts = {mid: Payment.by_merchant.count(mid) for mid in state["merchants"].values()}
    run("seed_demo", "--payments", "90", "--days", "3", "--workers", "1", "--quiet", "--force")

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


@pytest.mark.parametrize(
    ("debug", "endpoint"),
    [
        (False, "http://127.0.0.1:8001"),
        (True, None),  # AWS itself
        (True, "https://dynamodb.us-east-1.amazonaws.com"),
        (True, "http://127.0.0.1.example.com:8001"),
        (True, "http://10.0.0.5:8001"),
    ],
)
def test_seed_demo_refuses_outside_a_developer_machine(db, settings, tmp_path, debug, endpoint):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = debug
    settings.DYNAMODB = {**settings.DYNAMODB, "ENDPOINT": endpoint}

    with pytest.raises(CommandError, match="--force"):
        run("seed_demo", "--payments", "10", "--days", "1", "--workers", "1", "--quiet")

    assert not get_user_model().objects.exists() and not (tmp_path / "demo.json").exists()


@pytest.mark.parametrize(
    ("debug", "endpoint", "allowed"),
    [
        (True, "http://127.0.0.1:8001", True),  # `make run`
        (True, "http://localhost:8000", True),
        (True, "http://[::1]:8001", True),
        (False, "http://localhost:8000", False),
        (True, "http://localhost.example.com", False),
        (True, None, False),
    ],
)
@pytest.mark.pure
def test_the_demo_data_is_for_debug_with_local_dynamodb_only(debug, endpoint, allowed):
    assert (demo_refusal(debug=debug, endpoint=endpoint) is None) is allowed
