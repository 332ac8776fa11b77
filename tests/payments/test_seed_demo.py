"""The `seed_demo` command."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from merchants.models import Membership
from merchants.selectors import api_key_get_by_hash
from merchants.services.api_keys import hash_secret
from payments.models import DailySummary, Payment

pytestmark = pytest.mark.engine


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


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
