"""The `seed_demo` command."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from audit.selectors import AuditFilters, audit_event_list
from merchants.models import Membership
from merchants.selectors import api_key_get_by_hash
from merchants.services.api_keys import hash_secret
from payments import selectors
from payments.management.commands.seed_demo import demo_refusal
from payments.models import DailySummary, Payment, PaymentImport
from reconciliation.models import Payout, Settlement

pytestmark = pytest.mark.engine


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_seed_demo_imports_the_history_and_loads_the_last_days_through_services_idempotently(
    db, settings, tmp_path, dynamodb_backend
):
    settings.VAR_DIR = tmp_path
    seed = ("seed_demo", "--payments", "180", "--days", "6", "--recent-days", "2", "--workers", "1", "--quiet")

    # The suite runs with DEBUG off (and moto stands for AWS): --force, as a developer would say it.
    run(*seed, "--force")
    state = json.loads((tmp_path / "demo.json").read_text())
    counts = {mid: Payment.by_merchant.count(mid) for mid in state["merchants"].values()}
    run(*seed, "--force")

    assert len(state["merchants"]) == 3 and state["complete"] is True
    assert {mid: Payment.by_merchant.count(mid) for mid in state["merchants"].values()} == counts
    assert sum(counts.values()) >= 120
    acme = state["merchants"]["acme"]
    payments = list(Payment.by_merchant.query(acme))
    statuses = {p.status for p in payments}
    assert "succeeded" in statuses and len(statuses) >= 2
    # The first 4 days came in as one import (one per merchant, once); the last 2 through the services.
    today = datetime.now(UTC).date()
    imported_days = {p.created.date() for p in payments if p.imported}
    service_days = {p.created.date() for p in payments if not p.imported}
    assert imported_days == {today - timedelta(days=n) for n in range(2, 6)}
    assert service_days <= {today - timedelta(days=n) for n in range(2)} and service_days
    assert [i.rows_total == i.imported for i in PaymentImport.query(acme)] == [True]
    assert any(p.customer_id for p in payments if p.imported)
    assert [
        e.action
        for e in audit_event_list(merchant_id=acme, filters=AuditFilters(action="payment.import"), limit=10).items
    ] == ["payment.import"]
    summary_count = sum(
        int(getattr(item, f"count_{status}", None) or 0)
        for item in DailySummary.query(acme)
        for status in ("requires_capture", "succeeded", "failed", "canceled", "refunded", "partially_refunded")
    )
    assert summary_count == counts[acme]
    assert get_user_model().objects.get(username="ops").is_staff
    assert Membership.objects.filter(merchant_id=acme).count() == 3
    assert api_key_get_by_hash(key_hash=hash_secret(state["api_key"]["secret"])).merchant_id == acme
    # One demo settlement per merchant, processed once (the second run made none): its payouts are there.
    for merchant_id in state["merchants"].values():
        assert [s.status for s in Settlement.by_merchant.query(merchant_id)] == ["completed"]
        assert list(Payout.by_merchant.query(merchant_id))


def test_demo_data_loaded_before_imports_existed_is_only_topped_up(db, settings, tmp_path, dynamodb_backend):
    settings.VAR_DIR = tmp_path
    seed = ("seed_demo", "--payments", "60", "--days", "4", "--recent-days", "4", "--workers", "1", "--quiet")
    run(*seed, "--force")  # every day through the services, as the loader did before imports
    path = tmp_path / "demo.json"
    state = json.loads(path.read_text())
    del state["history_anchor"]
    path.write_text(json.dumps(state))
    counts = {mid: Payment.by_merchant.count(mid) for mid in state["merchants"].values()}

    run("seed_demo", "--payments", "60", "--days", "4", "--workers", "1", "--quiet", "--force")

    assert {mid: Payment.by_merchant.count(mid) for mid in state["merchants"].values()} == counts
    assert all(list(PaymentImport.query(mid)) == [] for mid in state["merchants"].values())
    assert json.loads(path.read_text())["history_anchor"] is None


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


@pytest.mark.engine_only  # 400 payments through the services: 15 s on DynamoDB Local, 50 s more in moto
def test_seed_demo_leaves_no_authorization_older_than_seven_days(db, settings, tmp_path, dynamodb_backend):
    settings.VAR_DIR = tmp_path
    # Every day through the services, so week-old authorizations are made, as on a loader run days ago.
    run("seed_demo", "--payments", "400", "--days", "10", "--recent-days", "10", "--workers", "1", "--quiet", "--force")

    state = json.loads((tmp_path / "demo.json").read_text())
    week_ago = datetime.now(UTC) - timedelta(days=7)
    payments = [p for mid in state["merchants"].values() for p in Payment.by_merchant.query(mid)]
    assert not [p.payment_id for p in payments if p.status == "requires_capture" and p.created <= week_ago]
    expired = [
        p
        for p in payments
        if p.status == "canceled"
        and any(t.reason == "expired" for t in selectors.transaction_list_for_payment(payment_id=p.payment_id))
    ]
    assert expired and all(p.created <= week_ago for p in expired)  # the sweep expired them, and only them
