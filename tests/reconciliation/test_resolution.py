"""Resolving discrepancies one at a time and in bulk: one audit event per discrepancy, chunked
transactions of at most 100 items, the settlement's open/resolved counters, bad input, races."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from audit.models import AuditEvent
from core import dynamodb
from core.actor import Actor
from core.errors import ValidationFailed
from reconciliation import selectors, services
from reconciliation.enums import Kind
from reconciliation.errors import DiscrepancyAlreadyResolved, DiscrepancyNotFound, SettlementNotFound
from reconciliation.models import Discrepancy, Settlement
from reconciliation.services import resolution
from tests.factories import TEST_ACTOR, make_merchant
from tests.reconciliation.files import csv_bytes, line_for
from tests.reconciliation.planted import bulk_succeeded_payments

pytestmark = pytest.mark.engine

OLGA = Actor(type="user", id="olga", ip="127.0.0.1", user_agent="pytest", request_id="req_bulk")
FEE_MISMATCHES = 60  # more than one chunk of 49


@pytest.fixture
def settled():
    """A processed file: FEE_MISMATCHES fee mismatches, 2 amount mismatches, 3 duplicate lines, 5 matched."""
    merchant = make_merchant("Acme")
    start = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=2)
    payments = bulk_succeeded_payments(
        merchant.merchant_id, count=FEE_MISMATCHES + 7, currency="usd", start=start, seed=3
    )
    rows = [line_for(p, net="0.01") for p in payments[:FEE_MISMATCHES]]
    rows += [line_for(p, amount="999.99") for p in payments[FEE_MISMATCHES : FEE_MISMATCHES + 2]]
    rows += [line_for(p) for p in payments[FEE_MISMATCHES + 2 :]]
    rows += [line_for(p) for p in payments[-3:]]  # the second line of a payment: duplicate_line
    intake = services.settlement_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=io.BytesIO(csv_bytes(rows)), filename="nov.csv"
    )
    settlement = Settlement.get(intake.settlement.settlement_id, consistent_read=True)
    assert settlement.counts[Kind.FEE_MISMATCH] == FEE_MISMATCHES
    return settlement


def _tally(settlement: Settlement) -> dict[str, tuple[int, int, int]]:
    fresh = Settlement.get(settlement.settlement_id, consistent_read=True)
    return {t.kind: (t.total, t.open, t.resolved) for t in selectors.discrepancy_tally(fresh) if t.total}


def _of_kind(settlement: Settlement, kind: Kind) -> list[Discrepancy]:
    return [d for d in Discrepancy.query(settlement.settlement_id, consistent_read=True) if d.kind == kind]


def _resolve_events(merchant_id: str) -> list[AuditEvent]:
    return [e for e in AuditEvent.query(merchant_id) if e.action == "discrepancy.resolve"]


@pytest.fixture
def transaction_sizes(monkeypatch):
    """The number of items of every transaction the resolution service commits."""
    sizes: list[int] = []

    class Counted(resolution._Transaction):
        def _commit(self):
            sizes.append(
                len(self._condition_check_items)
                + len(self._delete_items)
                + len(self._put_items)
                + len(self._update_items)
            )
            return super()._commit()

    monkeypatch.setattr(resolution, "_Transaction", Counted)
    return sizes


def test_every_open_discrepancy_of_a_kind_is_resolved_in_chunks_each_audited(settled, transaction_sizes):
    assert _tally(settled) == {
        Kind.FEE_MISMATCH: (FEE_MISMATCHES, FEE_MISMATCHES, 0),
        Kind.AMOUNT_MISMATCH: (2, 2, 0),
        Kind.DUPLICATE_LINE: (3, 3, 0),
    }

    outcome = services.discrepancy_resolve_bulk(
        merchant_id=settled.merchant_id,
        settlement_id=settled.settlement_id,
        actor=OLGA,
        reason="  Processor fee credit, ticket 4711 ",
        kind=Kind.FEE_MISMATCH,
    )

    assert outcome == services.BulkResolution(resolved=FEE_MISMATCHES, already=0)
    # the counters move without the settlement's version: a worker processing the file is not stopped
    assert Settlement.get(settled.settlement_id, consistent_read=True).version == settled.version
    fees = _of_kind(settled, Kind.FEE_MISMATCH)
    assert all(d.resolved and d.resolved_by == "olga" for d in fees)
    assert {d.resolved_reason for d in fees} == {"Processor fee credit, ticket 4711"}
    assert not any(d.resolved for d in _of_kind(settled, Kind.AMOUNT_MISMATCH))  # another kind: untouched
    events = _resolve_events(settled.merchant_id)
    assert sorted(e.entity_id for e in events) == sorted(d.discrepancy_id for d in fees)  # one per discrepancy
    assert {e.actor_id for e in events} == {"olga"} and {e.request_id for e in events} == {"req_bulk"}
    assert transaction_sizes == [49 * 2 + 1, (FEE_MISMATCHES - 49) * 2 + 1]  # at most 100 items each
    assert _tally(settled) == {
        Kind.FEE_MISMATCH: (FEE_MISMATCHES, 0, FEE_MISMATCHES),
        Kind.AMOUNT_MISMATCH: (2, 2, 0),
        Kind.DUPLICATE_LINE: (3, 3, 0),
    }

    again = services.discrepancy_resolve_bulk(
        merchant_id=settled.merchant_id,
        settlement_id=settled.settlement_id,
        actor=OLGA,
        reason="again",
        kind=Kind.FEE_MISMATCH,
    )
    assert again.resolved == 0 and len(_resolve_events(settled.merchant_id)) == FEE_MISMATCHES


def test_selected_discrepancies_of_any_kind_are_resolved_and_counted(settled):
    amount = _of_kind(settled, Kind.AMOUNT_MISMATCH)
    duplicate = _of_kind(settled, Kind.DUPLICATE_LINE)
    services.discrepancy_resolve(
        merchant_id=settled.merchant_id,
        settlement_id=settled.settlement_id,
        discrepancy_id=duplicate[0].discrepancy_id,
        actor=TEST_ACTOR,
        reason="one at a time",
    )
    assert _tally(settled)[Kind.DUPLICATE_LINE] == (3, 2, 1)  # the single resolve counts too

    outcome = services.discrepancy_resolve_bulk(
        merchant_id=settled.merchant_id,
        settlement_id=settled.settlement_id,
        actor=OLGA,
        reason="Checked with the processor",
        discrepancy_ids=[amount[0].discrepancy_id, duplicate[0].discrepancy_id, duplicate[1].discrepancy_id],
    )

    assert outcome == services.BulkResolution(resolved=2, already=1)
    tally = _tally(settled)
    assert tally[Kind.AMOUNT_MISMATCH] == (2, 1, 1) and tally[Kind.DUPLICATE_LINE] == (3, 1, 2)
    assert tally[Kind.FEE_MISMATCH] == (FEE_MISMATCHES, FEE_MISMATCHES, 0)
    assert duplicate[0].discrepancy_id in {e.entity_id for e in _resolve_events(settled.merchant_id)}
    assert len(_resolve_events(settled.merchant_id)) == 3


def test_bad_input_is_refused_before_anything_changes(settled):
    other = make_merchant("Globex")
    call = {"merchant_id": settled.merchant_id, "settlement_id": settled.settlement_id, "actor": OLGA}

    with pytest.raises(ValidationFailed) as no_reason:
        services.discrepancy_resolve_bulk(**call, reason="   ", kind=Kind.FEE_MISMATCH)
    with pytest.raises(ValidationFailed) as nothing:
        services.discrepancy_resolve_bulk(**call, reason="ok", discrepancy_ids=[])
    with pytest.raises(ValidationFailed) as no_kind:
        services.discrepancy_resolve_bulk(**call, reason="ok", kind="everything")
    with pytest.raises(ValidationFailed) as too_long:
        services.discrepancy_resolve_bulk(**call, reason="x" * 501, kind=Kind.FEE_MISMATCH)
    with pytest.raises(DiscrepancyNotFound):
        services.discrepancy_resolve_bulk(**call, reason="ok", discrepancy_ids=["dis_01JDQZ0000000000000000000", "x"])
    with pytest.raises(SettlementNotFound):
        services.discrepancy_resolve_bulk(
            merchant_id=other.merchant_id,
            settlement_id=settled.settlement_id,
            actor=OLGA,
            reason="ok",
            kind=Kind.FEE_MISMATCH,
        )

    assert (no_reason.value.code, nothing.value.code, no_kind.value.code, too_long.value.code) == (
        "reason_missing",
        "nothing_selected",
        "invalid_kind",
        "reason_too_long",
    )
    assert _resolve_events(settled.merchant_id) == []
    assert all(t[2] == 0 for t in _tally(settled).values())


def test_a_chunk_that_loses_a_race_is_done_again_without_the_one_someone_else_resolved(settled, monkeypatch):
    amount = _of_kind(settled, Kind.AMOUNT_MISMATCH)
    real_selected = resolution._selected

    def someone_else_resolves_one_meanwhile(settlement_id, discrepancy_ids):
        chosen = real_selected(settlement_id, discrepancy_ids)  # read while both were open
        services.discrepancy_resolve(
            merchant_id=settled.merchant_id,
            settlement_id=settlement_id,
            discrepancy_id=amount[0].discrepancy_id,
            actor=TEST_ACTOR,
            reason="the other operator",
        )
        return chosen

    monkeypatch.setattr(resolution, "_selected", someone_else_resolves_one_meanwhile)

    outcome = services.discrepancy_resolve_bulk(
        merchant_id=settled.merchant_id,
        settlement_id=settled.settlement_id,
        actor=OLGA,
        reason="bulk",
        discrepancy_ids=[d.discrepancy_id for d in amount],
    )

    assert outcome == services.BulkResolution(resolved=1, already=1)
    first, second = (Discrepancy.get(settled.settlement_id, d.discrepancy_id, consistent_read=True) for d in amount)
    assert (first.resolved_reason, second.resolved_reason) == ("the other operator", "bulk")
    assert sorted(e.actor_id for e in _resolve_events(settled.merchant_id)) == ["olga", "tests"]  # once each
    assert _tally(settled)[Kind.AMOUNT_MISMATCH] == (2, 0, 2)


def test_resolving_one_twice_says_who_did_it_first(settled):
    (first, _) = _of_kind(settled, Kind.AMOUNT_MISMATCH)
    call = {
        "merchant_id": settled.merchant_id,
        "settlement_id": settled.settlement_id,
        "discrepancy_id": first.discrepancy_id,
    }
    services.discrepancy_resolve(**call, actor=OLGA, reason="fine")

    with pytest.raises(DiscrepancyAlreadyResolved, match="already resolved by olga"):
        services.discrepancy_resolve(**call, actor=TEST_ACTOR, reason="fine too")

    assert _tally(settled)[Kind.AMOUNT_MISMATCH] == (2, 1, 1)


def test_a_settlement_from_before_the_counters_counts_what_was_resolved_then(settled):
    """Items written before `resolved_counts` existed have no such attribute, and their discrepancies
    were resolved without counting: the pages count those, and the next resolve starts from them."""
    assert Settlement.get(settled.settlement_id, consistent_read=True).resolved_counts.as_dict() == {}
    client = dynamodb.connection().client
    client.update_item(
        TableName=Settlement.Meta.table_name,
        Key={"settlement_id": {"S": settled.settlement_id}},
        UpdateExpression="REMOVE resolved_counts",
    )
    for earlier in _of_kind(settled, Kind.DUPLICATE_LINE)[:2]:  # resolved the way wave 1 did: no counter
        earlier.update(actions=[Discrepancy.resolved.set(True), Discrepancy.resolved_reason.set("wave 1")])

    assert Settlement.get(settled.settlement_id, consistent_read=True).resolved_counts is None
    assert _tally(settled)[Kind.DUPLICATE_LINE] == (3, 1, 2)
    assert _tally(settled)[Kind.AMOUNT_MISMATCH] == (2, 2, 0)

    (last,) = [d for d in _of_kind(settled, Kind.DUPLICATE_LINE) if not d.resolved]
    services.discrepancy_resolve(
        merchant_id=settled.merchant_id,
        settlement_id=settled.settlement_id,
        discrepancy_id=last.discrepancy_id,
        actor=OLGA,
        reason="fine",
    )

    fresh = Settlement.get(settled.settlement_id, consistent_read=True)
    assert fresh.resolved_counts.as_dict() == {Kind.DUPLICATE_LINE: 3}
    assert _tally(settled)[Kind.DUPLICATE_LINE] == (3, 0, 3)
