"""Processing a settlement file: a generated file with a known answer, resuming after a crash, the
S3 handler, re-uploads."""

from __future__ import annotations

import copy
import io
import json

import boto3
import moto.dynamodb.models
import pytest

from audit.models import AuditEvent
from payments.enums import PaymentStatus, TransactionKind
from payments.models import Payment, Transaction
from payments.services import refund_create
from reconciliation import selectors, services
from reconciliation.enums import Kind, Outcome, SettlementStatus
from reconciliation.handlers import s3_event
from reconciliation.models import Settlement
from reconciliation.representations import settlement_object
from reconciliation.services import lines, processing, settling
from tests.factories import TEST_ACTOR, make_merchant, make_payment
from tests.reconciliation.files import csv_bytes, line_for
from tests.reconciliation.planted import planted_file

pytestmark = pytest.mark.usefixtures("moto_without_rollback")


def _upload(planted, *, filename="settlement.csv", enqueue=True):
    return services.settlement_create(
        merchant_id=planted.merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(planted.content),
        filename=filename,
        enqueue=enqueue,
    )


def _found(merchant_id: str, settlement_id: str) -> set[tuple[str, int | None, str | None]]:
    items = selectors.discrepancy_iter(merchant_id=merchant_id, settlement_id=settlement_id)
    return {(d.kind, int(d.line) if d.line is not None else None, d.payment_id) for d in items}


def _settlement_ledger(payment_id: str) -> list[Transaction]:
    return [t for t in Transaction.query(payment_id, consistent_read=True) if t.kind == TransactionKind.SETTLEMENT]


@pytest.mark.engine
def test_generated_file_gives_exactly_the_planted_discrepancies_and_totals(dynamodb_backend):
    # 5,000 lines on DynamoDB Local; moto copies its store on every transaction, so there a file of
    # 1,200 lines (three chunks, every kind planted) checks the same in a fraction of the time.
    lines = 1200 if dynamodb_backend == "moto" else 5000
    planted = planted_file(lines=lines)

    intake = _upload(planted)

    settlement = selectors.settlement_get(
        merchant_id=planted.merchant_id, settlement_id=intake.settlement.settlement_id
    )
    data = settlement_object(settlement)
    assert data["status"] == SettlementStatus.COMPLETED
    assert data["rows_total"] == data["rows_processed"] == lines
    assert data["counts"] == planted.counts
    assert data["totals"] == planted.totals
    assert (data["period_start"], data["period_end"]) == planted.period
    found = _found(planted.merchant_id, settlement.settlement_id)
    assert found == planted.discrepancies
    for kind in Kind:
        assert any(d[0] == kind for d in found), kind
    # matched payments carry the settlement and exactly one settlement ledger entry
    sample = planted.matched_payment_ids[::250] + planted.matched_payment_ids[-3:]
    for payment_id in sample:
        assert Payment.get(payment_id, consistent_read=True).settlement_id == settlement.settlement_id
        ledger = _settlement_ledger(payment_id)
        assert len(ledger) == 1 and ledger[0].settlement_id == settlement.settlement_id
    # another merchant's payment named in the file is never touched
    other_ids = [pid for kind, _, pid in planted.discrepancies if kind == Kind.MISSING_IN_PLATFORM and pid]
    for payment_id in other_ids:
        try:
            payment = Payment.get(payment_id, consistent_read=True)
        except Payment.DoesNotExist:
            continue
        assert payment.settlement_id is None
        assert _settlement_ledger(payment_id) == []


class WorkerDied(BaseException):
    """Stands in for a killed worker: not an Exception, so nothing records a failure."""


