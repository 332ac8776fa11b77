"""The stored compliance report: run in the background (schedule, "Run now"), the page shows the
newest with its age, downloads are of a stored report, the audit chain is verified incrementally."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent, AuditSeal
from audit.services import audit_record
from compliance.models import ComplianceRun, RunStatus, RunTrigger
from compliance.services import compliance_run_execute, compliance_run_request
from compliance.tasks import compliance_report_periodic_task, compliance_report_schedule, compliance_report_task
from core import dynamodb
from core.actor import SYSTEM
from core.templatetags.timezones import zoned_text
from payments.models import Payment
from tests.factories import make_merchant, make_payment, make_user

pytestmark = [pytest.mark.engine, pytest.mark.django_db]

POLL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "compliance-progress", "HTTP_X_PAYSITE_POLL": "1"}


def _ops(client, name: str = "ops-one"):
    user = make_user(name, staff=True)
    client.force_login(user)
    return user


def _actions() -> list[str]:
    return [event.action for event in AuditEvent.query("ops")]


def _queued(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # queues, runs nothing
    backend = compliance_report_task.get_backend()
    return lambda: [r for r in backend.results if r.task.func is compliance_report_task.func]


def _seal() -> None:
    call_command("audit", "seal", "--through", "now", stdout=StringIO())


def test_run_now_stores_a_report_and_the_page_shows_the_newest_with_its_age(client, dynamodb_backend):
    make_merchant("Acme")
    _ops(client)

    empty = client.get("/compliance/").content.decode()
    ran = client.post("/compliance/run/")  # the tests' task backend runs the task at once
    page = client.get("/compliance/").content.decode()

    assert 'data-testid="no-report"' in empty and 'data-check="stored-pan"' not in empty
    assert ran.status_code == 302 and ran["Location"] == "/compliance/"
    [run] = ComplianceRun.objects.all()
    assert run.status == RunStatus.DONE and run.trigger == RunTrigger.REQUEST and run.active is None
    assert run.requested_by == "ops-one" and run.checks_done == run.checks_total == 14
    assert [c["id"] for c in run.report["checks"]][:2] == ["stored-pan", "fingerprint"]
    assert (
        f"Generated {zoned_text(run.report['generated_at'], seconds=True)} by ops-one" in page
        and "0\xa0minutes ago" in page
    )
    assert 'data-check="stored-pan"' in page and 'data-testid="stale"' not in page
    assert _actions().count("compliance.report_run") == 1 and _actions().count("compliance.report_view") == 2


def test_the_pan_scan_states_its_sample_size(client, dynamodb_backend, settings):
    settings.COMPLIANCE_SCAN_MAX_ITEMS = 3
    merchant = make_merchant("Acme")
    for _ in range(5):
        make_payment(merchant.merchant_id)
    _ops(client)

    client.post("/compliance/run/")

    scan = ComplianceRun.objects.get().report["checks"][0]
    assert scan["evidence"][0].startswith("sample size: ") and "at most 3 per table" in scan["evidence"][0]
    # 5 payments in 3 segments read one item each: whichever segments the ids fall in, one segment holds
    # more than it reads, so the table is sampled (and at most 3 of its items read)
    (payments,) = [line for line in scan["evidence"] if line.startswith(f"{Payment.Meta.table_name}: ")]
    sampled = re.fullmatch(r".*: a sample of (\d) of about 5 items scanned", payments)
    assert sampled and 1 <= int(sampled[1]) <= 3, payments


def test_run_now_twice_queues_one_run_and_the_page_follows_its_progress(client, dynamodb_backend, settings):
    queued = _queued(settings)
    _ops(client)

    client.post("/compliance/run/")
    again = client.post("/compliance/run/", follow=True)  # a double click
    page = client.get("/compliance/").content.decode()
    poll = client.get("/compliance/", **POLL)

    [run] = ComplianceRun.objects.all()
    assert len(queued()) == 1 and queued()[0].kwargs == {"run_id": run.pk}
    assert "already queued" in again.content.decode()
    assert 'hx-trigger="every 2s"' in page and '"X-Paysite-Poll": "1"' in page and "disabled" in page
    assert poll.status_code == 200 and b"waiting for the task worker" in poll.content
    assert b"<html" not in poll.content
    assert _actions().count("compliance.report_run") == 2  # both asks are audited, one run

    compliance_report_task.call(run_id=run.pk)
    done = client.get("/compliance/", **POLL)

    assert done["HX-Refresh"] == "true"  # the run ended: the page reloads with the report
    client.post("/compliance/run/")
    assert len(queued()) == 2 and ComplianceRun.objects.count() == 2


def test_a_run_whose_worker_stopped_does_not_block_the_next(dynamodb_backend, settings):
    _queued(settings)
    stuck, _ = compliance_run_request(requested_by="someone", trigger=RunTrigger.REQUEST)
    ComplianceRun.objects.filter(pk=stuck.pk).update(
        status=RunStatus.RUNNING, touched_at=timezone.now() - timedelta(minutes=16)
    )

    run, created = compliance_run_request(requested_by="someone", trigger=RunTrigger.REQUEST)

    stuck.refresh_from_db()
    assert created and run.pk != stuck.pk
    assert stuck.status == RunStatus.FAILED and stuck.active is None and "abandoned" in stuck.error
    assert compliance_run_execute(run_id=stuck.pk) is None  # its task, should it run late, does nothing


def test_the_scheduled_task_stores_a_report_keeps_the_last_n_and_queues_its_next_run(dynamodb_backend, settings):
    settings.COMPLIANCE_REPORTS_KEPT = 2
    for _ in range(3):
        compliance_report_periodic_task.call(reschedule=False)

    runs = list(ComplianceRun.objects.all())
    assert [run.trigger for run in runs] == ["schedule", "schedule"] and all(r.status == "done" for r in runs)
    assert runs[0].report["generated_by"] == "schedule"

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    when = compliance_report_schedule()
    assert when is not None and when > timezone.now() + timedelta(minutes=59)  # a report exists: in an hour
    assert compliance_report_schedule() is None  # one waiting already


def test_downloads_are_of_a_stored_report(client, dynamodb_backend):
    merchant = make_merchant("Acme")
    payment = make_payment(merchant.merchant_id)
    _ops(client)
    assert client.get("/compliance/report.json").status_code == 404  # nothing stored yet

    client.post("/compliance/run/")
    first = ComplianceRun.objects.get()
    dynamodb.connection().client.update_item(  # a card number stored after the report ran
        TableName=Payment.Meta.table_name,
        Key={"payment_id": {"S": payment.payment_id}},
        UpdateExpression="SET metadata = :m",
        ExpressionAttributeValues={":m": {"S": json.dumps({"note": "4000 0566 5566 5556"})}},
    )
    data = json.loads(client.get("/compliance/report.json").content)
    html = client.get("/compliance/report.html")

    assert data == first.report  # the stored report, not a new run
    assert data["checks"][0]["status"] == "pass" and ComplianceRun.objects.count() == 1
    assert html["Content-Disposition"].startswith('attachment; filename="paysite-compliance-')
    assert data["generated_at"] in html.content.decode()

    client.post("/compliance/run/")
    newest = json.loads(client.get("/compliance/report.json").content)
    older = json.loads(client.get(f"/compliance/report.json?run={first.pk}").content)
    assert newest["checks"][0]["status"] == "fail" and older == first.report
    assert client.get("/compliance/report.json?run=999999").status_code == 404
    assert _actions().count("compliance.report_download") == 4


def test_an_old_report_is_shown_as_stale(client, dynamodb_backend):
    _ops(client)
    client.post("/compliance/run/")
    ComplianceRun.objects.update(finished_at=timezone.now() - timedelta(hours=3))

    page = client.get("/compliance/").content.decode()

    assert 'data-testid="stale"' in page and "3\xa0hours ago" in page


def test_only_ops_staff_run_or_read_it(client, dynamodb_backend):
    merchant = make_merchant("Acme")
    assert client.post("/compliance/run/")["Location"].startswith("/accounts/login/")
    client.force_login(make_user("admin-one", merchant_id=merchant.merchant_id, role="admin"))

    assert client.post("/compliance/run/").status_code == 403
    assert client.get("/compliance/").status_code == 403
    assert client.get("/compliance/report.json").status_code == 403
    assert ComplianceRun.objects.count() == 0


def _integrity(run: ComplianceRun) -> dict:
    return next(check for check in run.report["checks"] if check["id"] == "audit-integrity")


def _run() -> ComplianceRun:
    run, _ = compliance_run_request(requested_by="tests", trigger=RunTrigger.COMMAND)
    stored = compliance_run_execute(run_id=run.pk)
    assert stored is not None
    return stored


def _events(merchant_id: str, hours: list[int]) -> list[AuditEvent]:
    now = timezone.now()
    return [
        audit_record(merchant_id=merchant_id, actor=SYSTEM, action="test.event", at=now - timedelta(hours=h, minutes=5))
        for h in hours
    ]


def _rehashed(check: dict) -> int:
    return int(check["evidence"][0].split(" seals and ")[1].split(" events")[0].replace(",", ""))


def test_the_chain_is_verified_from_where_the_last_report_left_it(dynamodb_backend, settings):
    merchant = make_merchant("Acme")
    old = _events(merchant.merchant_id, [6, 5, 4])
    _seal()
    first = _run()
    audit_record(merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.event")
    _seal()

    second = _integrity(_run())

    assert first.audit_verified[merchant.merchant_id]["seal_hash"]
    assert _integrity(first)["evidence"][1].startswith("2 partitions verified from their first seal, 0 from")
    assert second["status"] == "pass" and second["evidence"][1].startswith("0 partitions verified from their first")
    assert 1 <= _rehashed(second) < _rehashed(_integrity(first))  # what was sealed since, not the old hours

    # an event sealed since the last report and altered: this report re-reads it
    later = audit_record(merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.event")
    _seal()
    AuditEvent(merchant.merchant_id, later.occurred_event).update(actions=[AuditEvent.action.set("test.altered")])
    altered = _integrity(_run())
    assert altered["status"] == "fail" and any(later.event_id in item for item in altered["items"])

    # after a finding, the whole chain again; an event altered in hours verified before is found only
    # when the whole chain is verified again (COMPLIANCE_FULL_VERIFY_HOURS)
    AuditEvent(merchant.merchant_id, later.occurred_event).update(actions=[AuditEvent.action.set("test.event")])
    assert _integrity(_run())["evidence"][1].startswith("1 partitions verified from their first seal")
    AuditEvent(merchant.merchant_id, old[0].occurred_event).update(actions=[AuditEvent.action.set("test.altered")])
    assert _integrity(_run())["status"] == "pass"
    settings.COMPLIANCE_FULL_VERIFY_HOURS = 0
    whole = _integrity(_run())
    assert whole["status"] == "fail" and any(old[0].event_id in item for item in whole["items"])


def test_a_changed_head_seal_makes_the_next_report_verify_the_whole_chain(dynamodb_backend):
    merchant = make_merchant("Acme")
    _events(merchant.merchant_id, [3, 2])
    _seal()
    first = _run()
    point = first.audit_verified[merchant.merchant_id]
    AuditSeal(merchant.merchant_id, point["period_start"]).update(actions=[AuditSeal.seal_hash.set("0" * 64)])

    check = _integrity(_run())

    assert check["status"] == "fail" and check["evidence"][1].startswith("1 partitions verified from their first seal")
