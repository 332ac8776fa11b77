"""Seals and their verification: tampering with events or seals directly in DynamoDB is named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit import integrity
from audit.models import AuditEvent, AuditSeal
from audit.services import audit_event_new, audit_record
from core import dynamodb
from core.actor import SYSTEM
from tests.factories import make_merchant, make_payment

pytestmark = [pytest.mark.engine, pytest.mark.django_db]


def _client():
    return dynamodb.connection().client


def _chain(merchant_id: str) -> list[AuditEvent]:
    """Events in three past hours and now, sealed through now."""
    now = datetime.now(UTC)
    events = [
        audit_record(
            merchant_id=merchant_id, actor=SYSTEM, action="test.event", entity_id=f"e{n}", at=now - timedelta(hours=n)
        )
        for n in (3, 2, 1)
    ]
    make_payment(merchant_id)
    call_command("audit", "seal", "--through", "now", stdout=StringIO())
    return events


def _verify(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out)
    except CommandError as error:
        return 1, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_untouched_chain_verifies_and_exits_zero(dynamodb_backend):
    merchant = make_merchant("Acme")
    _chain(merchant.merchant_id)

    code, out = _verify()

    assert code == 0, out
    assert "the chain verifies" in out
    seals = list(AuditSeal.query(merchant.merchant_id))
    assert len(seals) >= 4
    assert seals[0].previous_seal_hash == integrity.GENESIS
    for previous, seal in zip(seals, seals[1:], strict=False):
        assert seal.previous_seal_hash == previous.seal_hash
        assert seal.previous_period_start == previous.period_start
        assert seal.key_id == integrity.signing_key_id("test-audit-signing-key-" + "w" * 32)


def test_altered_event_is_named(dynamodb_backend):
    merchant = make_merchant("Acme")
    events = _chain(merchant.merchant_id)
    target = events[0]

    _client().update_item(
        TableName=AuditEvent.Meta.table_name,
        Key={"merchant_id": {"S": target.merchant_id}, "occurred_event": {"S": target.occurred_event}},
        UpdateExpression="SET outcome = :o",
        ExpressionAttributeValues={":o": {"S": "failure"}},
    )
    code, out = _verify("--merchant", merchant.merchant_id)

    assert code == 1
    assert f"event_altered: {merchant.merchant_id} event {target.event_id}" in out
    assert [line for line in out.splitlines() if line.startswith("event_")] == [
        f"event_altered: {merchant.merchant_id} event {target.event_id}: its content differs from the sealed hash"
    ]


def test_deleted_event_is_named(dynamodb_backend):
    merchant = make_merchant("Acme")
    events = _chain(merchant.merchant_id)
    target = events[1]

    _client().delete_item(
        TableName=AuditEvent.Meta.table_name,
        Key={"merchant_id": {"S": target.merchant_id}, "occurred_event": {"S": target.occurred_event}},
    )
    code, out = _verify()

    assert code == 1
    assert f"event_deleted: {merchant.merchant_id} event {target.event_id}" in out
    assert "event_altered" not in out and "event_inserted" not in out


def test_forged_event_is_named_as_inserted(dynamodb_backend):
    merchant = make_merchant("Acme")
    events = _chain(merchant.merchant_id)
    forged = audit_event_new(
        merchant_id=merchant.merchant_id,
        actor=SYSTEM,
        action="payment.refund",
        entity_id="pay_forged",
        at=integrity.time_parse(events[0].occurred_at) + timedelta(seconds=1),
    )

    _client().put_item(TableName=AuditEvent.Meta.table_name, Item=forged.serialize())
    code, out = _verify()

    assert code == 1
    assert f"event_inserted: {merchant.merchant_id} event {forged.event_id}" in out


def test_forged_event_in_an_hour_sealed_empty_is_named(dynamodb_backend):
    merchant = make_merchant("Acme")
    _chain(merchant.merchant_id)
    forged = audit_event_new(
        merchant_id=merchant.merchant_id,
        actor=SYSTEM,
        action="payment.refund",
        at=datetime.now(UTC) - timedelta(hours=6),
    )

    _client().put_item(TableName=AuditEvent.Meta.table_name, Item=forged.serialize())
    code, out = _verify()

    assert code == 1
    assert f"event_inserted: {merchant.merchant_id} event {forged.event_id}" in out


def test_removed_seal_is_named_as_a_gap(dynamodb_backend):
    merchant = make_merchant("Acme")
    _chain(merchant.merchant_id)
    seals = list(AuditSeal.query(merchant.merchant_id))
    removed = seals[1]

    _client().delete_item(
        TableName=AuditSeal.Meta.table_name,
        Key={"merchant_id": {"S": removed.merchant_id}, "period_start": {"S": removed.period_start}},
    )
    code, out = _verify()

    assert code == 1
    assert f"seal_missing: {merchant.merchant_id} seal {removed.period_start}" in out
    assert "event_deleted" not in out and "event_inserted" not in out  # the gap is the finding


def test_every_tampering_at_once_is_named_each(dynamodb_backend):
    merchant = make_merchant("Acme")
    events = _chain(merchant.merchant_id)
    table = AuditEvent.Meta.table_name
    _client().update_item(
        TableName=table,
        Key={"merchant_id": {"S": merchant.merchant_id}, "occurred_event": {"S": events[0].occurred_event}},
        UpdateExpression="SET actor_id = :a",
        ExpressionAttributeValues={":a": {"S": "someone-else"}},
    )
    _client().delete_item(
        TableName=table,
        Key={"merchant_id": {"S": merchant.merchant_id}, "occurred_event": {"S": events[2].occurred_event}},
    )
    forged = audit_event_new(
        merchant_id=merchant.merchant_id,
        actor=SYSTEM,
        action="x.forged",
        at=integrity.time_parse(events[2].occurred_at) + timedelta(seconds=2),
    )
    _client().put_item(TableName=table, Item=forged.serialize())
    seals = list(AuditSeal.query(merchant.merchant_id))
    _client().delete_item(
        TableName=AuditSeal.Meta.table_name,
        Key={"merchant_id": {"S": merchant.merchant_id}, "period_start": {"S": seals[1].period_start}},
    )

    result = integrity.audit_verify(partitions=[merchant.merchant_id])

    named = {(f.kind, f.event_id or f.period_start) for f in result.findings}
    assert named == {
        ("event_altered", events[0].event_id),
        ("event_deleted", events[2].event_id),
        ("event_inserted", forged.event_id),
        ("seal_missing", seals[1].period_start),
    }


def test_altered_seal_is_named(dynamodb_backend):
    merchant = make_merchant("Acme")
    _chain(merchant.merchant_id)
    seal = list(AuditSeal.query(merchant.merchant_id))[0]

    _client().update_item(
        TableName=AuditSeal.Meta.table_name,
        Key={"merchant_id": {"S": seal.merchant_id}, "period_start": {"S": seal.period_start}},
        UpdateExpression="SET event_count = :c",
        ExpressionAttributeValues={":c": {"N": "99"}},
    )
    code, out = _verify()

    assert code == 1
    assert f"seal_altered: {merchant.merchant_id} seal {seal.period_start}" in out


def test_sealing_twice_continues_the_chain_and_by_default_stops_at_the_last_closed_hour(dynamodb_backend):
    merchant = make_merchant("Acme")
    audit_record(
        merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.old", at=datetime.now(UTC) - timedelta(hours=2)
    )

    call_command("audit", "seal", "--merchant", merchant.merchant_id, stdout=StringIO())
    first = list(AuditSeal.query(merchant.merchant_id))
    assert first[-1].period_end == integrity.time_key(integrity.last_closed_hour())
    call_command("audit", "seal", "--merchant", merchant.merchant_id, "--through", "now", stdout=StringIO())
    both = list(AuditSeal.query(merchant.merchant_id))

    assert len(both) > len(first)
    assert both[len(first)].previous_seal_hash == first[-1].seal_hash
    assert sum(s.event_count for s in both) == len(
        list(AuditEvent.query(merchant.merchant_id, AuditEvent.occurred_event < both[-1].period_end))
    )
    assert _verify("--merchant", merchant.merchant_id)[0] == 0


def test_a_rotated_key_still_verifies_old_seals(dynamodb_backend, settings):
    merchant = make_merchant("Acme")
    _chain(merchant.merchant_id)
    old = settings.AUDIT_SIGNING_KEY

    settings.AUDIT_SIGNING_KEY = "rotated-audit-signing-key-" + "r" * 32
    assert integrity.audit_verify(partitions=[merchant.merchant_id]).findings[0].kind == "seal_unknown_key"
    settings.AUDIT_SIGNING_OLD_KEYS = old

    assert integrity.audit_verify(partitions=[merchant.merchant_id]).ok


def test_the_sealing_task_seals_every_partition(dynamodb_backend):
    from audit.tasks import audit_seal_task

    merchant = make_merchant("Acme")
    audit_record(merchant_id=None, actor=SYSTEM, action="test.ops", at=datetime.now(UTC) - timedelta(hours=3))

    audit_seal_task.enqueue(reschedule=False)

    assert list(AuditSeal.query(merchant.merchant_id))
    assert list(AuditSeal.query("ops"))


# --- a chain cut at its tail, sealable events without seals, late events ---------------------


def _seal(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit", "seal", *args, stdout=out)
    except CommandError as error:
        return 1, out.getvalue() + str(error)
    return 0, out.getvalue()


def _seal_delete(seal: AuditSeal) -> None:
    _client().delete_item(
        TableName=AuditSeal.Meta.table_name,
        Key={"merchant_id": {"S": seal.merchant_id}, "period_start": {"S": seal.period_start}},
    )


def _event_edit(merchant_id: str, key: str) -> None:
    _client().update_item(
        TableName=AuditEvent.Meta.table_name,
        Key={"merchant_id": {"S": merchant_id}, "occurred_event": {"S": key}},
        UpdateExpression="SET actor_id = :a",
        ExpressionAttributeValues={":a": {"S": "someone-else"}},
    )


@pytest.mark.parametrize("cut", [1, 2, "all"])
def test_a_chain_cut_at_its_tail_edited_and_sealed_again_is_named(dynamodb_backend, cut):
    """Given a sealed chain, when its newest seals (or all of them) are deleted, an event they sealed
    is changed and sealing runs again, then sealing refuses and verification names the cut."""
    merchant = make_merchant("Acme")
    _chain(merchant.merchant_id)
    seals = list(AuditSeal.query(merchant.merchant_id))
    removed = seals if cut == "all" else seals[-cut:]
    edited = next(key for seal in removed for key in seal.event_keys or [])

    for seal in removed:
        _seal_delete(seal)
    _event_edit(merchant.merchant_id, edited)
    sealed, sealed_out = _seal("--merchant", merchant.merchant_id, "--through", "now")
    code, out = _verify("--merchant", merchant.merchant_id)

    assert code == 1, out
    assert f"anchor_unreached: {merchant.merchant_id} seal {seals[-1].period_start}" in out
    assert sealed == 1 and f"{merchant.merchant_id}: 0 seals" in sealed_out and "refused" in sealed_out
    assert [s.period_start for s in AuditSeal.query(merchant.merchant_id)] == [
        s.period_start for s in seals if s not in removed
    ]


@pytest.mark.parametrize("sealed_before", [False, True], ids=["never-sealed", "sealed-before-them"])
def test_sealable_events_without_seals_are_named(dynamodb_backend, sealed_before):
    """Events older than the last closed hour less the grace window must be sealed: a chain that does
    not reach that far, or no chain at all, is a finding."""
    merchant = make_merchant("Acme")
    now = datetime.now(UTC)
    audit_record(merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.old", at=now - timedelta(hours=50))
    if sealed_before:
        assert (
            _seal("--merchant", merchant.merchant_id, "--through", integrity.time_key(now - timedelta(hours=48)))[0]
            == 0
        )
    late = [
        audit_record(merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.late", at=now - timedelta(hours=h))
        for h in (30, 27)
    ]

    result = integrity.audit_verify(partitions=[merchant.merchant_id])

    assert [(f.kind, f.partition) for f in result.findings] == [("chain_short", merchant.merchant_id)]
    unsealed = 2 if sealed_before else 3
    assert f"{unsealed} events before that are not sealed" in result.findings[0].detail
    first = late[0] if sealed_before else None
    assert first is None or f"the first at {first.occurred_at}" in result.findings[0].detail


def test_once_anchored_sealing_refuses_events_older_than_the_grace_window_and_reports_them(dynamodb_backend, settings):
    merchant = make_merchant("Acme")
    now = datetime.now(UTC)
    audit_record(merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.old", at=now - timedelta(hours=50))
    assert _seal("--merchant", merchant.merchant_id, "--through", integrity.time_key(now - timedelta(hours=48)))[0] == 0
    before = list(AuditSeal.query(merchant.merchant_id))
    late = audit_record(
        merchant_id=merchant.merchant_id, actor=SYSTEM, action="x.backdated", at=now - timedelta(hours=30)
    )
    audit_record(merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.recent", at=now - timedelta(hours=1))

    code, out = _seal("--merchant", merchant.merchant_id, "--through", "now")

    assert code == 1
    assert f"refused: 1 events from {late.occurred_at} are older than the 24-hour grace window" in out
    assert len(list(AuditSeal.query(merchant.merchant_id))) == len(before)
    assert [f.kind for f in integrity.audit_verify(partitions=[merchant.merchant_id]).findings] == ["chain_short"]

    settings.AUDIT_SEAL_GRACE_HOURS = 48  # an operator who checked the late event widens the window for a run
    assert _seal("--merchant", merchant.merchant_id, "--through", "now")[0] == 0
    assert integrity.audit_verify(partitions=[merchant.merchant_id]).ok


def test_the_first_seal_covers_90_days_of_backdated_history(dynamodb_backend):
    merchant = make_merchant("Acme")
    now = datetime.now(UTC)
    for days in (90, 45, 1):
        audit_record(merchant_id=merchant.merchant_id, actor=SYSTEM, action="demo.seed", at=now - timedelta(days=days))

    code, out = _seal("--merchant", merchant.merchant_id)

    assert code == 0 and "refused" not in out
    seals = list(AuditSeal.query(merchant.merchant_id))
    assert sum(seal.event_count for seal in seals) == 3
    assert integrity.audit_verify(partitions=[merchant.merchant_id]).ok