def test_a_run_resumed_after_a_crash_equals_an_uninterrupted_one(monkeypatch):
    monkeypatch.setattr(processing, "CHUNK_ROWS", 100)
    crashed = planted_file(lines=450, seed=11)
    straight = planted_file(lines=450, seed=11)
    intake = _upload(crashed, enqueue=False)
    settlement_id = intake.settlement.settlement_id
    real_save = processing._progress_save
    saves = {"n": 0}

    def dies_on_third_chunk(settlement, progress, **more):
        saves["n"] += 1
        if saves["n"] == 3:  # chunk 3's lines, claims and ledger entries are written, its progress is not
            raise WorkerDied
        real_save(settlement, progress, **more)

    monkeypatch.setattr(processing, "_progress_save", dies_on_third_chunk)
    with pytest.raises(WorkerDied):
        services.settlement_process(merchant_id=crashed.merchant_id, settlement_id=settlement_id)
    half = Settlement.get(settlement_id, consistent_read=True)
    assert (half.status, int(half.rows_processed)) == (SettlementStatus.PROCESSING, 200)
    monkeypatch.setattr(processing, "_progress_save", real_save)

    resumed = services.settlement_process(merchant_id=crashed.merchant_id, settlement_id=settlement_id)
    uninterrupted = _upload(straight).settlement

    uninterrupted = Settlement.get(uninterrupted.settlement_id, consistent_read=True)
    for field in ("status", "rows_total", "rows_processed", "counts", "totals", "period_start", "period_end"):
        assert settlement_object(resumed)[field] == settlement_object(uninterrupted)[field], field
    assert settlement_object(resumed)["counts"] == crashed.counts
    assert _found(crashed.merchant_id, settlement_id) == crashed.discrepancies
    assert _found(straight.merchant_id, uninterrupted.settlement_id) == straight.discrepancies
    for payment_id in crashed.matched_payment_ids:
        assert len(_settlement_ledger(payment_id)) == 1


@pytest.mark.engine
def test_a_run_dying_in_the_missing_pass_resumes_it_and_a_payment_another_file_settled_is_not_missing(
    monkeypatch, dynamodb_backend
):
    monkeypatch.setattr(processing, "MISSING_PAGE", 2)
    planted = planted_file(lines=120, seed=5)
    missing = {payment_id for kind, _, payment_id in planted.discrepancies if kind == Kind.MISSING_IN_FILE}
    elsewhere = sorted(missing)[0]  # in the period, in no line of this file, settled by another one
    Payment.get(elsewhere).update(actions=[Payment.settlement_id.set("set_01OTHERFILE0000000000000000")])
    settlement_id = _upload(planted, enqueue=False).settlement.settlement_id
    real_save = processing._progress_save
    cursors = []

    def dies_after_two_pages(settlement, progress, **more):
        if "missing_cursor" in more:
            cursors.append(more["missing_cursor"])
            if len(cursors) == 2:  # the second page's discrepancies are written, its progress is not
                raise WorkerDied
        real_save(settlement, progress, **more)

    monkeypatch.setattr(processing, "_progress_save", dies_after_two_pages)
    with pytest.raises(WorkerDied):
        services.settlement_process(merchant_id=planted.merchant_id, settlement_id=settlement_id)
    assert Settlement.get(settlement_id, consistent_read=True).missing_cursor == cursors[0]
    monkeypatch.setattr(processing, "_progress_save", real_save)

    resumed = services.settlement_process(merchant_id=planted.merchant_id, settlement_id=settlement_id)

    found = {
        payment_id for kind, _, payment_id in _found(planted.merchant_id, settlement_id) if kind == Kind.MISSING_IN_FILE
    }
    assert found == missing - {elsewhere}
    assert settlement_object(resumed)["counts"][Kind.MISSING_IN_FILE] == len(missing) - 1


@pytest.fixture
def moto_rolls_back(monkeypatch, dynamodb_backend):
    """Cancelled transactions undone in moto too (tests/reconciliation/conftest.py turns that off for speed)."""
    if dynamodb_backend == "moto":
        monkeypatch.setattr(moto.dynamodb.models, "copy", copy)


