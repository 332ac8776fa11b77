"""The items processing writes since lines went into chunk items and a settled payment carries its
claim: the lines of a chunk in one item, a duplicate found from the payment's `settlement_line`,
two workers on the same chunk settling each payment once, lanes on their own balance shards, and
the demo settlements `seed_demo` makes."""

from __future__ import annotations

import copy
import io
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import moto.dynamodb.models
import pytest
from django.core.management import call_command

from payments.balance import balance_get, balance_shard
from payments.enums import TransactionKind
from payments.models import Payment, Transaction
from reconciliation import csvfile, services
from reconciliation.enums import Kind, LineStatus, Outcome, SettlementStatus
from reconciliation.management.commands.settlement_demo_seed import demo_settlement_file
from reconciliation.models import Payout, Settlement, SettlementKey, SettlementLine, SettlementLineChunk
from reconciliation.selectors import discrepancy_iter
from reconciliation.services import lines, processing, settling
from reconciliation.services.lines import Progress
from tests.factories import TEST_ACTOR, make_merchant, make_payment
from tests.reconciliation.files import csv_bytes, fee_of, line_for

pytestmark = pytest.mark.usefixtures("moto_without_rollback")


@pytest.fixture
def moto_rolls_back(monkeypatch, dynamodb_backend):
    """Cancelled transactions undone in moto too (the suite turns that off for speed)."""
    if dynamodb_backend == "moto":
        monkeypatch.setattr(moto.dynamodb.models, "copy", copy)


def _process(merchant_id: str, rows: list[dict]) -> Settlement:
    intake = services.settlement_create(
        merchant_id=merchant_id, actor=TEST_ACTOR, file=io.BytesIO(csv_bytes(rows)), filename="s.csv", enqueue=False
    )
    return services.settlement_process(merchant_id=merchant_id, settlement_id=intake.settlement.settlement_id)


def _settlement_entries(payment_id: str) -> list[Transaction]:
    return [t for t in Transaction.query(payment_id, consistent_read=True) if t.kind == TransactionKind.SETTLEMENT]


@pytest.mark.engine
def test_a_chunks_lines_are_one_item_and_read_back_line_by_line(monkeypatch, dynamodb_backend):
    monkeypatch.setattr(processing, "CHUNK_ROWS", 4)
    merchant = make_merchant()
    payments = [make_payment(merchant.merchant_id, amount=1000 + n) for n in range(9)]
    rows = [line_for(p) for p in payments]
    rows[3]["net"] = "0.01"  # a fee mismatch

    settlement = _process(merchant.merchant_id, rows)

    chunks = list(SettlementLineChunk.query(settlement.settlement_id))
    assert [(int(c.line), len(c.rows)) for c in chunks] == [(2, 4), (6, 4), (10, 1)]  # line 1 is the header
    read = list(SettlementLine.iter(settlement.settlement_id))
    assert [line.line for line in read] == list(range(2, 11))
    assert [line.payment_id for line in read] == [p.payment_id for p in payments]
    assert read[3].outcome == Kind.FEE_MISMATCH and {line.outcome for line in read[:3]} == {Outcome.MATCHED}
    assert (read[0].amount, read[0].fee, read[0].currency) == (1000, fee_of(1000), "usd")
    assert SettlementLine.count(settlement.settlement_id) == 9
    assert list(SettlementLine.iter(settlement.settlement_id, currency="eur")) == []
    # A matched line's claim is its payment's `settlement_line`; only the mismatched line has a claim item.
    assert int(Payment.get(payments[0].payment_id, consistent_read=True).settlement_line) == 2
    claims = [SettlementKey.get(f"claim#{settlement.settlement_id}#{p.payment_id}") for p in payments[3:4]]
    assert int(claims[0].line) == 5
    with pytest.raises(SettlementKey.DoesNotExist):
        SettlementKey.get(f"claim#{settlement.settlement_id}#{payments[0].payment_id}")


