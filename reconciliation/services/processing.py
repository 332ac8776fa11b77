"""Processing a stored settlement file: stream it row by row in chunks of 500, match each line
against the merchant's payments, record lines, discrepancies and settlement ledger entries, and
save progress after every chunk.

Resumable without duplicates: every item written has a deterministic key (a line by its number, a
discrepancy by its line, a claim by its payment, a ledger entry by settlement and payment), a
payment is marked settled with a condition, and `rows_processed`, `counts` and `totals` move
together in one version-checked update after the chunk's writes. A run that dies mid-chunk
re-does that chunk and writes the same items again.

The rules live in `reconciliation.matching`, one chunk's work in `lines`, settling in `settling`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new, audit_record
from core import dynamodb
from core.actor import SYSTEM, Actor
from core.batch import batch_get, batch_put
from core.ids import now
from payments.selectors import payment_iter_captured_for_merchant
from reconciliation import csvfile
from reconciliation.enums import Kind, Phase, SettlementStatus
from reconciliation.errors import SettlementNotFound
from reconciliation.matching import claim_key, missing_in_file_verdict
from reconciliation.models import Payout, Settlement, SettlementKey
from reconciliation.representations import settlement_object
from reconciliation.services.lines import ClaimsSeen, Progress, chunk_process, discrepancy_for
from reconciliation.services.payouts import payouts_new
from reconciliation.storage import settlement_storage
from webhooks.services import webhook_event_condition, webhook_event_new
from webhooks.tasks import webhook_delivery_enqueue

logger = logging.getLogger(__name__)

CHUNK_ROWS = 1000  # rows a chunk: one lines item (its largest size: test_chunks.py), one progress save
MISSING_PAGE = 2000


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _progress_save(settlement: Settlement, progress: Progress, **more: Any) -> None:
    actions = [
        Settlement.counts.set(progress.counts),
        Settlement.totals.set(progress.totals),
        Settlement.payment_counts.set(progress.payment_counts),
        *(getattr(Settlement, name).set(value) for name, value in more.items()),
    ]
    if progress.period_start is not None:
        actions += [Settlement.period_start.set(progress.period_start), Settlement.period_end.set(progress.period_end)]
    settlement.update(actions=actions)  # version-checked: a second worker on the same file stops here


def _lines_phase(settlement: Settlement, progress: Progress) -> None:
    storage = settlement_storage()
    with storage.open(settlement.storage_name, "rb") as file:
        rows = csvfile.rows_read(file, skip=int(settlement.rows_processed))
        seen = ClaimsSeen(first_row=int(settlement.rows_processed) == 0)
        try:
            for rows_chunk in _chunks(rows, CHUNK_ROWS):
                at = now()
                chunk = chunk_process(settlement, rows_chunk, progress, at, seen)
                batch_put([*chunk.lines, *chunk.discrepancies, *chunk.claims])
                seen.add(chunk.claims)
                _progress_save(settlement, progress, rows_processed=int(settlement.rows_processed) + len(rows_chunk))
        finally:
            rows.close()


def _missing_phase(settlement: Settlement, progress: Progress) -> None:
    """`missing_in_file`: captured payments of the merchant created in the period that no line
    named. Read from the by-merchant-status index (captured statuses only, ULID key bounds, a few
    attributes, unsettled only: a payment settled by this file was named, one settled by another
    file is left alone); for the rest the claims tell. Saved every `MISSING_PAGE` of them with a
    resumable cursor."""
    if progress.period_start is None or progress.period_end is None:
        return
    start = datetime.combine(date.fromisoformat(progress.period_start), time.min, tzinfo=UTC)
    end = datetime.combine(date.fromisoformat(progress.period_end), time.min, tzinfo=UTC) + timedelta(days=1)
    sid = settlement.settlement_id
    payments = payment_iter_captured_for_merchant(
        merchant_id=settlement.merchant_id,
        created_gte=start,
        created_lt=end,
        after=settlement.missing_cursor,
        unsettled_only=True,
    )
    for page in _chunks(payments, MISSING_PAGE):
        unsettled = [p for _, p in page]
        named = {
            item.key.rsplit("#", 1)[1]
            for item in batch_get(
                [(SettlementKey, {"key": claim_key(settlement_id=sid, payment_id=p.payment_id)}) for p in unsettled]
            )
        }
        missing = []
        for payment in unsettled:
            if payment.payment_id in named:
                continue
            verdict = missing_in_file_verdict(payment)
            missing.append(discrepancy_for(settlement, verdict, line=None, payment_id=payment.payment_id))
        batch_put(missing)
        progress.counts[Kind.MISSING_IN_FILE] += len(missing)
        _progress_save(settlement, progress, missing_cursor=page[-1][0])


def settlement_process(*, merchant_id: str, settlement_id: str, actor: Actor = SYSTEM) -> Settlement:
    """Process (or resume processing) a settlement; a completed one is returned as it is."""
    settlement = Settlement.get(settlement_id, consistent_read=True) if settlement_id.startswith("set_") else None
    if settlement is None or settlement.merchant_id != merchant_id:
        raise SettlementNotFound(f"No settlement {settlement_id}.", param="id")
    if settlement.status == SettlementStatus.COMPLETED:
        return settlement

    resumed = int(settlement.rows_processed) > 0 or settlement.phase != Phase.LINES
    settlement.update(
        actions=[
            Settlement.status.set(SettlementStatus.PROCESSING),
            Settlement.error.remove(),
            Settlement.started.set(settlement.started or now()),
        ]
    )
    audit_record(
        merchant_id=merchant_id,
        actor=actor,
        action="settlement.processing_started",
        entity_type="settlement",
        entity_id=settlement_id,
        detail=f"resumed after row {settlement.rows_processed}" if resumed else None,
    )
    progress = Progress.of(settlement)
    try:
        if settlement.phase == Phase.LINES:
            _lines_phase(settlement, progress)
            _progress_save(settlement, progress, phase=Phase.MISSING)
        if settlement.phase == Phase.MISSING:
            _missing_phase(settlement, progress)
        _complete(settlement, progress, actor=actor)
    except Exception as error:
        logger.exception("settlement %s failed at row %s", settlement_id, settlement.rows_processed)
        _failed(settlement_id, error, actor=actor)
        raise
    return settlement


def _failed(settlement_id: str, error: Exception, *, actor: Actor) -> None:
    try:
        settlement = Settlement.get(settlement_id, consistent_read=True)
        settlement.update(
            actions=[
                Settlement.status.set(SettlementStatus.FAILED),
                Settlement.error.set(str(error)[:500] or type(error).__name__),
            ]
        )
        audit_record(
            merchant_id=settlement.merchant_id,
            actor=actor,
            action="settlement.processing_finished",
            entity_type="settlement",
            entity_id=settlement_id,
            outcome="failure",
            detail=f"{type(error).__name__}: {str(error)[:300]}",
        )
    except Exception:  # the original error matters more; the settlement stays resumable
        logger.exception("settlement %s: could not record the failure", settlement_id)


def settlement_completed_webhook(*, settlement: Settlement, at: datetime) -> Any:
    """The `settlement.completed` event (API.md, Webhooks) for the completing transaction: a pending
    delivery, or None when the merchant has no webhook URL."""
    return webhook_event_new(
        merchant_id=settlement.merchant_id,
        event_type="settlement.completed",
        entity_id=settlement.settlement_id,
        data_object=settlement_object(settlement),
        at=at,
    )


def _complete(settlement: Settlement, progress: Progress, *, actor: Actor) -> None:
    """Completed, its audit event and its webhook event in one transaction, then the delivery is queued."""
    at = now()
    settlement.status, settlement.completed, settlement.phase = SettlementStatus.COMPLETED, at, Phase.DONE
    settlement.counts, settlement.totals = progress.counts, progress.totals
    settlement.period_start, settlement.period_end = progress.period_start, progress.period_end
    delivery = settlement_completed_webhook(settlement=settlement, at=at)
    actions = [
        Settlement.status.set(SettlementStatus.COMPLETED),
        Settlement.completed.set(at),
        Settlement.phase.set(Phase.DONE),
        Settlement.counts.set(progress.counts),
        Settlement.totals.set(progress.totals),
        Settlement.payment_counts.set(progress.payment_counts),
    ]
    payouts = payouts_new(settlement, progress, at=at)
    event = audit_event_new(
        merchant_id=settlement.merchant_id,
        actor=actor,
        action="settlement.processing_finished",
        entity_type="settlement",
        entity_id=settlement.settlement_id,
        after={
            "rows_processed": int(settlement.rows_processed),
            "counts": progress.counts,
            "totals": progress.totals,
            "payouts": [payout.payout_id for payout in payouts],
        },
        at=at,
    )
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.update(settlement, actions=actions)
        transaction.save(event, condition=audit_condition())
        for payout in payouts:
            transaction.save(payout, condition=Payout.payout_id.does_not_exist())
        if delivery is not None:
            transaction.save(delivery, condition=webhook_event_condition())
    if delivery is not None:
        webhook_delivery_enqueue(delivery=delivery)