@pytest.mark.engine
def test_payments_changed_while_their_chunk_settles_are_read_and_judged_again(monkeypatch, moto_rolls_back):
    merchant = make_merchant()
    kept, refunded, partly = (make_payment(merchant.merchant_id, amount=2000 + n) for n in range(3))
    settle_all, batch_get = lines.settle_all, settling.batch_get
    reads_of_partly = []

    def others_refund_after_the_chunk_read(settlement, pending, at):
        refund_create(merchant_id=merchant.merchant_id, payment_id=refunded.payment_id, actor=TEST_ACTOR)
        refund_create(merchant_id=merchant.merchant_id, payment_id=partly.payment_id, actor=TEST_ACTOR, amount=500)
        return settle_all(settlement, pending, at)

    def and_once_more_after_the_first_reread(keys, **options):
        items = batch_get(keys, **options)
        if any(key == {"payment_id": partly.payment_id} for _, key in keys):
            reads_of_partly.append(items)
            if len(reads_of_partly) == 1:  # its lone transaction now fails its condition: read again
                refund_create(
                    merchant_id=merchant.merchant_id, payment_id=partly.payment_id, actor=TEST_ACTOR, amount=100
                )
        return items

    monkeypatch.setattr(lines, "settle_all", others_refund_after_the_chunk_read)
    monkeypatch.setattr(settling, "batch_get", and_once_more_after_the_first_reread)

    intake = services.settlement_create(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(csv_bytes([line_for(p) for p in (kept, refunded, partly)])),
        filename="changed.csv",
    )

    settlement = selectors.settlement_get(
        merchant_id=merchant.merchant_id, settlement_id=intake.settlement.settlement_id
    )
    sid = settlement.settlement_id
    assert settlement.status == SettlementStatus.COMPLETED
    assert {k: v for k, v in settlement.counts.items() if v} == {Outcome.MATCHED: 2, Kind.STATUS_MISMATCH: 1}
    assert len(reads_of_partly) == 2  # read again after its lone transaction failed its condition
    (discrepancy,) = selectors.discrepancy_iter(merchant_id=merchant.merchant_id, settlement_id=sid)
    assert (discrepancy.kind, discrepancy.payment_id) == (Kind.STATUS_MISMATCH, refunded.payment_id)
    assert discrepancy.detail == f"The file says settled; payment {refunded.payment_id} is refunded."
    assert Payment.get(refunded.payment_id).settlement_id is None and _settlement_ledger(refunded.payment_id) == []
    for payment in (kept, partly):
        assert Payment.get(payment.payment_id, consistent_read=True).settlement_id == sid
        assert [t.settlement_id for t in _settlement_ledger(payment.payment_id)] == [sid]
    assert Payment.get(partly.payment_id).status == PaymentStatus.PARTIALLY_REFUNDED


def test_the_same_file_again_returns_the_same_settlement():
    planted = planted_file(lines=120, seed=3)

    first = _upload(planted, filename="first.csv")
    second = _upload(planted, filename="renamed.csv")

    assert first.created and not second.created
    assert second.settlement.settlement_id == first.settlement.settlement_id
    assert len(selectors.settlement_list_for_merchant(merchant_id=planted.merchant_id).items) == 1


def test_the_s3_handler_gives_the_same_settlement_as_the_upload():
    via_upload = planted_file(lines=300, seed=5)
    via_s3 = planted_file(lines=300, seed=5)
    uploaded = selectors.settlement_get(
        merchant_id=via_upload.merchant_id, settlement_id=_upload(via_upload).settlement.settlement_id
    )
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="paysite-settlements")
    key = f"settlements/{via_s3.merchant_id}/2026-11-26 daily.csv"
    s3.put_object(Bucket="paysite-settlements", Key=key, Body=via_s3.content)
    event = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "paysite-settlements"}, "object": {"key": key.replace(" ", "+")}},
            }
        ]
    }

    result = s3_event(event, None)
    again = s3_event(event, None)

    (outcome,) = result["results"]
    assert outcome["status"] == SettlementStatus.COMPLETED and outcome["created"] is True
    assert again["results"][0]["settlement_id"] == outcome["settlement_id"] and again["results"][0]["created"] is False
    from_s3 = selectors.settlement_get(merchant_id=via_s3.merchant_id, settlement_id=outcome["settlement_id"])
    assert from_s3.filename == "2026-11-26 daily.csv"
    for field in ("status", "rows_total", "rows_processed", "counts", "totals", "period_start", "period_end"):
        assert settlement_object(from_s3)[field] == settlement_object(uploaded)[field], field
    assert _found(via_s3.merchant_id, from_s3.settlement_id) == via_s3.discrepancies


