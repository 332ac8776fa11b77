"""Intake: the one service behind the upload page, `POST /api/v1/settlements` and the S3 handler."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import IO

from django.core.files import File
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new, audit_record
from core import dynamodb
from core.actor import Actor
from core.ids import new_id, now
from reconciliation import csvfile
from reconciliation.enums import SettlementStatus, Source
from reconciliation.errors import SettlementFileRejected
from reconciliation.models import Settlement, SettlementKey
from reconciliation.storage import settlement_storage, settlement_storage_name

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    settlement: Settlement
    created: bool  # False: the same file (SHA-256) was uploaded before; this is that settlement
    requeued: bool = False  # that settlement had failed, and is processed again from its last saved row


def file_key(*, merchant_id: str, sha256: str) -> str:
    return f"file#{merchant_id}#{sha256}"


def _existing(*, merchant_id: str, sha256: str) -> Settlement | None:
    try:
        key = SettlementKey.get(file_key(merchant_id=merchant_id, sha256=sha256), consistent_read=True)
    except DoesNotExist:
        return None
    return Settlement.get(key.settlement_id, consistent_read=True)


def _period(period_start: date | str | None, period_end: date | str | None) -> tuple[str | None, str | None]:
    values = []
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if value in (None, ""):
            values.append(None)
            continue
        try:
            values.append(value if isinstance(value, date) else date.fromisoformat(str(value).strip()))
        except ValueError as error:
            raise SettlementFileRejected(
                f"{name} must be a date like 2026-11-25.", param=name, code="invalid_period"
            ) from error
    start, end = values
    if (start is None) != (end is None):
        missing = "period_end" if end is None else "period_start"
        raise SettlementFileRejected(
            "Give both period_start and period_end, or neither.", param=missing, code="invalid_period"
        )
    if start is not None and end is not None and start > end:
        raise SettlementFileRejected("period_start is after period_end.", param="period_start", code="invalid_period")
    return (start.isoformat() if start else None, end.isoformat() if end else None)


def _again(settlement: Settlement, *, actor: Actor, filename: str, source: Source, enqueue: bool) -> Intake:
    """The same file again. A settlement that failed (a bug, an outage) is queued again, so that
    uploading the file once more after the fix finishes it, from its last saved row; two uploads
    racing queue it once (the status change is conditional). Any other settlement is returned as it is."""
    if settlement.status != SettlementStatus.FAILED:
        return Intake(settlement=settlement, created=False)
    try:
        settlement.update(
            actions=[Settlement.status.set(SettlementStatus.QUEUED), Settlement.error.remove()],
            condition=Settlement.status == SettlementStatus.FAILED,
        )
    except UpdateError:  # another upload or a worker took it first
        return Intake(settlement=Settlement.get(settlement.settlement_id, consistent_read=True), created=False)
    audit_record(
        merchant_id=settlement.merchant_id,
        actor=actor,
        action="settlement.upload",
        entity_type="settlement",
        entity_id=settlement.settlement_id,
        after={"filename": (filename or "")[-200:], "source": source},
        detail="The same file again: its failed settlement is processed again.",
    )
    if enqueue:
        _enqueue(merchant_id=settlement.merchant_id, settlement_id=settlement.settlement_id)
    return Intake(
        settlement=Settlement.get(settlement.settlement_id, consistent_read=True), created=False, requeued=True
    )


def _enqueue(*, merchant_id: str, settlement_id: str) -> None:
    # Imported here: reconciliation.tasks imports these services to run them.
    from reconciliation.tasks import settlement_process_task

    settlement_process_task.enqueue(merchant_id=merchant_id, settlement_id=settlement_id)


def settlement_create(
    *,
    merchant_id: str,
    actor: Actor,
    file: IO[bytes],
    filename: str,
    period_start: date | str | None = None,
    period_end: date | str | None = None,
    source: Source = Source.UPLOAD,
    enqueue: bool = True,
) -> Intake:
    """Check a settlement file whole, store it under a server-generated name and queue its
    processing. The same file (SHA-256) for the same merchant returns the settlement it already
    has, even when two uploads race: the `file#` key is written with a condition in the same
    transaction as the settlement and the upload's audit event. If that settlement failed, it is
    queued again (`Intake.requeued`)."""
    try:
        start, end = _period(period_start, period_end)
        csvfile.size_check(csvfile.file_size(file))
        sha256, size = csvfile.file_digest(file)
        existing = _existing(merchant_id=merchant_id, sha256=sha256)
        if existing is not None:
            return _again(existing, actor=actor, filename=filename, source=source, enqueue=enqueue)
        rows = csvfile.file_inspect(file)
    except SettlementFileRejected as rejected:
        audit_record(
            merchant_id=merchant_id,
            actor=actor,
            action="settlement.upload",
            entity_type="settlement",
            outcome="failure",
            after={"filename": (filename or "")[-200:], "source": source},
            detail=f"{rejected.code}: {rejected.detail}",
        )
        raise

    at = now()
    settlement_id = new_id("set", at)
    storage = settlement_storage()
    storage_name = storage.save(
        settlement_storage_name(merchant_id=merchant_id, settlement_id=settlement_id), File(file)
    )
    settlement = Settlement(
        settlement_id=settlement_id,
        merchant_id=merchant_id,
        status=SettlementStatus.QUEUED,
        filename=(filename or "settlement.csv")[-200:],
        storage_name=storage_name,
        sha256=sha256,
        size=size,
        rows_total=rows,
        rows_processed=0,
        period_start=start,
        period_end=end,
        period_given=start is not None,
        uploaded_by=f"{actor.type}:{actor.id}",
        source=source,
        created=at,
        resolved_counts={},  # none resolved yet; absent only on settlements from before the counters
    )
    audit = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="settlement.upload",
        entity_type="settlement",
        entity_id=settlement_id,
        after={"filename": settlement.filename, "sha256": sha256, "size": size, "rows_total": rows, "source": source},
        at=at,
    )
    try:
        with TransactWrite(connection=dynamodb.connection()) as transaction:
            transaction.save(settlement, condition=Settlement.settlement_id.does_not_exist())
            transaction.save(
                SettlementKey(key=file_key(merchant_id=merchant_id, sha256=sha256), settlement_id=settlement_id),
                condition=SettlementKey.key.does_not_exist(),
            )
            transaction.save(audit, condition=audit_condition())
    except TransactWriteError:
        storage.delete(storage_name)
        existing = _existing(merchant_id=merchant_id, sha256=sha256)
        if existing is None:
            raise
        return Intake(settlement=existing, created=False)

    if enqueue:
        _enqueue(merchant_id=merchant_id, settlement_id=settlement_id)
    return Intake(settlement=Settlement.get(settlement_id, consistent_read=True), created=True)
