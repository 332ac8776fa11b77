"""The declared write path (`costs.write_path`) is what the payment services really write, and on
DynamoDB Local the capacity measured for a payment create is what the model predicts."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from core import dynamodb
from core.ids import now
from costs import capacity, write_path
from costs.observed import observed_writes
from costs.sizes import item_size
from costs.units import with_endpoints
from costs.write_path import signature_of
from customers.services import customer_create
from idempotency.models import IdempotencyRecord
from merchants.services.merchants import merchant_webhook_url_set
from payments import services
from tests.costs.capture import dynamodb_calls, stored_items
from tests.factories import TEST_ACTOR, make_api_key, make_merchant, make_payment
from webhooks.endpoints import webhook_endpoint_create, webhook_endpoint_update
from webhooks.selectors import webhook_endpoint_list

# DynamoDB Local does not report capacity the way AWS bills it, in two ways:
# 1. Index writes inside a transaction are reported at twice their units; AWS bills GSI writes as
#    standard writes (1x), only the base-table writes of a transaction count twice.
DYNAMODB_LOCAL_TRANSACTION_INDEX_FACTOR = 2
# 2. Per table, it adds up the *distinct* unit counts of the items a transaction writes, so two
#    1 KB ledger entries in one transaction are reported as one.


def dynamodb_local_reported(operation: write_path.Operation) -> tuple[int, int]:
    """(table units, index units) DynamoDB Local reports for one TransactWriteItems of `operation`."""
    by_table: dict[str, set[int]] = {}
    for item in operation.writes:
        by_table.setdefault(item.table, set()).add(item.units * 2)
    table_units = sum(sum(units) for units in by_table.values())
    index_units = sum(index.units for item in operation.writes for index in item.indexes)
    return table_units, DYNAMODB_LOCAL_TRANSACTION_INDEX_FACTOR * index_units


def _observed(calls) -> list:
    transaction = calls.transaction()
    return observed_writes(
        transaction.params["TransactItems"], prefix=dynamodb.table_name(""), stored=stored_items(transaction)
    )


def _reads(calls) -> list[tuple[str, str]]:
    prefix = dynamodb.table_name("")
    return sorted(
        (call.params["TableName"][len(prefix) :], "strong" if call.params.get("ConsistentRead") else "eventual")
        for call in calls.of("GetItem") + calls.of("Query")
    )


def _declared_reads(operation: write_path.Operation) -> list[tuple[str, str]]:
    return sorted((read.table, read.consistency) for read in operation.reads)


def _after(calls) -> list[write_path.ItemWrite]:
    """The writes outside the transaction: puts, and updates sized as the item reads now."""
    prefix = dynamodb.table_name("")
    client = dynamodb.connection().client
    after = [
        write_path.ItemWrite(
            call.params["TableName"][len(prefix) :],
            "put",
            item_size(call.params["Item"]),
            frozenset(call.params["Item"]),
        )
        for call in calls.of("PutItem")
    ]
    for call in calls.of("UpdateItem"):
        stored = client.get_item(TableName=call.params["TableName"], Key=call.params["Key"])["Item"]
        names = frozenset(call.params.get("ExpressionAttributeNames", {}).values())
        after.append(
            write_path.ItemWrite(
                call.params["TableName"][len(prefix) :], "update", item_size(stored), names, frozenset(stored)
            )
        )
    return after


def _reported(consumed: list[dict]) -> tuple[float, float]:
    table = sum(entry["Table"]["CapacityUnits"] for entry in consumed)
    index = sum(i["CapacityUnits"] for entry in consumed for i in (entry.get("GlobalSecondaryIndexes") or {}).values())
    return table, index


# --- the declaration matches the services ----------------------------------------------------


@pytest.mark.engine
def test_payment_create_writes_what_the_write_path_declares(dynamodb_backend):
    merchant = make_merchant()

    with dynamodb_calls() as calls:
        make_payment(merchant.merchant_id)

    assert signature_of(_observed(calls)) == write_path.PAYMENT_CREATE.signature()
    assert _reads(calls) == _declared_reads(write_path.PAYMENT_CREATE)


@pytest.mark.engine
def test_an_authorization_writes_what_the_write_path_declares(dynamodb_backend):
    merchant = make_merchant()

    with dynamodb_calls() as calls:
        make_payment(merchant.merchant_id, capture=False)

    assert signature_of(_observed(calls)) == write_path.PAYMENT_AUTHORIZE.signature()
    assert _reads(calls) == _declared_reads(write_path.PAYMENT_AUTHORIZE)


@pytest.mark.engine
def test_capture_and_refund_write_what_the_write_path_declares(dynamodb_backend):
    merchant = make_merchant()
    authorized = make_payment(merchant.merchant_id, capture=False)
    captured = make_payment(merchant.merchant_id)

    with dynamodb_calls() as capture_calls:
        services.payment_capture(merchant_id=merchant.merchant_id, payment_id=authorized.payment_id, actor=TEST_ACTOR)
    with dynamodb_calls() as refund_calls:
        services.refund_create(merchant_id=merchant.merchant_id, payment_id=captured.payment_id, actor=TEST_ACTOR)

    assert signature_of(_observed(capture_calls)) == write_path.PAYMENT_CAPTURE.signature()
    assert _reads(capture_calls) == _declared_reads(write_path.PAYMENT_CAPTURE)
    assert signature_of(_observed(refund_calls)) == write_path.REFUND_CREATE.signature()
    assert _reads(refund_calls) == _declared_reads(write_path.REFUND_CREATE)


def test_a_status_change_moves_the_status_index_key_a_delete_and_a_put():
    (payment_update,) = [item for item in write_path.PAYMENT_CAPTURE.writes if item.table == "payments"]

    writes = {index.index: index.writes for index in payment_update.indexes}

    assert writes == {"by-merchant": 1, "by-merchant-status": 2}  # by-customer: no customer, not in the index


def test_a_payment_with_a_customer_is_also_written_to_the_customer_index():
    (payment_put,) = [item for item in write_path.PAYMENT_CREATE.writes if item.table == "payments"]
    with_customer = write_path.ItemWrite(
        "payments", "put", payment_put.size_bytes, payment_put.attributes | {"customer_id"}
    )

    assert sorted(index.index for index in payment_put.indexes) == ["by-merchant", "by-merchant-status"]
    assert sorted(index.index for index in with_customer.indexes) == [
        "by-customer",
        "by-merchant",
        "by-merchant-status",
    ]


class _Endpoint:
    """A merchant webhook endpoint on 127.0.0.1 that answers 200."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    running = _Endpoint()
    yield running
    running.close()


