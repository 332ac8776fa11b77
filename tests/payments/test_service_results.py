"""Capture, cancel, refund and resolution return the payment they built, not a second read: exactly
what a read after the commit returns (version, `updated`, amounts, status), one GetItem fewer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from core import dynamodb
from core.wire import to_json
from payments import processor, selectors, services
from payments.enums import PaymentStatus, RefundReason
from payments.models import Payment
from payments.representations import payment_object, refund_object
from tests.factories import TEST_ACTOR, card, make_merchant, make_payment

pytestmark = pytest.mark.engine


@contextmanager
def get_items() -> Iterator[Counter]:
    """GetItem calls made on the shared client, by table (without the test prefix)."""
    seen: Counter = Counter()

    def count(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        if model.name == "GetItem":
            seen[params["TableName"].removeprefix(dynamodb.table_name(""))] += 1

    events = dynamodb.connection().client.meta.events
    events.register("before-parameter-build.dynamodb", count, unique_id="service-results-get-items")
    try:
        yield seen
    finally:
        events.unregister("before-parameter-build.dynamodb", unique_id="service-results-get-items")


def _same_as_a_fresh_read(returned: Payment) -> None:
    fresh = selectors.payment_get(merchant_id=returned.merchant_id, payment_id=returned.payment_id)
    assert returned.serialize() == fresh.serialize()
    assert (returned.version, returned.updated, returned.status) == (fresh.version, fresh.updated, fresh.status)
    assert to_json(payment_object(returned)) == to_json(payment_object(fresh))


def test_capture_returns_the_payment_as_read_after_it_with_one_payment_read(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    payment = make_payment(merchant_id, amount=1000, capture=False)

    with get_items() as reads:
        captured = services.payment_capture(
            merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, amount=600
        )

    assert reads[Payment.Meta.base_name] == 1
    assert (captured.status, captured.amount_captured, captured.version) == (PaymentStatus.SUCCEEDED, 600, 2)
    _same_as_a_fresh_read(captured)


def test_cancel_returns_the_payment_as_read_after_it_with_one_payment_read(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    payment = make_payment(merchant_id, capture=False)

    with get_items() as reads:
        canceled = services.payment_cancel(merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)

    assert reads[Payment.Meta.base_name] == 1
    assert canceled.status == PaymentStatus.CANCELED
    _same_as_a_fresh_read(canceled)


def test_refunds_return_the_payment_as_read_after_them_with_one_payment_read_each(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    payment = make_payment(merchant_id, amount=1000)

    with get_items() as reads:
        first = services.refund_create(
            merchant_id=merchant_id,
            payment_id=payment.payment_id,
            actor=TEST_ACTOR,
            amount=300,
            reason=RefundReason.DUPLICATE,
        )
    rest = services.refund_create(merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)

    assert reads[Payment.Meta.base_name] == 1
    assert (first.payment.status, first.payment.amount_refunded, first.payment.version) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        300,
        2,
    )
    assert (rest.amount, rest.payment.status, rest.payment.amount_refunded) == (700, PaymentStatus.REFUNDED, 1000)
    _same_as_a_fresh_read(rest.payment)
    assert refund_object(rest)["payment"] == payment_object(
        selectors.payment_get(merchant_id=merchant_id, payment_id=payment.payment_id)
    )


def test_a_change_made_at_a_time_outside_utc_returns_what_is_stored(dynamodb_backend):
    """`updated` is stored in UTC: the returned payment carries it as a read does, so the API's
    millisecond `Z` times are the same bytes either way."""
    merchant_id = make_merchant().merchant_id
    payment = make_payment(merchant_id, capture=False)
    later = datetime.now(UTC).astimezone(timezone(timedelta(hours=2))) + timedelta(seconds=1)

    captured = services.payment_capture(
        merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, now=later
    )

    assert captured.updated.utcoffset() == timedelta(0)
    _same_as_a_fresh_read(captured)


@pytest.mark.django_db
def test_resolution_returns_the_payment_as_read_after_it(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    with pytest.raises(processor.ProcessorTimeout) as timeout:
        make_payment(merchant_id, card=card(processor.TIMEOUT_CARD))

    resolved = services.payment_resolve(
        merchant_id=merchant_id, payment_id=timeout.value.extensions["payment_id"], actor=TEST_ACTOR
    )

    assert (resolved.status, resolved.version) == (PaymentStatus.SUCCEEDED, 2)
    _same_as_a_fresh_read(resolved)