@pytest.mark.engine
def test_a_payment_named_again_in_a_later_chunk_is_a_duplicate_of_the_line_that_settled_it(
    monkeypatch, dynamodb_backend
):
    monkeypatch.setattr(processing, "CHUNK_ROWS", 3)
    merchant = make_merchant()
    first, other, third = (make_payment(merchant.merchant_id, amount=1500 + n) for n in range(3))
    rows = [line_for(first), line_for(other), line_for(third), line_for(other), line_for(first)]

    settlement = _process(merchant.merchant_id, rows)

    found = {
        (d.kind, int(d.line), d.payment_id, d.expected)
        for d in discrepancy_iter(merchant_id=merchant.merchant_id, settlement_id=settlement.settlement_id)
    }
    assert found == {
        (Kind.DUPLICATE_LINE, 5, other.payment_id, 3),
        (Kind.DUPLICATE_LINE, 6, first.payment_id, 2),
    }
    for payment in (first, other, third):
        assert len(_settlement_entries(payment.payment_id)) == 1


@pytest.mark.engine_only  # moto's store is not safe for transactions from two threads at once
def test_two_workers_on_the_same_chunk_settle_each_payment_once(
    monkeypatch, settings, moto_rolls_back, dynamodb_backend
):
    settings.SETTLEMENT_SETTLE_LANES = 4
    merchant = make_merchant()
    payments = [make_payment(merchant.merchant_id, amount=2000 + n) for n in range(40)]
    content = csv_bytes([line_for(p) for p in payments])
    intake = services.settlement_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=io.BytesIO(content), filename="s.csv", enqueue=False
    )
    sid = intake.settlement.settlement_id
    at = datetime.now(UTC)
    rows = list(csvfile.rows_read(io.BytesIO(content)))
    both_read = threading.Barrier(2, timeout=60)
    real_settle_all = lines.settle_all

    def settle_when_both_have_read(settlement, pending, when):
        both_read.wait()  # both workers judged every line matched before either settles
        return real_settle_all(settlement, pending, when)

    results: list = []

    def worker() -> None:
        settlement = Settlement.get(sid, consistent_read=True)
        results.append(lines.chunk_process(settlement, rows, Progress.of(settlement), at))

    monkeypatch.setattr(lines, "settle_all", settle_when_both_have_read)
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 2
    for payment in payments:
        assert len(_settlement_entries(payment.payment_id)) == 1, payment.payment_id
        assert Payment.get(payment.payment_id, consistent_read=True).settlement_id == sid
    (usd,) = balance_get(merchant_id=merchant.merchant_id)
    assert usd.pending == 0
    assert usd.available == sum(int(p.amount) - fee_of(int(p.amount)) for p in payments)


def test_concurrent_lanes_write_distinct_balance_shards():
    keys = settling.lane_keys("set_01JAAAAAAAAAAAAAAAAAAAAAAA", 4)
    assert len(keys) == 4 and len({balance_shard(key) for key in keys}) == 4
    assert keys == settling.lane_keys("set_01JAAAAAAAAAAAAAAAAAAAAAAA", 4)


@pytest.mark.engine
def test_a_file_settled_in_many_transactions_moves_the_balance_once_per_payment(
    monkeypatch, settings, dynamodb_backend
):
    monkeypatch.setattr(settling, "SETTLE_PER_TRANSACTION", 3)
    if dynamodb_backend != "moto":
        settings.SETTLEMENT_SETTLE_LANES = 4  # 4 lanes, several transactions each (moto is not thread-safe)
    merchant = make_merchant()
    payments = [make_payment(merchant.merchant_id, amount=3000 + n) for n in range(20)]

    settlement = _process(merchant.merchant_id, [line_for(p) for p in payments])

    assert settlement.status == SettlementStatus.COMPLETED
    assert settlement.counts[Outcome.MATCHED] == 20
    (usd,) = balance_get(merchant_id=merchant.merchant_id)
    assert (usd.pending, usd.available) == (0, sum(int(p.amount) - fee_of(int(p.amount)) for p in payments))


