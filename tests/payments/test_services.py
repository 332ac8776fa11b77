from datetime import UTC, datetime, timedelta

import pytest

from core.errors import ValidationFailed
from customers.errors import CustomerNotFound
from customers.selectors import customer_get, customer_list_for_merchant
from customers.services import customer_create, customer_field
from payments import selectors, services
from payments.enums import PaymentStatus, TransactionKind
from payments.errors import CardDeclined, InvalidPaymentState, PaymentNotFound
from payments.models import DailySummary, Payment, Transaction
from tests.factories import TEST_ACTOR, card, make_merchant, make_payment

pytestmark = pytest.mark.engine


def _summary_totals(merchant_id: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in DailySummary.query(merchant_id, consistent_read=True):
        for name, value in item.attribute_values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + int(value)
    return totals


def test_payment_create_captures_and_writes_ledger_summary_and_audit(dynamodb_backend):
    merchant = make_merchant()

    payment = make_payment(merchant.merchant_id, amount=2500)

    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert (stored.status, stored.amount_captured, stored.version) == (PaymentStatus.SUCCEEDED, 2500, 1)
    assert stored.card.last4 == "4242" and stored.card.brand == "visa"
    ledger = selectors.transaction_list_for_payment(payment_id=payment.payment_id)
    assert [t.kind for t in ledger] == [TransactionKind.AUTHORIZATION, TransactionKind.CAPTURE]
    totals = _summary_totals(merchant.merchant_id)
    assert totals["count_succeeded"] == 1 and totals["amount_succeeded"] == 2500 and totals["captured"] == 2500


def test_stored_payment_keeps_no_card_number_or_cvc(dynamodb_backend):
    merchant = make_merchant()
    payment = make_payment(merchant.merchant_id, card=card(number="4242424242424242", cvc="987"))

    raw = str(Payment.get(payment.payment_id).serialize())

    assert "4242424242424242" not in raw
    assert "987" not in raw.replace(payment.payment_id, "")


def test_declined_payment_is_stored_failed_and_named(dynamodb_backend):
    merchant = make_merchant()

    with pytest.raises(CardDeclined) as declined:
        make_payment(merchant.merchant_id, card=card(number="4000000000009995"))

    payment = selectors.payment_get(
        merchant_id=merchant.merchant_id, payment_id=declined.value.extensions["payment_id"]
    )
    assert payment.status == PaymentStatus.FAILED and payment.failure_code == "insufficient_funds"
    assert declined.value.code == "insufficient_funds"


def test_luhn_invalid_and_expired_cards_are_rejected_before_anything_is_written(dynamodb_backend):
    merchant = make_merchant()

    with pytest.raises(ValidationFailed) as invalid:
        make_payment(merchant.merchant_id, card=card(number="4242424242424241"))
    with pytest.raises(ValidationFailed) as expired:
        make_payment(merchant.merchant_id, card=card(exp_year=2020))

    assert invalid.value.code == "invalid_card_number" and expired.value.code == "expired_card"
    assert selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id).items == []


def test_capture_then_partial_and_full_refunds(dynamodb_backend):
    merchant = make_merchant()
    payment = make_payment(merchant.merchant_id, amount=1000, capture=False)
    assert payment.status == PaymentStatus.REQUIRES_CAPTURE

    captured = services.payment_capture(
        merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR
    )
    first = services.refund_create(
        merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, amount=300
    )
    rest = services.refund_create(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)

    assert captured.status == PaymentStatus.SUCCEEDED
    assert (first.payment.status, first.payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 300)
    assert (rest.amount, rest.payment.status, rest.payment.amount_refunded) == (700, PaymentStatus.REFUNDED, 1000)
    kinds = [t.kind for t in selectors.transaction_list_for_payment(payment_id=payment.payment_id)]
    assert kinds == [
        TransactionKind.AUTHORIZATION,
        TransactionKind.CAPTURE,
        TransactionKind.REFUND,
        TransactionKind.REFUND,
    ]
    totals = _summary_totals(merchant.merchant_id)
    assert totals["count_refunded"] == 1 and totals.get("count_succeeded", 0) == 0
    assert totals["refunded"] == 1000 and totals["refund_count"] == 2


