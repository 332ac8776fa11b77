"""Capacity units per transaction, from the declared write path (`costs.write_path`)."""

from dataclasses import replace
from decimal import Decimal

import pytest

from costs import write_path
from costs.inputs import Inputs
from costs.units import model_units, operations, requests_per_transaction, variants, with_endpoints

SEED = Inputs(monthly_transactions=1_000_000, queries_per_transaction=Decimal("5.2"), retention_days=90)


def test_a_payment_is_fourteen_table_write_units_three_index_write_units_and_3_6_read_units():
    units = model_units(SEED)

    # seven 1 KB items written in a transaction (x2; the event of the Events API and the balance counter
    # among them), by-merchant,
    # by-merchant-status and by-entity, 5.2 queries, the merchant's webhook URL and the Query of its
    # webhook endpoints, each half a unit (eventually consistent)
    assert (units.table_write, units.index_write, units.read) == (14, 3, Decimal("3.6"))
    assert units.replicated_write == 7  # each replica replays the seven items as standard writes
    assert units.source == "model"


def test_customers_and_the_api_add_their_own_units_per_payment():
    with_customer = model_units(replace(SEED, customer_share=Decimal(1)))
    through_api = model_units(replace(SEED, api_share=Decimal(1)))
    half = model_units(replace(SEED, api_share=Decimal("0.5")))

    # a customer puts the payment in by-customer too: one more index write
    assert with_customer.index_write == 4
    # the API claims the Idempotency-Key (1 standard write) and completes it in the transaction
    # (1 KB x 2), and reads the key and the merchant's rate limit (2 x 0.5 eventually consistent),
    # which is also the merchant the event's fan-out reads (0.5 less); the request's log entry is
    # put after the response (1.5 KB: 2 units)
    assert through_api.table_write == 14 + 1 + 2 + 2
    assert through_api.read == Decimal("3.6") + 1 - Decimal("0.5")
    assert half.table_write == Decimal("16.5")


def test_the_share_of_refunds_adds_a_refunds_units():
    refunded = model_units(replace(SEED, refund_rate=Decimal(1)))

    assert refunded.table_write == 14 + write_path.REFUND_CREATE.table_write_units


@pytest.mark.parametrize(
    ("gsis", "index_write"),
    [
        (None, 3),  # the app's own: by-merchant and by-merchant-status, and the audit event's by-entity
        (0, 1),  # no index on payments: only by-entity
        (4, 4),  # the app's three payment indexes (by-customer not written) and one more, written once
    ],
)
def test_the_number_of_payment_indexes_decides_the_index_writes(gsis, index_write):
    assert model_units(replace(SEED, gsis=gsis)).index_write == index_write


def test_a_bigger_payment_item_costs_more_write_and_read_units():
    units = model_units(replace(SEED, item_size_bytes=5000))

    # the payment: 5 KB x 2 in the transaction instead of 1 KB x 2; its two indexes project it all
    assert (units.table_write, units.index_write) == (22, 11)
    # a query of one 5,000 byte item reads two 4 KB units, half of that eventually consistent; the
    # merchant read and the endpoints Query half a unit each
    assert units.read == Decimal("5.2") * 1 + Decimal("0.5") + Decimal("0.5")


def test_a_query_sums_the_items_it_reads_before_rounding():
    units = model_units(replace(SEED, items_per_query=26))

    # 26 x 394 B = 3 x 4 KB, halved; the merchant read and the endpoints Query
    assert units.read == Decimal("5.2") * Decimal("1.5") + Decimal("0.5") + Decimal("0.5")


@pytest.mark.parametrize(
    ("change", "requests"),
    [
        ({}, Decimal("8.2")),  # the transaction, the merchant read, the endpoints Query and 5.2 queries
        # the key and rate-limit reads (the merchant's, the fan-out's too), the key's claim, the log entry
        ({"api_share": Decimal(1)}, Decimal("11.2")),
        # a refund: its transaction, the payment and merchant reads and the endpoints Query
        ({"refund_rate": Decimal(1)}, Decimal("12.2")),
    ],
)
def test_requests_per_transaction_count_every_dynamodb_call(change, requests):
    assert requests_per_transaction(replace(SEED, **change)) == requests


def test_variants_split_payments_by_customer_and_api_shares():
    mix = variants(write_path.PAYMENT_CREATE, replace(SEED, customer_share=Decimal("0.25"), api_share=Decimal(1)))

    assert mix == [
        (Decimal("0.75"), write_path.via_api(write_path.PAYMENT_CREATE)),
        (Decimal("0.25"), write_path.via_api(write_path.with_customer(write_path.PAYMENT_CREATE))),
    ]


def test_operations_are_the_create_and_the_refund_with_the_endpoints_merchants_have():
    assert operations(replace(SEED, webhook_endpoints=Decimal("2.5"))) == (
        with_endpoints(write_path.PAYMENT_CREATE, 2),
        with_endpoints(write_path.REFUND_CREATE, 2),
    )


def test_without_endpoints_a_change_writes_its_event_and_nothing_after():
    create, refund = operations(SEED)

    assert (create, refund) == (write_path.PAYMENT_CREATE, write_path.REFUND_CREATE)
    assert write_path.EVENT in create.writes and create.after == ()


def test_each_endpoint_adds_a_delivery_its_attempt_and_its_reads():
    one, three = with_endpoints(write_path.PAYMENT_CREATE, 1), with_endpoints(write_path.PAYMENT_CREATE, 3)

    deliveries = [item for item in three.after if item.table == "webhook_deliveries"]
    assert len(deliveries) == 3 * len([item for item in one.after if item.table == "webhook_deliveries"]) == 9
    assert [item.table for item in three.after].count("events") == 1  # the fan-out is marked done once
    added = [(read.table, read.consistency) for read in three.reads[len(write_path.PAYMENT_CREATE.reads) :]]
    assert added == [("webhook_deliveries", "strong"), ("webhook_endpoints", "strong")] * 3
    assert three.write_units > one.write_units > write_path.PAYMENT_CREATE.write_units


def test_sixteen_endpoints_make_the_event_item_cross_a_write_unit():
    [event] = [item for item in with_endpoints(write_path.PAYMENT_CREATE, 16).writes if item.table == "events"]

    assert write_path.EVENT.units == 1 and event.units == 2


def test_an_average_of_endpoints_mixes_the_whole_numbers_around_it():
    mix = variants(write_path.PAYMENT_CREATE, replace(SEED, webhook_endpoints=Decimal("1.25")))

    assert mix == [
        (Decimal("0.75"), with_endpoints(write_path.PAYMENT_CREATE, 1)),
        (Decimal("0.25"), with_endpoints(write_path.PAYMENT_CREATE, 2)),
    ]
    more = model_units(replace(SEED, webhook_endpoints=Decimal(2)))
    assert model_units(SEED).table_write < model_units(replace(SEED, webhook_endpoints=Decimal("1.25"))).table_write
    assert model_units(replace(SEED, webhook_endpoints=Decimal("1.25"))).table_write < more.table_write


def test_operations_resize_only_the_payment_items():
    create, refund = operations(replace(SEED, item_size_bytes=2048))

    sizes = {(item.table, item.size_bytes) for item in create.writes + refund.writes}
    assert {size for table, size in sizes if table == "payments"} == {2048}
    assert {size for table, size in sizes if table != "payments"} == {
        item.size_bytes
        for item in write_path.PAYMENT_CREATE.writes + write_path.REFUND_CREATE.writes
        if item.table != "payments"
    }