@pytest.mark.engine
def test_the_demo_settlement_is_made_once_with_its_planted_discrepancies_and_a_payout(dynamodb_backend):
    merchant = make_merchant()
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=20)
    for day in range(4):
        for n in range(12):
            make_payment(merchant.merchant_id, amount=1000 + 10 * n, now=start + timedelta(days=day, hours=n))
    since = ("--since", f"{start:%Y-%m-%d}", "--lines", "30")

    call_command("settlement_demo_seed", "--merchant", merchant.merchant_id, *since, stdout=io.StringIO())
    call_command("settlement_demo_seed", "--merchant", merchant.merchant_id, *since, stdout=io.StringIO())

    (settlement,) = Settlement.by_merchant.query(merchant.merchant_id)
    assert settlement.status == SettlementStatus.COMPLETED
    kinds = {d.kind for d in discrepancy_iter(merchant_id=merchant.merchant_id, settlement_id=settlement.settlement_id)}
    assert kinds == {
        Kind.AMOUNT_MISMATCH,
        Kind.FEE_MISMATCH,
        Kind.DUPLICATE_LINE,
        Kind.MISSING_IN_PLATFORM,
        Kind.MISSING_IN_FILE,
    }
    (payout,) = Payout.by_merchant.query(merchant.merchant_id)
    assert payout.currency == "usd" and int(payout.payment_count) >= 30
    (usd,) = balance_get(merchant_id=merchant.merchant_id)
    assert usd.available > 0 and usd.pending > 0
    again = demo_settlement_file(merchant.merchant_id, lines=30, earliest=start)
    assert again == demo_settlement_file(merchant.merchant_id, lines=30, earliest=start)


@pytest.mark.engine
def test_lines_stored_one_item_per_line_before_chunks_are_still_read():
    merchant = make_merchant()
    SettlementLineChunk(
        "stl_earlier",
        1,
        merchant_id=merchant.merchant_id,
        payment_id="pay_a",
        outcome=Outcome.MATCHED.value,
        amount=1000,
        fee=30,
        net=970,
        currency="USD",
        status="settled",
        settled_at="2026-01-02",
    ).save()
    SettlementLineChunk(
        "stl_earlier", 2, merchant_id=merchant.merchant_id, outcome=Kind.MISSING_IN_PLATFORM.value, currency="EUR"
    ).save()

    lines = list(SettlementLine.iter("stl_earlier"))

    assert [(line.line, line.payment_id, line.outcome, line.net) for line in lines] == [
        (1, "pay_a", Outcome.MATCHED.value, 970),
        (2, None, Kind.MISSING_IN_PLATFORM.value, None),
    ]
    assert [line.line for line in SettlementLine.iter("stl_earlier", currency="EUR")] == [2]
    assert SettlementLine.count("stl_earlier") == 2


class WorkerDied(BaseException):
    """Stands in for a killed worker: not an Exception, so nothing records a failure."""


@pytest.fixture
def claim_reads(monkeypatch):
    """The claim keys each chunk asked DynamoDB for, chunk by chunk."""
    asked: list[int] = []
    real = lines.batch_get

    def counted(keys, **kwargs):
        keys = list(keys)
        asked.append(sum(1 for model, _ in keys if model is SettlementKey))
        return real(keys, **kwargs)

    monkeypatch.setattr(lines, "batch_get", counted)
    return asked


def _duplicate_file(merchant_id: str) -> tuple[list[dict], str]:
    """Chunks of 2 rows: line 2 names a payment with the wrong amount (a claim item, no settling),
    line 6, two chunks later, names it again."""
    named, *others = (make_payment(merchant_id, amount=4000 + n) for n in range(4))
    wrong = SimpleNamespace(
        payment_id=named.payment_id, amount_captured=5000, currency=named.currency, created=named.created
    )
    rows = [line_for(wrong), line_for(others[0]), line_for(others[1]), line_for(others[2])]
    return [*rows, line_for(named)], named.payment_id


@pytest.mark.engine
def test_a_run_from_the_first_row_reads_no_claims_and_finds_a_duplicate_of_a_line_that_did_not_settle(
    monkeypatch, claim_reads, dynamodb_backend
):
    monkeypatch.setattr(processing, "CHUNK_ROWS", 2)
    merchant = make_merchant()
    rows, named = _duplicate_file(merchant.merchant_id)

    settlement = _process(merchant.merchant_id, rows)

    assert claim_reads == [0, 0, 0]
    found = {
        (d.kind, int(d.line), d.payment_id)
        for d in discrepancy_iter(merchant_id=merchant.merchant_id, settlement_id=settlement.settlement_id)
    }
    assert found == {(Kind.AMOUNT_MISMATCH, 2, named), (Kind.DUPLICATE_LINE, 6, named)}
    assert _settlement_entries(named) == []