def test_refund_can_never_exceed_the_captured_amount(dynamodb_backend):
    merchant = make_merchant()
    payment = make_payment(merchant.merchant_id, amount=500)
    services.refund_create(
        merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, amount=400
    )

    with pytest.raises(ValidationFailed) as error:
        services.refund_create(
            merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, amount=101
        )

    assert error.value.code == "refund_exceeds_captured"
    assert selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).amount_refunded == 400


def test_cancel_only_from_requires_capture(dynamodb_backend):
    merchant = make_merchant()
    authorized = make_payment(merchant.merchant_id, capture=False)
    captured = make_payment(merchant.merchant_id)

    canceled = services.payment_cancel(
        merchant_id=merchant.merchant_id, payment_id=authorized.payment_id, actor=TEST_ACTOR
    )
    with pytest.raises(InvalidPaymentState):
        services.payment_cancel(merchant_id=merchant.merchant_id, payment_id=captured.payment_id, actor=TEST_ACTOR)

    assert canceled.status == PaymentStatus.CANCELED


def test_another_merchants_payment_is_not_found(dynamodb_backend):
    ours, theirs = make_merchant(), make_merchant()
    payment = make_payment(theirs.merchant_id)

    with pytest.raises(PaymentNotFound):
        selectors.payment_get(merchant_id=ours.merchant_id, payment_id=payment.payment_id)
    with pytest.raises(PaymentNotFound):
        services.refund_create(merchant_id=ours.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)


def test_paging_returns_every_payment_once_newest_first(dynamodb_backend):
    merchant = make_merchant()
    start = datetime.now(UTC) - timedelta(hours=1)
    made = [
        make_payment(merchant.merchant_id, amount=100 + n, now=start + timedelta(seconds=n)).payment_id
        for n in range(7)
    ]

    seen, cursor = [], None
    while True:
        page = selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id, limit=3, starting_after=cursor)
        seen += [p.payment_id for p in page.items]
        if not page.has_more:
            break
        cursor = page.next_cursor

    assert seen == list(reversed(made))


def test_status_and_date_filters_use_key_conditions(dynamodb_backend):
    merchant = make_merchant()
    base = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    early = make_payment(merchant.merchant_id, now=base)
    middle = make_payment(merchant.merchant_id, now=base + timedelta(hours=1), capture=False)
    late = make_payment(merchant.merchant_id, now=base + timedelta(hours=2))

    in_range = selectors.payment_list_for_merchant(
        merchant_id=merchant.merchant_id, created_gte=base + timedelta(minutes=30), created_lt=base + timedelta(hours=2)
    )
    succeeded = selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id, status=PaymentStatus.SUCCEEDED)
    exact_edge = selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id, created_lt=late.created)

    assert [p.payment_id for p in in_range.items] == [middle.payment_id]
    assert [p.payment_id for p in succeeded.items] == [late.payment_id, early.payment_id]
    assert late.payment_id not in [p.payment_id for p in exact_edge.items]


def test_summary_comes_from_counters_per_currency_and_day(dynamodb_backend):
    merchant = make_merchant()
    day = datetime(2026, 11, 20, 10, tzinfo=UTC)
    make_payment(merchant.merchant_id, amount=1000, now=day)
    refunded = make_payment(merchant.merchant_id, amount=500, now=day + timedelta(days=1))
    make_payment(merchant.merchant_id, amount=700, currency="eur", now=day + timedelta(days=1))
    with pytest.raises(CardDeclined):
        make_payment(merchant.merchant_id, amount=300, card=card(number="4000000000000002"), now=day)
    services.refund_create(
        merchant_id=merchant.merchant_id,
        payment_id=refunded.payment_id,
        actor=TEST_ACTOR,
        amount=200,
        now=day + timedelta(days=2),
    )

    summary = selectors.payment_summary(
        merchant_id=merchant.merchant_id, start=day.date(), end=(day + timedelta(days=2)).date()
    )

    usd = summary.currencies["usd"]
    assert (usd.count, usd.captured, usd.refunded, usd.net) == (3, 1500, 200, 1300)
    assert usd.count_by_status[PaymentStatus.FAILED] == 1 and usd.count_by_status[PaymentStatus.PARTIALLY_REFUNDED] == 1
    assert usd.success_rate == pytest.approx(2 / 3)
    assert summary.currencies["eur"].captured == 700
    assert summary.days[day.date()]["usd"].captured == 1000
    assert summary.days[(day + timedelta(days=2)).date()]["usd"].refunded == 200
    assert list(summary.days) == [(day + timedelta(days=n)).date() for n in range(3)]


