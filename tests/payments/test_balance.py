"""The balance: counters moved in the transactions of captures, refunds, disputes, settlements and
imports; the rebuild from the ledger; and the money invariants over random sequences (hypothesis)."""

from __future__ import annotations

import contextlib
import io

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.errors import DomainError
from disputes import services as disputes
from payments import services
from payments.balance import CurrencyBalance, balance_get
from payments.enums import PaymentStatus, TransactionKind, TransactionStatus
from payments.models import Balance, Payment, Transaction
from payments.selectors import payment_get
from payments.services.balances import balance_from_ledger, balance_rebuild
from reconciliation import services as reconciliation
from reconciliation.enums import LineStatus
from tests.disputes.helpers import later
from tests.factories import TEST_ACTOR, make_merchant, make_payment
from tests.reconciliation.files import csv_bytes, fee_of, line_for

pytestmark = pytest.mark.usefixtures("moto_without_rollback")

FEE = 1500  # SANDBOX_DISPUTE_FEE for usd


def _balance(merchant_id: str) -> dict[str, tuple[int, int]]:
    """currency -> (pending, available), currencies with nothing left out."""
    return {
        b.currency: (b.pending, b.available) for b in balance_get(merchant_id=merchant_id) if b.pending or b.available
    }


def _ledger_balance(merchant_id: str) -> dict[str, tuple[int, int]]:
    return {
        b.currency: (b.pending, b.available)
        for b in balance_from_ledger(merchant_id=merchant_id)
        if b.pending or b.available
    }


def _settle(merchant_id: str, payments: list, status: str = LineStatus.SETTLED) -> str:
    rows = [line_for(payment_get(merchant_id=merchant_id, payment_id=p.payment_id), status=status) for p in payments]
    intake = reconciliation.settlement_create(
        merchant_id=merchant_id, actor=TEST_ACTOR, file=io.BytesIO(csv_bytes(rows)), filename="s.csv", enqueue=True
    )
    return intake.settlement.settlement_id


