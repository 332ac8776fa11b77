"""The matching rules of reconciliation, without storage: what a line says of a payment, duplicates,
missing payments, and the deterministic ids processing writes under."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from ulid import ULID

from core.ids import new_id
from payments.enums import PaymentStatus
from payments.models import Payment
from reconciliation import csvfile
from reconciliation.enums import Kind, LineStatus, Outcome
from reconciliation.matching import (
    Verdict,
    claim_key,
    discrepancy_id_for,
    duplicate_judge,
    invalid_row_verdict,
    ledger_id_for,
    ledger_reason,
    line_judge,
    missing_in_file_verdict,
    money_text,
    settles,
)

pytestmark = pytest.mark.pure

MERCHANT = "mer_01JDAAAAAAAAAAAAAAAAAAAAAA"
SETTLEMENT = "set_01JDBBBBBBBBBBBBBBBBBBBBBB"
CREATED = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
PAYMENT_ID = new_id("pay", datetime(2026, 11, 20, 12, tzinfo=UTC))


def _line(**changes) -> csvfile.Line:
    """A line that matches `_payment()`: 25.00 USD, fee 1.03, net 23.97, settled."""
    line = csvfile.Line(
        line=7,
        payment_id=PAYMENT_ID,
        amount=2500,
        fee=103,
        net=2397,
        currency="usd",
        status=LineStatus.SETTLED,
        settled_at="2026-11-21",
        settled_on=date(2026, 11, 21),
    )
    return replace(line, **changes)


def _payment(**fields) -> Payment:
    """A captured payment as the batch read projects it (never saved)."""
    values = {
        "payment_id": PAYMENT_ID,
        "merchant_id": MERCHANT,
        "status": PaymentStatus.SUCCEEDED,
        "currency": "usd",
        "amount_captured": 2500,
        "settlement_id": None,
        "created": datetime(2026, 11, 20, 12, tzinfo=UTC),
    }
    return Payment(**(values | fields))


def _judge(line: csvfile.Line, payment: Payment | None) -> Verdict:
    return line_judge(line, payment, merchant_id=MERCHANT, settlement_id=SETTLEMENT)


# --- one line against its payment ------------------------------------------------------------------

JUDGED = [
    ("matched", _line(), _payment(), Verdict(Outcome.MATCHED)),
    (
        "missing",
        _line(),
        None,
        Verdict(Kind.MISSING_IN_PLATFORM, None, PAYMENT_ID, f"No payment {PAYMENT_ID} exists for this merchant."),
    ),
    (
        "foreign_merchant",
        _line(),
        _payment(merchant_id="mer_01JDCCCCCCCCCCCCCCCCCCCCCC"),
        Verdict(Kind.MISSING_IN_PLATFORM, None, PAYMENT_ID, f"No payment {PAYMENT_ID} exists for this merchant."),
    ),
    (
        "currency_mismatch",
        _line(),
        _payment(currency="eur"),
        Verdict(Kind.CURRENCY_MISMATCH, "eur", "usd", f"The file says USD; payment {PAYMENT_ID} is in EUR."),
    ),
    (
        "already_settled_by_another_settlement",
        _line(),
        _payment(settlement_id="set_01JDDDDDDDDDDDDDDDDDDDDDDD"),
        Verdict(
            Kind.STATUS_MISMATCH,
            "unsettled",
            LineStatus.SETTLED,
            f"Payment {PAYMENT_ID} was already settled by set_01JDDDDDDDDDDDDDDDDDDDDDDD.",
        ),
    ),
    ("settled_by_this_settlement_before", _line(), _payment(settlement_id=SETTLEMENT), Verdict(Outcome.MATCHED)),
    (
        "status_mismatch_canceled",
        _line(),
        _payment(status=PaymentStatus.CANCELED, amount_captured=0),
        Verdict(
            Kind.STATUS_MISMATCH,
            PaymentStatus.CANCELED,
            LineStatus.SETTLED,
            f"The file says settled; payment {PAYMENT_ID} is canceled.",
        ),
    ),
    (
        "status_mismatch_not_captured",
        _line(),
        _payment(status=PaymentStatus.REQUIRES_CAPTURE, amount_captured=0),
        Verdict(
            Kind.STATUS_MISMATCH,
            PaymentStatus.REQUIRES_CAPTURE,
            LineStatus.SETTLED,
            f"The file says settled; payment {PAYMENT_ID} is requires capture.",
        ),
    ),
    (
        "status_mismatch_refunded_line_for_a_succeeded_payment",
        _line(status=LineStatus.REFUNDED),
        _payment(),
        Verdict(
            Kind.STATUS_MISMATCH,
            PaymentStatus.SUCCEEDED,
            LineStatus.REFUNDED,
            f"The file says refunded; payment {PAYMENT_ID} is succeeded.",
        ),
    ),
    (
        "status_mismatch_settled_line_for_a_refunded_payment",
        _line(),
        _payment(status=PaymentStatus.REFUNDED),
        Verdict(
            Kind.STATUS_MISMATCH,
            PaymentStatus.REFUNDED,
            LineStatus.SETTLED,
            f"The file says settled; payment {PAYMENT_ID} is refunded.",
        ),
    ),
    (
        "settled_line_partially_refunded",
        _line(),
        _payment(status=PaymentStatus.PARTIALLY_REFUNDED),
        Verdict(Outcome.MATCHED),
    ),
    (
        "refunded_line_refunded",
        _line(status=LineStatus.REFUNDED),
        _payment(status=PaymentStatus.REFUNDED),
        Verdict(Outcome.MATCHED),
    ),
    (
        "refunded_line_partially_refunded",
        _line(status=LineStatus.REFUNDED),
        _payment(status=PaymentStatus.PARTIALLY_REFUNDED),
        Verdict(Outcome.MATCHED),
    ),
    (
        "amount_mismatch",
        _line(),
        _payment(amount_captured=2400),
        Verdict(Kind.AMOUNT_MISMATCH, 2400, 2500, f"The file says 25.00 USD; payment {PAYMENT_ID} captured 24.00 USD."),
    ),
    (
        "fee_mismatch",
        _line(net=2396),
        _payment(),
        Verdict(
            Kind.FEE_MISMATCH,
            2397,
            2396,
            "Amount 25.00 USD minus fee 1.03 USD is 23.97 USD, but net says 23.96 USD.",
        ),
    ),
    (
        "fee_mismatch_in_a_zero_decimal_currency",
        _line(currency="jpy", amount=2500, fee=100, net=2500),
        _payment(currency="jpy"),
        Verdict(Kind.FEE_MISMATCH, 2400, 2500, "Amount 2500 JPY minus fee 100 JPY is 2400 JPY, but net says 2500 JPY."),
    ),
    # the first failing rule wins
    (
        "foreign_merchant_before_currency",
        _line(),
        _payment(merchant_id="mer_01JDCCCCCCCCCCCCCCCCCCCCCC", currency="eur"),
        Verdict(Kind.MISSING_IN_PLATFORM, None, PAYMENT_ID, f"No payment {PAYMENT_ID} exists for this merchant."),
    ),
    (
        "currency_before_status_and_amount",
        _line(amount=9900),
        _payment(currency="eur", status=PaymentStatus.CANCELED),
        Verdict(Kind.CURRENCY_MISMATCH, "eur", "usd", f"The file says USD; payment {PAYMENT_ID} is in EUR."),
    ),
    (
        "another_settlement_before_status",
        _line(),
        _payment(status=PaymentStatus.REFUNDED, settlement_id="set_01JDDDDDDDDDDDDDDDDDDDDDDD"),
        Verdict(
            Kind.STATUS_MISMATCH,
            "unsettled",
            LineStatus.SETTLED,
            f"Payment {PAYMENT_ID} was already settled by set_01JDDDDDDDDDDDDDDDDDDDDDDD.",
        ),
    ),
    (
        "amount_before_fee",
        _line(net=1),
        _payment(amount_captured=2400),
        Verdict(Kind.AMOUNT_MISMATCH, 2400, 2500, f"The file says 25.00 USD; payment {PAYMENT_ID} captured 24.00 USD."),
    ),
]


@pytest.mark.parametrize(("line", "payment", "expected"), [j[1:] for j in JUDGED], ids=[j[0] for j in JUDGED])
def test_a_line_is_judged_against_its_payment(line, payment, expected):
    verdict = _judge(line, payment)

    assert verdict == expected


@pytest.mark.parametrize(
    ("payment", "settled"),
    [
        (_payment(), True),
        (_payment(status=PaymentStatus.PARTIALLY_REFUNDED), True),
        (_payment(settlement_id=SETTLEMENT), False),  # a chunk done again: already settled by this file
        (_payment(amount_captured=100), False),
        (None, False),
    ],
    ids=["matched", "matched_partially_refunded", "settled_by_this_settlement", "mismatch", "missing"],
)
def test_only_a_matched_unsettled_payment_is_settled(payment, settled):
    line = _line()

    assert settles(_judge(line, payment), payment, settlement_id=SETTLEMENT) is settled


# --- duplicates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("named_in_chunk", "claimed_on", "named_only", "earlier"),
    [
        (None, None, False, None),  # the first line naming the payment
        (3, None, False, 3),  # an earlier line of this chunk
        (None, 2, False, 2),  # an earlier chunk claimed it
        (5, 2, False, 5),  # both: the line of this chunk is reported
        (None, 7, False, None),  # its own claim: the chunk is done again after a crash
        (None, 9, False, None),  # a claim of a later line is no earlier line
        (None, 2, True, None),  # an invalid row named it first: this is still the first line
    ],
    ids=["first", "earlier_in_chunk", "earlier_chunk", "chunk_before_claim", "own_claim", "later_claim", "named_only"],
)
def test_a_payment_named_again_is_a_duplicate_line(named_in_chunk, claimed_on, named_only, earlier):
    line = _line(line=7)

    verdict = duplicate_judge(line, named_in_chunk=named_in_chunk, claimed_on=claimed_on, claim_named_only=named_only)

    if earlier is None:
        assert verdict is None
    else:
        assert verdict == Verdict(
            Kind.DUPLICATE_LINE, earlier, 7, f"Payment {PAYMENT_ID} was already named on line {earlier}."
        )


# --- invalid rows and payments the file left out ---------------------------------------------------------


def test_an_invalid_row_keeps_its_cells_and_reason():
    cells = {"payment_id": PAYMENT_ID, "amount": "", "currency": "usd"}

    verdict = invalid_row_verdict(csvfile.Row(line=4, cells=cells), "amount is empty")

    assert verdict == Verdict(Kind.INVALID_ROW, None, cells, "Line 4: amount is empty.")


@pytest.mark.parametrize(
    ("payment", "detail"),
    [
        (_payment(), "(25.00 USD, succeeded, 2026-11-20)"),
        (
            _payment(status=PaymentStatus.PARTIALLY_REFUNDED, amount_captured=9000),
            "(90.00 USD, partially refunded, 2026-11-20)",
        ),
        (_payment(currency="jpy", amount_captured=2500), "(2500 JPY, succeeded, 2026-11-20)"),
    ],
    ids=["usd", "partially_refunded", "jpy"],
)
def test_a_captured_payment_no_line_names_is_missing_in_file(payment, detail):
    verdict = missing_in_file_verdict(payment)

    assert (verdict.outcome, verdict.expected, verdict.actual) == (
        Kind.MISSING_IN_FILE,
        int(payment.amount_captured),
        None,
    )
    assert verdict.detail == f"Payment {PAYMENT_ID} {detail} was captured in the period but no line names it."


# --- money in details ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [(2500, "usd", "25.00 USD"), (7, "eur", "0.07 EUR"), (2500, "jpy", "2500 JPY"), (1500, "kwd", "1.500 KWD")],
)
def test_money_in_details_is_major_units_and_the_currency(amount, currency, text):
    assert money_text(amount, currency) == text


@pytest.mark.parametrize(
    ("line", "reason"),
    [(_line(), "fee 1.03, net 23.97"), (_line(currency="jpy", amount=2500, fee=75, net=2425), "fee 75, net 2425")],
    ids=["usd", "jpy"],
)
def test_the_ledger_entry_gives_the_fee_and_net_of_the_line(line, reason):
    assert ledger_reason(line) == reason


# --- deterministic ids ---------------------------------------------------------------------------------


def test_a_claim_key_names_the_settlement_and_the_payment():
    assert claim_key(settlement_id=SETTLEMENT, payment_id=PAYMENT_ID) == f"claim#{SETTLEMENT}#{PAYMENT_ID}"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"line": 2}, {"line": 3}),
        ({"line": 99}, {"line": 100}),
        ({"line": 1_000_001}, {"payment_id": PAYMENT_ID}),  # missing_in_file after every line
        (
            {"payment_id": new_id("pay", datetime(2026, 11, 19, tzinfo=UTC))},
            {"payment_id": new_id("pay", datetime(2026, 11, 20, tzinfo=UTC))},
        ),  # missing_in_file by payment time
        ({"line": 5}, {"payment_id": "pay_not-a-ulid"}),
    ],
    ids=["lines", "lines_across_digits", "line_before_missing", "missing_by_payment_time", "missing_odd_id"],
)
def test_discrepancy_ids_sort_in_line_order_then_missing_payments(first, second):
    one = discrepancy_id_for(settlement_created=CREATED, **first)
    two = discrepancy_id_for(settlement_created=CREATED, **second)

    assert one < two
    assert one == discrepancy_id_for(settlement_created=CREATED, **first)  # a chunk done again writes the same id
    assert one.startswith("dis_") and len(one) == 30


def test_discrepancy_ids_carry_the_settlements_time():
    later = CREATED + timedelta(days=1)

    ids = [discrepancy_id_for(settlement_created=at, line=2) for at in (CREATED, later)]

    assert [ULID.from_str(i.removeprefix("dis_")).datetime for i in ids] == [CREATED, later]


def test_the_ledger_id_is_one_per_settlement_and_payment():
    other_payment = new_id("pay", CREATED)

    same = ledger_id_for(settlement_id=SETTLEMENT, settlement_created=CREATED, payment_id=PAYMENT_ID)
    again = ledger_id_for(settlement_id=SETTLEMENT, settlement_created=CREATED, payment_id=PAYMENT_ID)
    for_another_payment = ledger_id_for(settlement_id=SETTLEMENT, settlement_created=CREATED, payment_id=other_payment)
    for_another_settlement = ledger_id_for(
        settlement_id="set_01JDDDDDDDDDDDDDDDDDDDDDDD", settlement_created=CREATED, payment_id=PAYMENT_ID
    )

    assert same == again and same.startswith("txn_")
    assert len({same, for_another_payment, for_another_settlement}) == 3
    assert ULID.from_str(same.removeprefix("txn_")).datetime == CREATED


# --- the closed sets ---------------------------------------------------------------------------------------


def test_outcomes_are_matched_then_every_kind_in_order():
    assert [outcome.value for outcome in Outcome] == ["matched", *Kind]
    assert Outcome.FEE_MISMATCH == Kind.FEE_MISMATCH == "fee_mismatch"


@pytest.mark.parametrize(
    ("kind", "label"),
    [(Kind.MISSING_IN_PLATFORM, "Unknown payment"), (Kind.FEE_MISMATCH, "Fee does not add up")],
)
def test_a_kind_has_a_label_for_the_pages(kind, label):
    assert kind.label == label
    assert len({k.label for k in Kind}) == len(Kind)  # every kind has its own words