def test_customers_are_encrypted_and_found_by_exact_email(dynamodb_backend):
    from customers.models import Customer

    merchant, other = make_merchant(), make_merchant()
    customer = customer_create(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        email="Ada@Example.com",
        name="Ada Lovelace",
        phone="+15550100",
    )
    customer_create(merchant_id=other.merchant_id, actor=TEST_ACTOR, email="ada@example.com", name="Other Ada")

    raw = str(Customer.get(customer.customer_id).serialize())
    found = customer_list_for_merchant(merchant_id=merchant.merchant_id, email=" ada@example.COM ")

    assert "Ada" not in raw and "example.com" not in raw and "5550100" not in raw
    assert [c.customer_id for c in found.items] == [customer.customer_id]
    assert customer_field(found.items[0], "name") == "Ada Lovelace"
    with pytest.raises(CustomerNotFound):
        customer_get(merchant_id=other.merchant_id, customer_id=customer.customer_id)


def test_a_created_payments_ledger_lists_its_authorization_before_its_capture_whatever_ids_come_next(
    monkeypatch, dynamodb_backend
):
    # Other threads making ids of a later moment in between can make two ids of one moment come out
    # in descending order; here every txn id does.
    from core import ids
    from payments.services import changes

    real, made = ids.new_id, []

    def descending(prefix, at=None):
        if prefix != "txn":
            return real(prefix, at)
        made.append(real(prefix, at))
        return f"{made[-1][:14]}{'Z' * 13}{900 - len(made):03d}"

    monkeypatch.setattr(ids, "new_id", descending)
    monkeypatch.setattr(changes, "new_id", descending)
    merchant = make_merchant()

    payment = make_payment(merchant.merchant_id, amount=1234)

    ledger = selectors.transaction_list_for_payment(payment_id=payment.payment_id)
    assert [t.kind for t in ledger] == [TransactionKind.AUTHORIZATION, TransactionKind.CAPTURE]
    assert len(made) == 2


def test_a_ledger_lists_entries_of_one_moment_in_the_order_of_a_payments_life(dynamodb_backend):
    # An imported payment's entries share its `created`; their ids' random parts are hashes.
    merchant = make_merchant()
    payment = make_payment(merchant.merchant_id, amount=1000)
    at = datetime(2026, 1, 5, 12, tzinfo=UTC)
    kinds = [TransactionKind.REFUND, TransactionKind.CAPTURE, TransactionKind.AUTHORIZATION]
    for n, kind in enumerate(kinds):  # ids ascending in this (wrong) order
        Transaction(
            payment_id=payment.payment_id,
            txn_id=f"txn_01KE6X4000000000000000000{n}",
            merchant_id=merchant.merchant_id,
            kind=kind,
            amount=100,
            currency="usd",
            created=at,
        ).save()

    ledger = selectors.transaction_list_for_payment(payment_id=payment.payment_id)

    assert [(t.created == at, t.kind) for t in ledger][:3] == [
        (True, TransactionKind.AUTHORIZATION),
        (True, TransactionKind.CAPTURE),
        (True, TransactionKind.REFUND),
    ]
    assert [t.kind for t in ledger][3:] == [TransactionKind.AUTHORIZATION, TransactionKind.CAPTURE]  # the create's own
