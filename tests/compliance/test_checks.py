"""The compliance report: real evidence, one row per check; a planted card number fails 3.3.1."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from audit.services import audit_record
from compliance.checks import Context, check_audit_fields, check_no_pan_stored
from compliance.report import compliance_report_run
from core import dynamodb
from core.actor import SYSTEM
from payments.models import Payment
from tests.factories import make_merchant, make_payment, make_user

pytestmark = [pytest.mark.engine, pytest.mark.django_db]

EXPECTED_CHECKS = {
    "stored-pan": "3.3.1, 3.5.1",
    "fingerprint": "3.5.1.1",
    "masking": "3.4.1",
    "roles": "7.2.1, 7.2.2, 8.2.1",
    "unused-accounts": "8.2.6",
    "lockout": "8.3.4",
    "idle-timeout": "8.2.8",
    "password-length": "8.3.6",
    "staff-mfa": "8.4.1",
    "audit-fields": "10.2.1, 10.2.2",
    "audit-integrity": "10.3.2, 10.3.4",
    "retention": "10.5.1",
    "deploy-check": "6.4, 2.2",
    "security-headers": "6.4.1, 6.4.3",
}


def _plant(payment_id: str, note: str) -> None:
    dynamodb.connection().client.update_item(
        TableName=Payment.Meta.table_name,
        Key={"payment_id": {"S": payment_id}},
        UpdateExpression="SET metadata = :m",
        ExpressionAttributeValues={":m": {"S": json.dumps({"note": note})}},
    )


def test_a_planted_card_number_fails_the_scan_naming_the_item_and_removing_it_passes_again(dynamodb_backend):
    merchant = make_merchant("Acme")
    payment = make_payment(merchant.merchant_id, metadata={"order": "A-1001"})
    assert check_no_pan_stored(Context()).status == "pass"

    _plant(payment.payment_id, "customer said 4000 0566 5566 5556")
    planted = check_no_pan_stored(Context())

    assert planted.status == "fail"
    assert planted.items == [
        f"{Payment.Meta.table_name} [payment_id={payment.payment_id}] metadata.note: card number …5556 (16 digits)"
    ]
    _plant(payment.payment_id, "order A-1001")
    assert check_no_pan_stored(Context()).status == "pass"


def test_a_cvc_like_attribute_is_found(dynamodb_backend):
    merchant = make_merchant("Acme")
    payment = make_payment(merchant.merchant_id)
    dynamodb.connection().client.update_item(
        TableName=Payment.Meta.table_name,
        Key={"payment_id": {"S": payment.payment_id}},
        UpdateExpression="SET card.cvv = :c",
        ExpressionAttributeValues={":c": {"S": "123"}},
    )

    check = check_no_pan_stored(Context())

    assert check.status == "fail" and check.items[0].endswith("card.cvv: CVC-like attribute")


def test_the_report_has_one_row_per_listed_check_with_evidence(dynamodb_backend):
    merchant = make_merchant("Acme")
    make_payment(merchant.merchant_id)
    make_user("member", merchant_id=merchant.merchant_id, role="admin")
    call_command("audit", "seal", "--through", "now", stdout=StringIO())

    report = compliance_report_run(generated_by="tests")

    assert {check.id: check.requirement for check in report.checks} == EXPECTED_CHECKS
    status = {check.id: check.status for check in report.checks}
    for always in (
        "stored-pan",
        "fingerprint",
        "masking",
        "roles",
        "lockout",
        "idle-timeout",
        "password-length",
        "audit-fields",
        "audit-integrity",
        "retention",
    ):
        assert status[always] == "pass", (always, report.checks)
    assert status["staff-mfa"] == "not_applicable"  # no ops staff in this test
    assert all(check.evidence for check in report.checks)
    roles = next(c for c in report.checks if c.id == "roles")
    assert any(line.startswith("admin (1): member@") for line in roles.evidence)


def test_staff_without_mfa_fail_8_4_1(dynamodb_backend):
    make_user("ops-one", staff=True)

    report = compliance_report_run(generated_by="tests")

    mfa = next(c for c in report.checks if c.id == "staff-mfa")
    assert mfa.status == "fail" and mfa.items == ["ops-one has no MFA device"]


def test_an_event_without_its_origin_fails_10_2_2(dynamodb_backend):
    from core.actor import Actor

    merchant = make_merchant("Acme")
    bad = audit_record(
        merchant_id=merchant.merchant_id,
        actor=Actor(type="user", id="someone"),
        action="test.no_origin",
        entity_type="payment",
    )
    audit_record(merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.system", entity_type="payment")

    check = check_audit_fields(Context())

    assert check.status == "fail"
    assert check.items == [f"{merchant.merchant_id} {bad.event_id} (test.no_origin): no source_ip, request_id"]


def _command(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("compliance", "report", *args, stdout=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_the_command_writes_json_and_html_with_time_and_author_and_exits_1_on_a_failure(dynamodb_backend, tmp_path):
    make_merchant("Acme")
    out = tmp_path / "report.json"

    code, _ = _command("--format", "json", "--output", str(out))
    data = json.loads(out.read_text())
    _, html = _command("--format", "html")

    assert data["generated_by"].endswith("(manage.py)") and data["generated_at"].endswith("Z")
    assert [c["id"] for c in data["checks"]] == list(EXPECTED_CHECKS)
    assert code == (1 if data["summary"]["fail"] else 0)
    # the test settings serve plain http without HSTS: the headers row says so
    headers = next(c for c in data["checks"] if c["id"] == "security-headers")
    assert headers["status"] == "fail" and headers["items"] == ["Strict-Transport-Security missing or too weak"]
    assert "<h1>Paysite compliance report</h1>" in html and "3.3.1, 3.5.1" in html