@pytest.mark.engine
def test_capture_refund_and_settlement_move_pending_then_available(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    payment = make_payment(merchant_id, amount=10_000)
    assert _balance(merchant_id) == {"usd": (10_000, 0)}

    services.refund_create(merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, amount=1_000)
    assert _balance(merchant_id) == {"usd": (9_000, 0)}

    _settle(merchant_id, [payment])
    fee = fee_of(10_000)
    assert _balance(merchant_id) == {"usd": (0, 9_000 - fee)}
    assert int(payment_get(merchant_id=merchant_id, payment_id=payment.payment_id).balance_pending) == 0

    # A refund after settlement takes the money back from what was paid out: available.
    services.refund_create(merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, amount=500)
    assert _balance(merchant_id) == {"usd": (0, 8_500 - fee)}
    assert _balance(merchant_id) == _ledger_balance(merchant_id)


@pytest.mark.engine
def test_an_authorization_moves_nothing_until_it_is_captured(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    payment = make_payment(merchant_id, amount=4_000, capture=False)
    assert _balance(merchant_id) == {}

    services.payment_capture(merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, amount=3_000)

    assert _balance(merchant_id) == {"usd": (3_000, 0)}
    assert int(payment_get(merchant_id=merchant_id, payment_id=payment.payment_id).balance_pending) == 3_000


@pytest.mark.engine
def test_a_dispute_debits_amount_and_fee_and_a_won_one_credits_the_amount(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    payment = make_payment(merchant_id, amount=5_000)
    dispute = disputes.dispute_open(merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)
    assert _balance(merchant_id) == {"usd": (-FEE, 0)}

    disputes.dispute_evidence_update(
        merchant_id=merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR, text="winning_evidence", submit=True
    )
    disputes.dispute_decide(merchant_id=merchant_id, dispute_id=dispute.dispute_id, now=later(minutes=2))

    assert _balance(merchant_id) == {"usd": (5_000 - FEE, 0)}
    assert _balance(merchant_id) == _ledger_balance(merchant_id)


@pytest.mark.engine
def test_a_dispute_on_a_settled_payment_comes_out_of_available(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    payment = make_payment(merchant_id, amount=5_000)
    _settle(merchant_id, [payment])
    paid = 5_000 - fee_of(5_000)

    disputes.dispute_open(merchant_id=merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)

    assert _balance(merchant_id) == {"usd": (0, paid - 5_000 - FEE)}
    assert _balance(merchant_id) == _ledger_balance(merchant_id)


@pytest.mark.engine
def test_the_settlement_ledger_entry_keeps_the_fee(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    payment = make_payment(merchant_id, amount=2_000)
    settlement_id = _settle(merchant_id, [payment])

    entries = [t for t in Transaction.query(payment.payment_id) if t.kind == TransactionKind.SETTLEMENT]

    assert [(t.settlement_id, int(t.amount), int(t.fee)) for t in entries] == [(settlement_id, 2_000, fee_of(2_000))]


@pytest.mark.engine
def test_rebuild_backfills_payments_made_before_the_balance_and_is_audited(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    kept = make_payment(merchant_id, amount=3_000)
    settled = make_payment(merchant_id, amount=7_000)
    _settle(merchant_id, [settled])
    # As before the balance existed: no counters, no share on the payments.
    for item in Balance.query(merchant_id):
        item.delete()
    Payment.get(kept.payment_id).update(actions=[Payment.balance_pending.remove()])
    assert _balance(merchant_id) == {}

    rebuilt = balance_rebuild(merchant_id=merchant_id, actor=TEST_ACTOR)

    expected = {"usd": (3_000, 7_000 - fee_of(7_000))}
    assert {b.currency: (b.pending, b.available) for b in rebuilt} == expected
    assert _balance(merchant_id) == expected
    assert int(payment_get(merchant_id=merchant_id, payment_id=kept.payment_id).balance_pending) == 3_000
    # The next change moves the rebuilt counters on.
    services.refund_create(merchant_id=merchant_id, payment_id=kept.payment_id, actor=TEST_ACTOR, amount=1_000)
    assert _balance(merchant_id) == {"usd": (2_000, 7_000 - fee_of(7_000))} == _ledger_balance(merchant_id)


def test_the_command_rebuilds_and_checks(dynamodb_backend):
    merchant_id = make_merchant().merchant_id
    make_payment(merchant_id, amount=1_200)
    Balance(merchant_id=merchant_id, currency_shard="usd#5", pending=99).save()  # drifted
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("balance", "check", "--merchant", merchant_id, stdout=out)

    call_command("balance", "rebuild", "--merchant", merchant_id, stdout=out)
    call_command("balance", "check", "--merchant", merchant_id, stdout=out)

    assert balance_get(merchant_id=merchant_id) == [CurrencyBalance("usd", 1_200, 0)]
    assert "1 of 1 merchants match the ledger" in out.getvalue()


# --- the money invariants over random sequences ----------------------------------------------------

pick = st.integers(min_value=0, max_value=5)  # small: steps often meet the same payment
steps = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(100, 9_000), st.booleans(), st.sampled_from(["usd", "eur"])),
        st.tuples(st.just("capture"), pick, st.none() | st.integers(1, 9_000)),
        st.tuples(st.just("refund"), pick, st.none() | st.integers(1, 9_000)),
        st.tuples(st.just("dispute"), pick, st.none() | st.integers(1, 9_000)),
        st.tuples(st.just("win"), pick),
        st.tuples(st.just("lose"), pick),
        st.tuples(st.just("settle"), st.lists(pick, min_size=1, max_size=4)),
    ),
    min_size=1,
    max_size=12,
)


def _step(merchant_id: str, payment_ids: list[str], step: tuple) -> None:
    kind = step[0]
    if kind == "pay":
        _, amount, capture, currency = step
        payment = make_payment(merchant_id, amount=amount, currency=currency, capture=capture)
        payment_ids.append(payment.payment_id)
        return
    if not payment_ids:
        return
    if kind == "settle":
        chosen = {payment_ids[i % len(payment_ids)] for i in step[1]}
        payments = [payment_get(merchant_id=merchant_id, payment_id=p) for p in sorted(chosen)]
        rows = [
            line_for(p, status=LineStatus.REFUNDED if p.status == PaymentStatus.REFUNDED else LineStatus.SETTLED)
            for p in payments
            if p.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
        ]
        if rows:
            reconciliation.settlement_create(
                merchant_id=merchant_id, actor=TEST_ACTOR, file=io.BytesIO(csv_bytes(rows)), filename="s.csv"
            )
        return
    payment_id = payment_ids[step[1] % len(payment_ids)]
    common = {"merchant_id": merchant_id, "actor": TEST_ACTOR}
    if kind == "capture":
        services.payment_capture(payment_id=payment_id, amount=step[2], **common)
    elif kind == "refund":
        services.refund_create(payment_id=payment_id, amount=step[2], **common)
    elif kind == "dispute":
        disputes.dispute_open(payment_id=payment_id, amount=step[2], **common)
    else:
        dispute_id = payment_get(merchant_id=merchant_id, payment_id=payment_id).dispute_id
        if dispute_id is None:
            return
        if kind == "win":
            disputes.dispute_evidence_update(dispute_id=dispute_id, text="winning_evidence", submit=True, **common)
            disputes.dispute_decide(merchant_id=merchant_id, dispute_id=dispute_id, now=later(minutes=2))
        else:
            disputes.dispute_accept(dispute_id=dispute_id, **common)


def _ledger_sums(payment_ids: list[str]) -> dict[str, dict[str, int]]:
    sums: dict[str, dict[str, int]] = {}
    for payment_id in payment_ids:
        for entry in Transaction.query(payment_id, consistent_read=True):
            if entry.status != TransactionStatus.SUCCEEDED:
                continue
            by_kind = sums.setdefault(entry.currency, {})
            by_kind[entry.kind] = by_kind.get(entry.kind, 0) + int(entry.amount)
            if entry.kind == TransactionKind.SETTLEMENT:
                by_kind["settlement_fee"] = by_kind.get("settlement_fee", 0) + int(entry.fee)
    return sums


def _check(merchant_id: str, payment_ids: list[str]) -> None:
    counters = {b.currency: b for b in balance_get(merchant_id=merchant_id)}
    for currency, k in _ledger_sums(payment_ids).items():
        expected = (
            k.get(TransactionKind.CAPTURE, 0)
            - k.get(TransactionKind.REFUND, 0)
            - k.get(TransactionKind.DISPUTE, 0)
            - k.get(TransactionKind.DISPUTE_FEE, 0)
            - k.get("settlement_fee", 0)
            + k.get(TransactionKind.DISPUTE_REVERSAL, 0)
        )
        got = counters.get(currency, CurrencyBalance(currency))
        assert got.pending + got.available == expected, (currency, got, k)
    assert _balance(merchant_id) == _ledger_balance(merchant_id)
    for payment_id in payment_ids:  # each unsettled payment's share is what its ledger says
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if not payment.settlement_id:
            moved = sum(
                {"capture": 1, "refund": -1, "dispute": -1, "dispute_fee": -1, "dispute_reversal": 1}.get(t.kind, 0)
                * int(t.amount)
                for t in Transaction.query(payment_id, consistent_read=True)
                if t.status == TransactionStatus.SUCCEEDED
            )
            assert int(payment.balance_pending or 0) == moved


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(steps)
# Besides the random sequences, every path of the money once for sure: won and lost disputes before and
# after settlement, partial captures and refunds.
@example([("pay", 5_000, True, "usd"), ("dispute", 0, None), ("win", 0)])
@example([("pay", 4_000, True, "usd"), ("settle", [0]), ("dispute", 0, 1_500), ("win", 0)])
@example([("pay", 5_000, True, "usd"), ("settle", [0]), ("refund", 0, 1_000), ("dispute", 0, 2_000), ("lose", 0)])
@example([("pay", 3_000, False, "eur"), ("capture", 0, 2_000), ("refund", 0, None), ("settle", [0])])
def test_money_invariants_hold_over_any_sequence(dynamodb_backend, sequence):
    merchant_id = make_merchant().merchant_id  # a fresh merchant per example: its own counters
    payment_ids: list[str] = []
    for step in sequence:
        with contextlib.suppress(DomainError):  # refused steps (past the captured amount, wrong state) move nothing
            _step(merchant_id, payment_ids, step)
        _check(merchant_id, payment_ids)
