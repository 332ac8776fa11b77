"""The SearchIndexer Lambda: a synthetic DynamoDB stream event feeds the search index, and the template
gives the function the two streams and nothing else."""

from __future__ import annotations

import pytest

from customers.models import Customer
from customers.services import customer_create
from payments.models import Payment
from paysite import sam
from paysite.lambda_handlers import search_stream
from search import index
from search.models import EntryKind, SearchEntry
from tests.factories import TEST_ACTOR, make_merchant, make_payment


def _record(table: str, event: str, *, image: dict | None = None, keys: dict | None = None, sequence: str = "1"):
    change: dict = {"SequenceNumber": sequence, "Keys": keys or {}, "StreamViewType": "NEW_IMAGE"}
    if image is not None:
        change["NewImage"] = image
    return {
        "eventID": f"evt-{sequence}",
        "eventName": event,
        "eventSource": "aws:dynamodb",
        "eventSourceARN": f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-11-30T00:00:00.000",
        "dynamodb": change,
    }


@pytest.fixture
def streamed(db, settings):
    settings.SEARCH_INDEX_INLINE = False  # the stream is the only feed, as in production
    merchant = make_merchant("Acme")
    customer = customer_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="ada.lovelace@example.com", name="Ada Lovelace"
    )
    payment = make_payment(merchant.merchant_id, description="Invoice 7781 engines", customer_id=customer.customer_id)
    return merchant, customer, payment


def test_nothing_is_indexed_in_process_when_the_inline_feed_is_off(streamed):
    assert SearchEntry.objects.count() == 0


def test_a_stream_batch_indexes_inserts_and_modifies_and_drops_removals(streamed):
    merchant, customer, payment = streamed
    event = {
        "Records": [
            _record(Customer.Meta.table_name, "INSERT", image=customer.serialize(), sequence="1"),
            _record(Payment.Meta.table_name, "INSERT", image=payment.serialize(), sequence="2"),
            _record("paysite-unrelated", "INSERT", image={"x": {"S": "y"}}, sequence="3"),
        ]
    }

    assert search_stream.handler(event, None) == {"batchItemFailures": []}

    found = index.search(merchant_id=merchant.merchant_id, kind=EntryKind.PAYMENT, query="invoice eng")
    assert found.ids == [payment.payment_id]
    by_email = index.search(merchant_id=merchant.merchant_id, kind=EntryKind.PAYMENT, query="ada.love")
    assert by_email.ids == [payment.payment_id]

    removal = _record(Payment.Meta.table_name, "REMOVE", keys={"payment_id": {"S": payment.payment_id}}, sequence="4")
    assert search_stream.handler({"Records": [removal]}, None) == {"batchItemFailures": []}
    assert index.search(merchant_id=merchant.merchant_id, kind=EntryKind.PAYMENT, query="invoice").ids == []


def test_a_failing_record_is_reported_and_the_rest_of_the_batch_waits_for_the_retry(streamed):
    merchant, customer, payment = streamed
    broken = customer.serialize()
    broken["email"]["M"]["ciphertext"] = {"S": "bm90LWEtY2lwaGVydGV4dA=="}  # does not decrypt
    event = {
        "Records": [
            _record(Customer.Meta.table_name, "MODIFY", image=broken, sequence="10"),
            _record(Payment.Meta.table_name, "INSERT", image=payment.serialize(), sequence="11"),
        ]
    }

    assert search_stream.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "10"}]}
    assert not SearchEntry.objects.filter(object_id=payment.payment_id).exists()


@pytest.mark.pure
def test_the_indexer_reads_the_two_streams_and_no_table():
    template = sam.sam_template()
    statements = template["Resources"]["SearchIndexerFunction"]["Properties"]["Policies"][0]["Statement"]

    assert len(statements) == 1
    assert sorted(statements[0]["Action"]) == [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ]
    assert all(arn["Fn::Sub"].endswith("/stream/*") for arn in statements[0]["Resource"])
    assert {arn["Fn::Sub"].rsplit("}", 1)[1] for arn in statements[0]["Resource"]} == {
        "payments/stream/*",
        "customers/stream/*",
    }
    for table in ("Payments", "Customers"):
        mapping = template["Resources"][f"SearchIndexer{table}Stream"]
        assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [f"{table}Table", "StreamArn"]}
        assert template["Resources"][f"{table}Table"]["Properties"]["StreamSpecification"]["StreamViewType"] in {
            "NEW_IMAGE",
            "NEW_AND_OLD_IMAGES",
        }
    for function in sam.FUNCTIONS:  # no other function reads a stream
        if function.name != "SearchIndexer":
            actions = {
                a
                for s in template["Resources"][f"{function.name}Function"]["Properties"]["Policies"][0]["Statement"]
                for a in s["Action"]
            }
            assert "dynamodb:GetRecords" not in actions, function.name