def test_the_s3_handler_reports_a_rejected_file_and_a_foreign_key():
    merchant = make_merchant()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="paysite-settlements")
    s3.put_object(
        Bucket="paysite-settlements", Key=f"settlements/{merchant.merchant_id}/bad.csv", Body=b"id;amount\n1;2\n"
    )
    s3.put_object(Bucket="paysite-settlements", Key="elsewhere/file.csv", Body=b"payment_id,amount\n")

    result = s3_event(
        {
            "Records": [
                {"s3": {"bucket": {"name": "paysite-settlements"}, "object": {"key": key}}}
                for key in (f"settlements/{merchant.merchant_id}/bad.csv", "elsewhere/file.csv")
            ]
        },
        None,
    )

    bad, foreign = result["results"]
    assert bad["error"] == "wrong_delimiter" and "comma-separated" in bad["detail"]
    assert foreign["error"] == "not_a_settlement_key"
    assert selectors.settlement_list_for_merchant(merchant_id=merchant.merchant_id).items == []


def test_the_demo_file_command_plants_one_discrepancy_of_each_kind():
    from datetime import UTC, datetime, timedelta

    from django.core.management import call_command

    from payments.errors import CardDeclined
    from tests.factories import card, make_payment

    merchant = make_merchant("Demo Outdoor")
    two_days_ago = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=2)
    for n in range(14):
        make_payment(merchant.merchant_id, amount=1500 + n * 101, now=two_days_ago + timedelta(minutes=n))
    with pytest.raises(CardDeclined):
        make_payment(
            merchant.merchant_id, amount=999, card=card("4000000000000002"), now=two_days_ago + timedelta(hours=1)
        )
    out = io.StringIO()

    call_command("settlement_demo_file", "--merchant", "demo out", stdout=out, stderr=io.StringIO())
    intake = services.settlement_create(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(out.getvalue().encode()),
        filename="demo.csv",
    )

    counts = selectors.settlement_get(
        merchant_id=merchant.merchant_id, settlement_id=intake.settlement.settlement_id
    ).counts
    assert counts["matched"] == 14 - 5  # amount, fee, currency, invalid and the left-out one
    for kind in Kind:
        assert counts[kind] == 1, kind


# --- one bad row never stops a file ----------------------------------------------------------------

CELL_120_KB = 120 * 1024


def _four_huge_cells(filler: str):
    return lambda payment: {
        **line_for(payment),
        **{field: filler * CELL_120_KB for field in ("payment_id", "amount", "currency", "settled_at")},
    }


# Each bad row sits between two good lines; the second good line is for payment `named`.
BAD_ROWS = {
    "four-120-kb-cells": _four_huge_cells("x"),
    "four-120-kb-cells-of-emoji": _four_huge_cells("\U0001f600"),
    "amount-of-5001-digits": lambda named: {**line_for(named), "payment_id": "pay_nosuch", "amount": "0" * 5000 + "1"},
    "naming-the-next-lines-payment": lambda named: {**line_for(named), "amount": "twelve"},
}


def _stored_bytes(item) -> int:
    """At least what DynamoDB counts of an item: its attribute names and values."""
    return sum(
        len(name) + len(json.dumps(value, ensure_ascii=False).encode()) for name, value in item.serialize().items()
    )


@pytest.mark.engine  # moto neither finds two puts of one key in a batch nor sizes items quite as DynamoDB does
@pytest.mark.parametrize("bad_row", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_one_bad_row_never_stops_the_file(bad_row, dynamodb_backend):
    merchant = make_merchant()
    first, named = (make_payment(merchant.merchant_id, amount=1500 + n) for n in range(2))
    content = csv_bytes([line_for(first), bad_row(named), line_for(named)])

    intake = services.settlement_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=io.BytesIO(content), filename="one-bad-row.csv"
    )

    settlement = Settlement.get(intake.settlement.settlement_id, consistent_read=True)
    assert (settlement.status, settlement.error) == (SettlementStatus.COMPLETED, None)
    assert {k: v for k, v in settlement.counts.items() if v} == {Outcome.MATCHED: 2, Kind.INVALID_ROW: 1}
    for payment in (first, named):
        assert Payment.get(payment.payment_id, consistent_read=True).settlement_id == settlement.settlement_id
    (discrepancy,) = selectors.discrepancy_iter(
        merchant_id=merchant.merchant_id, settlement_id=settlement.settlement_id
    )
    assert (discrepancy.kind, int(discrepancy.line)) == (Kind.INVALID_ROW, 3)
    assert discrepancy.detail.startswith("Line 3: ") and len(discrepancy.detail) <= 500
    assert all(len(cell) <= 101 for cell in discrepancy.actual.values()), discrepancy.actual
    assert _stored_bytes(discrepancy) < 16 * 1024


