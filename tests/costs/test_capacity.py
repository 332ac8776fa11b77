"""The app's own metering: ReturnConsumedCapacity=INDEXES on every call, counted in memory per
activity, operation, table and index, saved periodically, and shown to ops staff."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from core import dynamodb
from costs import capacity, selectors
from costs.capacity import Recorder, classify
from costs.models import CapacityUsage
from payments import selectors as payment_selectors
from tests.costs.capture import dynamodb_calls
from tests.factories import make_merchant, make_payment, make_user

TODAY = date(2026, 11, 28)
CREATE_RESPONSE = [
    {"TableName": "p-payments", "CapacityUnits": 4.0, "Table": {"CapacityUnits": 2.0},
     "GlobalSecondaryIndexes": {"by-merchant": {"CapacityUnits": 1.0}, "by-merchant-status": {"CapacityUnits": 1.0}}},
    {"TableName": "p-transactions", "CapacityUnits": 4.0, "Table": {"CapacityUnits": 4.0}},
]  # fmt: skip


def test_calls_are_named_by_the_activity_they_serve():
    put_payment = {"TransactItems": [{"Put": {"TableName": "p-payments"}}, {"Put": {"TableName": "p-transactions"}}]}
    update_payment = {"TransactItems": [{"Update": {"TableName": "p-payments"}}]}

    assert classify("TransactWriteItems", put_payment, "p-") == "payment.create"
    assert classify("TransactWriteItems", update_payment, "p-") == "payment.change"
    assert classify("Query", {"TableName": "p-payments", "IndexName": "by-merchant"}, "p-") == "payment.list"
    assert classify("Query", {"TableName": "p-daily_summaries"}, "p-") == "summary"
    assert classify("GetItem", {"TableName": "p-payments"}, "p-") == "payment.get"
    assert classify("GetItem", {"TableName": "p-merchants"}, "p-") == "other"


def test_the_recorder_splits_table_and_index_units_and_counts_calls():
    recorder = Recorder()

    recorder.record(
        activity="payment.create", operation="TransactWriteItems", consumed=CREATE_RESPONSE, prefix="p-", today=TODAY
    )
    recorder.record(
        activity="payment.create", operation="TransactWriteItems", consumed=CREATE_RESPONSE, prefix="p-", today=TODAY
    )
    pending = recorder.drain()

    key = (TODAY, "payment.create", "TransactWriteItems")
    assert pending[(*key, capacity.CALLS, "")].calls == 2
    assert pending[(*key, "payments", "")].write_units == Decimal(4)
    assert pending[(*key, "payments", "by-merchant-status")].write_units == Decimal(2)
    assert pending[(*key, "transactions", "")].write_units == Decimal(8)
    assert recorder.drain() == {}


def test_a_call_without_reported_capacity_is_counted_as_unreported():
    recorder = Recorder()

    recorder.record(activity="payment.list", operation="Query", consumed=None, prefix="p-", today=TODAY)

    (usage,) = recorder.drain().values()
    assert (usage.calls, usage.reported_calls) == (1, 0)


def test_flush_adds_to_the_saved_rows_and_measured_usage_reads_them_back(db):
    capacity.RECORDER.drain()  # what earlier tests measured is not this test's
    recorder = Recorder()
    for _ in range(3):
        recorder.record(
            activity="payment.create", operation="TransactWriteItems", consumed=CREATE_RESPONSE, prefix="p-"
        )
    recorder.flush()
    recorder.record(activity="payment.create", operation="TransactWriteItems", consumed=CREATE_RESPONSE, prefix="p-")
    recorder.flush()

    usage = selectors.measured_usage().get("payment.create")

    assert CapacityUsage.objects.filter(activity="payment.create").count() == 5
    assert usage.calls == 4
    assert (usage.table_write_per_call, usage.index_write_per_call) == (Decimal(6), Decimal(2))


def test_a_failed_flush_keeps_the_counters_for_the_next_one():
    recorder = Recorder()
    recorder.record(
        activity="summary",
        operation="Query",
        consumed={"TableName": "p-daily_summaries", "CapacityUnits": 0.5},
        prefix="p-",
    )

    assert recorder.flush() == 0  # no database access in this test: the save fails

    (usage,) = [u for key, u in recorder.drain().items() if key[3] == "daily_summaries"]
    assert usage.read_units == Decimal("0.5")


@pytest.mark.engine
def test_every_call_asks_for_index_level_capacity(dynamodb_backend):
    merchant = make_merchant()

    with dynamodb_calls() as calls:
        make_payment(merchant.merchant_id)
        payment_selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id)

    data_calls = [call for call in calls.calls if call.operation in ("TransactWriteItems", "Query", "GetItem")]
    assert data_calls and all(call.params["ReturnConsumedCapacity"] == "INDEXES" for call in data_calls)


@pytest.mark.engine_only
def test_ops_staff_see_measured_units_and_table_sizes_from_dynamodb_local(client, db, dynamodb_backend):
    merchant = make_merchant("Acme")
    capacity.RECORDER.drain()
    for _ in range(3):
        make_payment(merchant.merchant_id)
    payment_selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id, limit=25)
    staff = make_user("ops-costs", staff=True)
    client.force_login(staff)
    session = client.session
    session["merchant_id"] = merchant.merchant_id
    session.save()

    response = client.get(reverse("costs:cost-estimate"))

    html = response.content.decode()
    assert 'id="actual-usage"' in html and "Measured on DynamoDB Local" in html
    # three creates, each 12 table and 6 index units as DynamoDB Local reports them (the event of the
    # Events API and the balance counter add 2 table units each)
    assert '<tr data-activity="payment.create"><td>per payment created</td><td class="has-text-right">3</td>' in html
    assert '<td class="has-text-right">12.00</td><td class="has-text-right">6.00</td></tr>' in html
    assert '<tr data-activity="payment.list">' in html
    assert "From measured units" in html  # the month projected from them, next to the estimate
    assert dynamodb.table_name("payments") in html  # DescribeTable sizes


def test_table_sizes_are_described_once_then_read_from_the_cache(dynamodb_backend):
    cache.clear()
    with dynamodb_calls() as first:
        sizes = selectors.table_sizes()
    with dynamodb_calls() as again:
        assert selectors.table_sizes() == sizes

    assert dynamodb.table_name("payments") in {size.name for size in sizes}
    assert len(first.of("DescribeTable")) >= len(sizes)  # every table described
    assert again.calls == []  # the page's next view: no DynamoDB call for the sizes