@pytest.mark.engine
@pytest.mark.parametrize("dies_at_save", [1, 2], ids=["in-the-first-chunk", "after-the-first-chunk"])
def test_a_run_done_again_after_a_crash_finds_the_duplicate_whatever_it_remembers(
    monkeypatch, claim_reads, dies_at_save, dynamodb_backend
):
    monkeypatch.setattr(processing, "CHUNK_ROWS", 2)
    merchant = make_merchant()
    rows, named = _duplicate_file(merchant.merchant_id)
    intake = services.settlement_create(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(csv_bytes(rows)),
        filename="s.csv",
        enqueue=False,
    )
    sid = intake.settlement.settlement_id
    real_save, saves = processing._progress_save, []

    def dies(settlement, progress, **more):
        saves.append(more)
        if len(saves) == dies_at_save:  # the chunk's lines, claims and settling are written, its progress is not
            raise WorkerDied
        real_save(settlement, progress, **more)

    monkeypatch.setattr(processing, "_progress_save", dies)
    with pytest.raises(WorkerDied):
        services.settlement_process(merchant_id=merchant.merchant_id, settlement_id=sid)
    monkeypatch.setattr(processing, "_progress_save", real_save)
    claim_reads.clear()

    settlement = services.settlement_process(merchant_id=merchant.merchant_id, settlement_id=sid)

    # From the first row again: the claims it meets are its own lines'; resumed: read from DynamoDB.
    assert claim_reads == ([0, 0, 0] if dies_at_save == 1 else [2, 1])
    assert settlement.counts[Kind.DUPLICATE_LINE] == 1 and settlement.counts[Kind.AMOUNT_MISMATCH] == 1
    found = {(d.kind, int(d.line)) for d in discrepancy_iter(merchant_id=merchant.merchant_id, settlement_id=sid)}
    assert found == {(Kind.AMOUNT_MISMATCH, 2), (Kind.DUPLICATE_LINE, 6)}
    assert _settlement_entries(named) == []


@pytest.mark.engine
def test_past_its_limit_a_run_reads_the_claims_again(monkeypatch, claim_reads, dynamodb_backend):
    monkeypatch.setattr(processing, "CHUNK_ROWS", 2)
    monkeypatch.setattr(lines.ClaimsSeen, "LIMIT", 0)
    merchant = make_merchant()
    rows, named = _duplicate_file(merchant.merchant_id)

    settlement = _process(merchant.merchant_id, rows)

    assert claim_reads == [0, 2, 1]  # the first chunk's claim went past the limit: read from then on
    assert settlement.counts[Kind.DUPLICATE_LINE] == 1


@pytest.mark.pure
def test_a_chunk_of_the_longest_lines_the_parser_lets_through_fits_one_item_with_room_to_spare():
    """DynamoDB refuses an item over 400 KB, and a chunk's lines are one item: `CHUNK_ROWS` lines, each
    at most what `csvfile.line_parse` accepts (cells of `MAX_VALUE` characters, amounts up to
    `MAX_AMOUNT`), or an invalid row's cut payment id."""
    longest = SettlementLine(
        settlement_id="set_01M8QJV25RD6974M6WG6XKZ9PV",
        line=csvfile.MAX_ROWS + 1,
        merchant_id="mer_01M8QJYGCSRSGD74JG0N06NXRM",
        payment_id="p" * csvfile.MAX_VALUE,
        outcome=max((str(outcome) for outcome in Outcome), key=len),
        amount=csvfile.MAX_AMOUNT,
        fee=csvfile.MAX_AMOUNT,
        net=csvfile.MAX_AMOUNT,
        currency="usd",
        status=max((str(status) for status in LineStatus), key=len),
        settled_at="2026-11-30T23:59:59.999999+00:00".ljust(csvfile.MAX_VALUE, "9"),
    ).packed()
    item = SettlementLineChunk(
        settlement_id="set_01M8QJV25RD6974M6WG6XKZ9PV",
        line=2,
        merchant_id="mer_01M8QJYGCSRSGD74JG0N06NXRM",
        rows=[longest] * processing.CHUNK_ROWS,
    )

    # an item's size: its attribute names and values in UTF-8 (numbers count about as their digits)
    size = sum(len(name) + len(next(iter(value.values())).encode()) for name, value in item.serialize().items())

    assert 100 * 1024 < size < 300 * 1024, size  # the limit is 400 KB; under 100 KB, the lines were not counted