def test_a_failed_settlement_is_processed_again_when_its_file_is_uploaded_again(monkeypatch):
    merchant = make_merchant()
    payments = [make_payment(merchant.merchant_id, amount=1800 + n) for n in range(2)]
    content = csv_bytes([line_for(p) for p in payments])

    def a_bug_in_this_release(*args, **kwargs):
        raise RuntimeError("a bug in this release")

    with monkeypatch.context() as patched:
        patched.setattr(processing, "chunk_process", a_bug_in_this_release)
        failed = services.settlement_create(
            merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=io.BytesIO(content), filename="nov.csv"
        )
    sid = failed.settlement.settlement_id
    assert Settlement.get(sid, consistent_read=True).status == SettlementStatus.FAILED

    again = services.settlement_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=io.BytesIO(content), filename="nov-again.csv"
    )

    settlement = Settlement.get(sid, consistent_read=True)
    assert (settlement.status, settlement.error) == (SettlementStatus.COMPLETED, None)
    assert settlement.counts[Outcome.MATCHED] == 2
    assert (again.created, again.requeued, again.settlement.settlement_id) == (False, True, sid)
    assert len(selectors.settlement_list_for_merchant(merchant_id=merchant.merchant_id).items) == 1
    uploads = [e for e in AuditEvent.by_entity.query(sid) if e.action == "settlement.upload"]
    assert [e.detail for e in uploads if e.detail] == ["The same file again: its failed settlement is processed again."]
    assert len(uploads) == 2


def test_the_same_file_again_does_not_queue_a_completed_settlement_again():
    merchant = make_merchant()
    content = csv_bytes([line_for(make_payment(merchant.merchant_id))])
    first = services.settlement_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=io.BytesIO(content), filename="nov.csv"
    )

    again = services.settlement_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=io.BytesIO(content), filename="again.csv"
    )

    assert (again.created, again.requeued) == (False, False)
    assert again.settlement.settlement_id == first.settlement.settlement_id
    actions = [e.action for e in AuditEvent.by_entity.query(first.settlement.settlement_id)]
    assert sorted(actions) == ["settlement.processing_finished", "settlement.processing_started", "settlement.upload"]


# --- the S3 handler and the app's own stored uploads ---------------------------------------------


def test_the_s3_handler_ignores_the_apps_own_stored_uploads_in_a_shared_bucket(settings):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="paysite-settlements")
    settings.STORAGES = {
        **settings.STORAGES,
        "settlements": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "paysite-settlements", "region_name": "us-east-1", "default_acl": None},
        },
    }
    merchant = make_merchant()
    payment = make_payment(merchant.merchant_id)
    intake = services.settlement_create(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(csv_bytes([line_for(payment)])),
        filename="nov.csv",
        enqueue=False,  # the worker has not run yet when the bucket's event arrives
    )
    stored = intake.settlement.storage_name
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="paysite-settlements")["Contents"]] == [stored]

    result = s3_event(
        {"Records": [{"s3": {"bucket": {"name": "paysite-settlements"}, "object": {"key": stored}}}]}, None
    )

    (outcome,) = result["results"]
    assert (outcome["key"], outcome["ignored"]) == (stored, "stored_upload")
    assert "settlement_id" not in outcome
    settlement = Settlement.get(intake.settlement.settlement_id, consistent_read=True)
    assert (settlement.status, int(settlement.rows_processed)) == (SettlementStatus.QUEUED, 0)
    assert [e.action for e in AuditEvent.by_entity.query(settlement.settlement_id)] == ["settlement.upload"]
