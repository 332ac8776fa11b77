"""Property: whatever sequence of creates, captures, cancels and refunds happens (valid or not), the
pre-aggregated summary equals the totals recomputed from the payments, and no payment's refunded
amount exceeds its captured amount."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from payments import selectors, services
from payments.enums import PaymentStatus
from tests.factories import TEST_ACTOR, card, make_merchant

CARDS = ["4242424242424242", "4242424242424242", "4000000000000002", "4000000000009995"]

create = st.tuples(
    st.just("create"),
    st.integers(min_value=1, max_value=5000),
    st.booleans(),
    st.sampled_from(CARDS),
    st.sampled_from(["usd", "eur"]),
)
capture = st.tuples(st.just("capture"), st.integers(min_value=0, max_value=20), st.none() | st.integers(1, 6000))
cancel = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20))
refund = st.tuples(st.just("refund"), st.integers(min_value=0, max_value=20), st.none() | st.integers(1, 6000))
operations = st.lists(st.one_of(create, capture, cancel, refund), min_size=1, max_size=14)


def _apply(merchant_id: str, payment_ids: list[str], operation: tuple) -> None:
    kind = operation[0]
    try:
        if kind == "create":
            _, amount, capture_now, number, currency = operation
            payment = services.payment_create(
                merchant_id=merchant_id,
                actor=TEST_ACTOR,
                amount=amount,
                currency=currency,
                card=card(number=number),
                capture=capture_now,
            )
            payment_ids.append(payment.payment_id)
            return
        if not payment_ids:
            return
        payment_id = payment_ids[operation[1] % len(payment_ids)]
        if kind == "capture":
            services.payment_capture(
                merchant_id=merchant_id, payment_id=payment_id, actor=TEST_ACTOR, amount=operation[2]
            )
        elif kind == "cancel":
            services.payment_cancel(merchant_id=merchant_id, payment_id=payment_id, actor=TEST_ACTOR)
        else:
            services.refund_create(
                merchant_id=merchant_id, payment_id=payment_id, actor=TEST_ACTOR, amount=operation[2]
            )
    except DomainError as error:  # declines, invalid states, refunds past the captured amount
        if kind == "create" and "payment_id" in error.extensions:
            payment_ids.append(error.extensions["payment_id"])


def _check(merchant_id: str, payment_ids: list[str]) -> None:
    today = datetime.now(UTC).date()
    summary = selectors.payment_summary(
        merchant_id=merchant_id, start=today - timedelta(days=1), end=today + timedelta(days=1)
    )
    payments = [selectors.payment_get(merchant_id=merchant_id, payment_id=pid) for pid in payment_ids]
    for currency in {p.currency for p in payments} | set(summary.currencies):
        mine = [p for p in payments if p.currency == currency]
        totals = summary.currencies[currency]
        for status in PaymentStatus:
            of_status = [p for p in mine if p.status == status]
            assert totals.count_by_status[status] == len(of_status), (currency, status)
            assert totals.amount_by_status[status] == sum(int(p.amount) for p in of_status), (currency, status)
        assert totals.captured == sum(int(p.amount_captured) for p in mine)
        assert totals.refunded == sum(int(p.amount_refunded) for p in mine)
        assert totals.net == totals.captured - totals.refunded
    for payment in payments:
        assert 0 <= payment.amount_refunded <= payment.amount_captured <= payment.amount


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(operations)
def test_summary_counters_always_equal_the_payments(dynamodb_backend, sequence):
    merchant_id = make_merchant().merchant_id  # a fresh merchant per example: its own counters
    payment_ids: list[str] = []
    for operation in sequence:
        _apply(merchant_id, payment_ids, operation)
        _check(merchant_id, payment_ids)
