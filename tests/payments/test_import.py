"""Importing historical payments from another processor (`payments.imports`, `payments.services.imports`)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from audit.selectors import audit_event_list_for_entity
from core import dynamodb
from payments import selectors
from payments.enums import PaymentStatus, TransactionKind
from payments.errors import PaymentImported
from payments.imports import HEADER, ImportInvalid, import_csv_rows
from payments.models import DailySummary, Payment, PaymentImport, Transaction
from payments.services import imports, payment_capture, refund_create
from payments.services.imports import payment_import
from tests.factories import TEST_ACTOR, make_merchant
from tests.payments.helpers import integrator, problem
from webhooks.selectors import webhook_delivery_list_for_entity

pytestmark = pytest.mark.engine

DAY = datetime(2026, 10, 1, 9, 30, tzinfo=UTC)


def row(n: int, **overrides) -> dict:
    base = {
        "id": f"ch_{n:06d}",
        "created": (DAY + timedelta(hours=n)).isoformat().replace("+00:00", "Z"),
        "amount": 1000 + n,
        "currency": "usd",
        "status": "succeeded",
        "card_brand": "visa",
        "card_last4": "4242",
        "description": f"Order {n}",
        "metadata": json.dumps({"order": f"A-{n}"}),
    }
    return {**base, **overrides}


def file_of(rows: list[dict]) -> bytes:
    return import_csv_rows(rows)


def run(merchant_id: str, data: bytes, **kwargs):
    return payment_import(merchant_id=merchant_id, actor=TEST_ACTOR, data=data, filename="history.csv", **kwargs)


def count(merchant_id: str) -> int:
    return Payment.by_merchant.count(merchant_id)


def summary_counts(merchant_id: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in DailySummary.query(merchant_id):
        for status in PaymentStatus:
            totals[f"count_{status}"] = totals.get(f"count_{status}", 0) + item.value(f"count_{status}")
        for name in ("captured", "refunded", "refund_count"):
            totals[name] = totals.get(name, 0) + item.value(name)
    return {name: value for name, value in totals.items() if value}


def test_an_import_writes_payments_ledger_counters_and_one_audit_event(dynamodb_backend):
    merchant = make_merchant()
    rows = [
        row(1),
        row(2, status="refunded", amount_captured=1002, amount_refunded=1002),
        row(3, status="partially_refunded", amount_refunded=500, currency="eur", customer_email="Ada@Example.com"),
        row(4, status="failed"),
        row(5, status="canceled"),
    ]
    data = file_of(rows)

    result = run(merchant.merchant_id, data)

    assert result.completed and result.created
    assert (result.record.rows_total, result.record.imported, result.record.skipped) == (5, 5, 0)
    payments = {p.external_id: p for p in Payment.by_merchant.query(merchant.merchant_id)}
    assert set(payments) == {"ch_000001", "ch_000002", "ch_000003", "ch_000004", "ch_000005"}
    first = payments["ch_000001"]
    assert first.imported and first.created == DAY + timedelta(hours=1)
    assert first.payment_id.startswith("pay_") and first.status == "succeeded" and first.amount_captured == 1001
    assert first.metadata == {"order": "A-1"} and first.card.brand == "visa" and first.card.last4 == "4242"
    assert payments["ch_000003"].customer_id is not None
    kinds = [t.kind for t in Transaction.query(payments["ch_000002"].payment_id)]
    assert sorted(kinds) == sorted([TransactionKind.AUTHORIZATION, TransactionKind.CAPTURE, TransactionKind.REFUND])
    assert summary_counts(merchant.merchant_id) == {
        "count_succeeded": 1,
        "count_refunded": 1,
        "count_partially_refunded": 1,
        "count_failed": 1,
        "count_canceled": 1,
        "captured": 1001 + 1002 + 1003,
        "refunded": 1002 + 500,
        "refund_count": 2,
    }
    summary = selectors.payment_summary(merchant_id=merchant.merchant_id, start=DAY.date(), end=DAY.date())
    assert summary.currencies["usd"].count == 4 and summary.currencies["usd"].captured == 1001 + 1002
    assert summary.currencies["usd"].refunded == 1002
    assert summary.currencies["eur"].refunded == 500
    sha256 = hashlib.sha256(data).hexdigest()
    events = audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=sha256)
    assert [e.action for e in events] == ["payment.import"]
    assert events[0].after["sha256"] == sha256 and events[0].after["imported"] == 5
    assert events[0].actor_id == TEST_ACTOR.id
    for payment in payments.values():
        assert webhook_delivery_list_for_entity(merchant_id=merchant.merchant_id, entity_id=payment.payment_id) == []


def test_the_payment_id_comes_from_created_so_date_filters_find_imported_payments(dynamodb_backend):
    merchant = make_merchant()
    run(merchant.merchant_id, file_of([row(1), row(30), row(60)]))

    page = selectors.payment_list_for_merchant(
        merchant_id=merchant.merchant_id,
        created_gte=DAY + timedelta(hours=2),
        created_lt=DAY + timedelta(hours=59),
    )

    assert [p.external_id for p in page.items] == ["ch_000030"]


def test_bad_rows_are_reported_with_their_lines_and_nothing_is_written(dynamodb_backend):
    merchant = make_merchant()
    rows = [
        row(1),
        row(2, amount="12.50"),
        row(3, currency="xyz"),
        row(4, status="requires_capture"),
        row(5, metadata="{not json"),
        row(6, status="refunded", amount_refunded=10),
        row(1, created="2026-10-02"),  # the same id again
    ]

    with pytest.raises(ImportInvalid) as raised:
        run(merchant.merchant_id, file_of(rows))

    found = {(e.line, e.column) for e in raised.value.errors}
    assert found == {
        (3, "amount"),
        (4, "currency"),
        (5, "status"),
        (6, "metadata"),
        (7, "status"),
        (8, "id"),
    }
    assert "line 3, column `amount`" in raised.value.detail and "nothing was imported" in raised.value.detail
    assert count(merchant.merchant_id) == 0
    assert list(DailySummary.query(merchant.merchant_id)) == []
    assert list(PaymentImport.query(merchant.merchant_id)) == []


@pytest.mark.parametrize("column", ["description", "metadata", "id", "extra"])
def test_a_card_number_in_any_column_is_refused_without_echoing_it(dynamodb_backend, column):
    merchant = make_merchant()
    pan = "4242 4242 4242 4242"
    bad = row(2, **{column: pan if column != "metadata" else json.dumps({"card": pan})})
    data = file_of([row(1)]) if column != "extra" else b""
    if column == "extra":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*HEADER, "extra"])
        writer.writerow([row(1).get(name, "") for name in HEADER] + ["ok"])
        writer.writerow([bad.get(name, "") for name in HEADER] + [pan])
        data = out.getvalue().encode()
    else:
        data = file_of([row(1), bad])

    with pytest.raises(ImportInvalid) as raised:
        run(merchant.merchant_id, data)

    assert [(e.line, e.column) for e in raised.value.errors] == [(3, column)]
    assert "card number" in raised.value.detail
    for digits in ("4242424242424242", "4242 4242 4242 4242", "4242"):
        assert digits not in raised.value.detail and digits not in str(raised.value.extensions)
    assert count(merchant.merchant_id) == 0


def test_the_same_file_twice_is_one_import(dynamodb_backend):
    merchant = make_merchant()
    data = file_of([row(n) for n in range(1, 6)])
    run(merchant.merchant_id, data)
    before = summary_counts(merchant.merchant_id)

    again = run(merchant.merchant_id, data)

    assert again.already and not again.created and again.completed and again.written_now == 0
    assert count(merchant.merchant_id) == 5
    assert summary_counts(merchant.merchant_id) == before
    assert len(list(PaymentImport.query(merchant.merchant_id))) == 1
    sha256 = hashlib.sha256(data).hexdigest()
    assert len(audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=sha256)) == 1


def test_a_payment_another_file_brought_already_is_skipped_not_counted_twice(dynamodb_backend):
    merchant = make_merchant()
    run(merchant.merchant_id, file_of([row(1), row(2)]))

    second = run(merchant.merchant_id, file_of([row(2), row(3)]))

    assert (second.record.imported, second.record.skipped) == (1, 1)
    assert count(merchant.merchant_id) == 3
    assert summary_counts(merchant.merchant_id)["count_succeeded"] == 3


def test_a_crash_mid_file_resumes_where_it_stopped_and_counts_once(dynamodb_backend, monkeypatch):
    merchant = make_merchant()
    monkeypatch.setattr(imports, "CHUNK_ROWS", 4)
    data = file_of([row(n) for n in range(1, 15)])  # 4 chunks
    real_put = imports._transact_put
    calls = []

    def crash_on_the_third_chunk(items):
        calls.append(len(items))
        real_put(items)  # the chunk's payments are written ...
        if len(calls) == 3:
            raise RuntimeError("the machine stopped")  # ... but not its counters nor its progress

    monkeypatch.setattr(imports, "_transact_put", crash_on_the_third_chunk)
    with pytest.raises(RuntimeError):
        run(merchant.merchant_id, data)
    record = PaymentImport.get(merchant.merchant_id, hashlib.sha256(data).hexdigest())
    assert (record.status, record.chunks_done, record.chunks_total) == ("running", 2, 4)
    assert count(merchant.merchant_id) == 12
    assert summary_counts(merchant.merchant_id)["count_succeeded"] == 8

    monkeypatch.setattr(imports, "_transact_put", real_put)
    progress = []
    resumed = run(merchant.merchant_id, data, on_progress=lambda done, total: progress.append((done, total)))

    assert resumed.resumed and resumed.completed
    assert progress[0] == (8, 14) and progress[-1] == (14, 14)
    assert (resumed.record.imported, resumed.record.skipped) == (14, 0)
    assert count(merchant.merchant_id) == 14
    assert summary_counts(merchant.merchant_id) == {
        "count_succeeded": 14,
        "captured": sum(1000 + n for n in range(1, 15)),
    }


def test_imported_payments_are_neither_captured_nor_refunded(dynamodb_backend):
    merchant = make_merchant()
    run(merchant.merchant_id, file_of([row(1)]))
    payment = next(iter(Payment.by_merchant.query(merchant.merchant_id)))

    with pytest.raises(PaymentImported):
        refund_create(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)
    with pytest.raises(PaymentImported):
        payment_capture(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)

    assert selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).amount_refunded == 0


def test_the_api_answers_409_payment_imported_and_lists_summarises_and_exports_them(dynamodb_backend):
    api = integrator()
    made = api.create(amount=700)
    run(api.merchant_id, file_of([row(1), row(2, status="partially_refunded", amount_refunded=100)]))
    imported = [p for p in Payment.by_merchant.query(api.merchant_id) if p.imported]

    refund = api.post(f"/payments/{imported[0].payment_id}/refunds", {"amount": 100})
    capture = api.post(f"/payments/{imported[0].payment_id}/capture", {})
    listed = api.get("/payments", limit=10).json()
    summary = api.get("/payments/summary", created_gte="2026-10-01T00:00:00Z").json()
    export = b"".join(api.get("/payments/export").streaming_content).decode()

    assert problem(refund)["code"] == "payment_imported" and refund.status_code == 409
    assert problem(capture)["code"] == "payment_imported" and capture.status_code == 409
    assert {p["id"] for p in listed["data"]} == {made["id"], *(p.payment_id for p in imported)}
    assert "usd" in str(summary) and len(export.strip().splitlines()) == 1 + 3
    assert all(p.payment_id in export for p in imported)


def test_the_bulk_written_items_are_exactly_what_the_models_would_store(dynamodb_backend):
    merchant = make_merchant()
    run(
        merchant.merchant_id, file_of([row(1, status="refunded", amount_refunded=1001, customer_email="a@example.com")])
    )
    payment = next(iter(Payment.by_merchant.query(merchant.merchant_id)))
    client = dynamodb.connection().client

    stored = client.get_item(TableName=Payment.Meta.table_name, Key={"payment_id": {"S": payment.payment_id}})["Item"]
    ledger = client.query(
        TableName=Transaction.Meta.table_name,
        KeyConditionExpression="payment_id = :p",
        ExpressionAttributeValues={":p": {"S": payment.payment_id}},
    )["Items"]

    assert stored == Payment.from_raw_data(stored).serialize()
    assert all(item == Transaction.from_raw_data(item).serialize() for item in ledger) and len(ledger) == 3
    assert payment.version == 1 and payment.customer_id and payment.updated == payment.created


def test_each_payment_is_written_with_all_its_ledger_entries_in_one_transaction(
    dynamodb_backend, monkeypatch, settings
):
    if dynamodb_backend != "moto":  # moto's store is not safe for transactions from two threads at once
        settings.IMPORT_WRITE_THREADS = 4
    merchant = make_merchant()
    monkeypatch.setattr(imports, "WRITE_LIMIT", 7)
    refunded = {"status": "refunded", "amount_captured": "1003", "amount_refunded": "1003"}
    data = file_of([row(1), row(2), row(3, **refunded), row(4), row(5, status="failed")])
    calls = []
    tables = {Payment.Meta.table_name, Transaction.Meta.table_name}
    connection_type = type(dynamodb.connection())
    real = connection_type.transact_write_items

    def recorded(self, condition_check_items, delete_items, put_items, update_items, **kwargs):
        written = [(put["TableName"], put["Item"]) for put in put_items if put["TableName"] in tables]
        if written:
            calls.append([(table, item["payment_id"]["S"]) for table, item in written])
        return real(self, condition_check_items, delete_items, put_items, update_items, **kwargs)

    monkeypatch.setattr(connection_type, "transact_write_items", recorded)

    result = run(merchant.merchant_id, data)

    assert result.completed
    payments_table, ledger_table = Payment.Meta.table_name, Transaction.Meta.table_name
    payment_calls = {pid: n for n, call in enumerate(calls) for table, pid in call if table == payments_table}
    assert len(payment_calls) == 5 and all(len(call) <= 7 for call in calls)
    for n, call in enumerate(calls):  # every ledger entry rides in its payment's transaction
        assert all(payment_calls[pid] == n for table, pid in call if table == ledger_table)
    assert len(calls) >= 3  # 15 items (5 payments, 10 entries), at most 7 a transaction
    assert sum(1 for call in calls for table, _ in call if table == ledger_table) == 10