@pytest.mark.engine
def test_with_a_webhook_url_a_change_adds_the_event_and_its_delivery(endpoint, dynamodb_backend):
    merchant = make_merchant()
    with override_settings(DEBUG=True):
        merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=endpoint.url)
    declared = write_path.with_webhook(write_path.PAYMENT_CREATE)

    with dynamodb_calls() as calls:
        make_payment(merchant.merchant_id)

    assert signature_of(_observed(calls)) == declared.signature()
    assert signature_of(_after(calls)) == signature_of(declared.after)
    assert _reads(calls) == _declared_reads(declared)


# --- measured on DynamoDB Local --------------------------------------------------------------


@pytest.mark.engine_only
def test_measured_units_of_a_payment_create_on_dynamodb_local_equal_the_model(dynamodb_backend):
    merchant = make_merchant()
    capacity.RECORDER.drain()

    with dynamodb_calls() as calls:
        make_payment(merchant.merchant_id)

    create = write_path.PAYMENT_CREATE
    # As AWS bills it: seven items written transactionally (2 x 1 KB each; the seventh is the balance
    # counter) and three GSI entries.
    assert (create.table_write_units, create.index_write_units) == (14, 3)
    # As DynamoDB Local reports it, with its two differences applied by name, not by tolerance.
    assert dynamodb_local_reported(create) == (12, 6)
    assert _reported(calls.transaction().consumed) == dynamodb_local_reported(create)
    # The app's own metering recorded the same numbers under "payment.create".
    recorded = capacity.RECORDER.drain()
    creates = {key: usage for key, usage in recorded.items() if key[1] == "payment.create"}
    table = sum(u.write_units for (_, _, _, t, index), u in creates.items() if t and not index)
    index = sum(u.write_units for (_, _, _, t, i), u in creates.items() if i)
    assert (table, index) == dynamodb_local_reported(create)
    assert sum(u.calls for (_, _, _, t, _), u in creates.items() if t == capacity.CALLS) == 1


