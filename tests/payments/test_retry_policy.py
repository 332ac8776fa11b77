"""One retry policy for payment transactions: every operation runs `core.retry.transaction_retrying`
once, never nested, so a storm of cancelled transactions sends at most `TRANSACTION_ATTEMPTS`
TransactWriteItems per operation (the nested loops this replaced sent 16 for a capture).

Cancellations are injected at the botocore level (as `tests/reliability/faults.py` does): the
transaction never reaches the engine and comes back as DynamoDB sends a cancellation."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from pynamodb.exceptions import TransactWriteError

from core import dynamodb, retry
from core.errors import StorageUnavailable
from payments import processor, selectors, services
from payments.enums import PaymentStatus
from tests.factories import TEST_ACTOR, card, make_merchant, make_payment

pytestmark = pytest.mark.engine

CONFLICT = "TransactionConflict"
CONDITION = "ConditionalCheckFailed"


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


@contextmanager
def cancelled_transactions(*codes: str, times: int | None = None) -> Iterator[Counter]:
    """Every TransactWriteItems (the first `times` ones) cancelled, the n-th with reason
    `codes[n % len(codes)]` on its last item; counts the TransactWriteItems sent."""
    sent: Counter = Counter()

    def cancel(request: Any, event_name: str, **kwargs: Any) -> AWSResponse | None:
        if not event_name.endswith(".TransactWriteItems"):
            return None
        sent["TransactWriteItems"] += 1
        if times is not None and sent["TransactWriteItems"] > times:
            return None
        code = codes[(sent["TransactWriteItems"] - 1) % len(codes)]
        items = json.loads(request.body or b"{}").get("TransactItems", [])
        reasons: list[dict[str, str]] = [{"Code": "None"} for _ in items] or [{"Code": "None"}]
        reasons[-1] = {"Code": code, "Message": "Injected by the retry policy tests"}
        body = {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{code}]",
            "CancellationReasons": reasons,
        }
        url, request.url = request.url, "http://fault.invalid/"  # never reaches the engine
        headers = {"x-amzn-requestid": "injected-cancellation", "content-type": "application/x-amz-json-1.0"}
        return AWSResponse(url, 400, headers, _Raw(json.dumps(body).encode()))

    events = dynamodb.connection().client.meta.events
    events.register_first("before-send.dynamodb", cancel, unique_id="retry-policy-cancellations")
    try:
        yield sent
    finally:
        events.unregister("before-send.dynamodb", unique_id="retry-policy-cancellations")


def _authorized(merchant_id: str) -> str:
    return make_payment(merchant_id, amount=1000, capture=False).payment_id


def _captured(merchant_id: str) -> str:
    return make_payment(merchant_id, amount=1000).payment_id


OPERATIONS = {
    "capture": (
        _authorized,
        lambda mid, pid: services.payment_capture(merchant_id=mid, payment_id=pid, actor=TEST_ACTOR),
    ),
    "cancel": (
        _authorized,
        lambda mid, pid: services.payment_cancel(merchant_id=mid, payment_id=pid, actor=TEST_ACTOR),
    ),
    "refund": (_captured, lambda mid, pid: services.refund_create(merchant_id=mid, payment_id=pid, actor=TEST_ACTOR)),
}


@pytest.mark.parametrize(
    "storm", [(CONFLICT,), (CONDITION,), (CONFLICT, CONDITION)], ids=["conflict", "condition", "mixed"]
)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_storm_of_cancellations_sends_at_most_the_bounded_number_of_transactions(dynamodb_backend, operation, storm):
    merchant_id = make_merchant().merchant_id
    prepare, run = OPERATIONS[operation]
    payment_id = prepare(merchant_id)
    before = selectors.payment_get(merchant_id=merchant_id, payment_id=payment_id)

    with cancelled_transactions(*storm) as sent, pytest.raises(TransactWriteError):
        run(merchant_id, payment_id)

    assert sent["TransactWriteItems"] == retry.TRANSACTION_ATTEMPTS
    after = selectors.payment_get(merchant_id=merchant_id, payment_id=payment_id)
    assert (after.status, after.version) == (before.status, before.version)


def test_a_capture_reads_again_after_a_stale_read_and_succeeds(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    payment_id = _authorized(merchant_id)

    with cancelled_transactions(CONDITION, CONFLICT, times=retry.TRANSACTION_ATTEMPTS - 1) as sent:
        captured = services.payment_capture(merchant_id=merchant_id, payment_id=payment_id, actor=TEST_ACTOR)

    assert sent["TransactWriteItems"] == retry.TRANSACTION_ATTEMPTS
    assert captured.status == PaymentStatus.SUCCEEDED and captured.version == 2


@pytest.mark.django_db  # the approval the storm kept from being recorded is voided at the sandbox
def test_a_create_whose_condition_fails_is_not_sent_again(dynamodb_backend):
    """A new payment's conditions (the item must not exist, the idempotency lock must be held) do not
    become true by reading again: only conflicts and throttling send a creation again."""
    merchant_id = make_merchant().merchant_id

    with cancelled_transactions(CONDITION) as sent, pytest.raises(TransactWriteError):
        services.payment_create(merchant_id=merchant_id, actor=TEST_ACTOR, amount=100, currency="usd", card=card())
    with cancelled_transactions(CONFLICT) as storm, pytest.raises(StorageUnavailable) as unrecorded:
        services.payment_create(merchant_id=merchant_id, actor=TEST_ACTOR, amount=100, currency="usd", card=card())

    assert isinstance(unrecorded.value.__cause__, TransactWriteError)

    assert sent["TransactWriteItems"] == 1
    assert storm["TransactWriteItems"] == retry.TRANSACTION_ATTEMPTS
    assert selectors.payment_list_for_merchant(merchant_id=merchant_id).items == []


@pytest.mark.django_db
def test_a_resolution_under_a_storm_sends_at_most_the_bounded_number_of_transactions(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    with pytest.raises(processor.ProcessorTimeout) as timeout:
        make_payment(merchant_id, card=card(processor.TIMEOUT_CARD))
    payment_id = timeout.value.extensions["payment_id"]

    with cancelled_transactions(CONFLICT, CONDITION) as sent, pytest.raises(TransactWriteError):
        services.payment_resolve(merchant_id=merchant_id, payment_id=payment_id, actor=TEST_ACTOR)

    assert sent["TransactWriteItems"] == retry.TRANSACTION_ATTEMPTS
    assert selectors.payment_get(merchant_id=merchant_id, payment_id=payment_id).status == PaymentStatus.PROCESSING