@pytest.mark.engine_only
def test_a_write_path_with_one_more_item_no_longer_matches_the_model(dynamodb_backend):
    merchant = make_merchant()
    record = IdempotencyRecord(
        idempotency_key=f"{merchant.merchant_id}#POST /v1/payments#k1",
        merchant_id=merchant.merchant_id,
        fingerprint="f" * 64,
        status="completed",
        created=now(),
        expires_at=now() + timedelta(days=1),
    )

    with dynamodb_calls() as calls:
        make_payment(merchant.merchant_id, also_in_transaction=lambda transaction, *_: transaction.save(record))

    create = write_path.PAYMENT_CREATE
    observed = _observed(calls)
    assert len(observed) == len(create.writes) + 1
    assert signature_of(observed) != create.signature()
    assert _reported(calls.transaction().consumed) != dynamodb_local_reported(create)


@pytest.mark.engine
def test_a_payment_with_a_customer_writes_what_the_customer_variant_declares(dynamodb_backend):
    merchant = make_merchant()
    customer = customer_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="ada@example.com")

    with dynamodb_calls() as calls:
        make_payment(merchant.merchant_id, customer_id=customer.customer_id)

    assert signature_of(_observed(calls)) == write_path.with_customer(write_path.PAYMENT_CREATE).signature()


@pytest.mark.engine
def test_a_payment_through_the_api_adds_the_key_lookup_and_the_idempotency_record(client, db, dynamodb_backend):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)
    body = {
        "amount": 1999,
        "currency": "usd",
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
    }
    declared = write_path.via_api(write_path.PAYMENT_CREATE)

    with dynamodb_calls() as calls:
        response = client.post(
            "/api/v1/payments",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_IDEMPOTENCY_KEY="costs-1",
        )

    assert response.status_code == 201
    assert signature_of(_observed(calls)) == declared.signature()
    prefix = dynamodb.table_name("")
    outside = [
        write_path.ItemWrite(
            call.params["TableName"][len(prefix) :],
            "put",
            item_size(call.params["Item"]),
            frozenset(call.params["Item"]),
        )
        for call in calls.of("PutItem")
    ]
    assert signature_of(outside) == signature_of(declared.after)
    assert not calls.of("UpdateItem") and not calls.of("DeleteItem")
    assert _reads(calls) == _declared_reads(declared)


@pytest.mark.engine
@pytest.mark.parametrize("count", [1, 2])
def test_with_enabled_endpoints_each_gets_a_delivery_and_its_first_attempt(endpoint, count, dynamodb_backend):
    merchant = make_merchant()
    for _ in range(count):
        webhook_endpoint_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=endpoint.url, events=["*"])
    webhook_endpoint_create(  # a disabled endpoint gets nothing and costs nothing
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=endpoint.url, events=["*"], description="off"
    )
    [off] = [e for e in webhook_endpoint_list(merchant_id=merchant.merchant_id) if e.description == "off"]
    webhook_endpoint_update(
        merchant_id=merchant.merchant_id, endpoint_id=off.endpoint_id, actor=TEST_ACTOR, disabled=True
    )
    declared = with_endpoints(write_path.PAYMENT_CREATE, count)

    with dynamodb_calls() as calls:
        make_payment(merchant.merchant_id)

    assert signature_of(_observed(calls)) == declared.signature()
    assert signature_of(_after(calls)) == signature_of(declared.after)
    assert _reads(calls) == _declared_reads(declared)
