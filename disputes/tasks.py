"""The disputes tasks (django-tasks, run by `manage.py db_worker`).

- The sandbox processor opens a dispute on payments made with its dispute card: payments calls
  `dispute_after_capture` after every capture (the hook `disputes.apps` registers), which queues
  `dispute_open_task` a few seconds later (at once where the backend cannot defer: the tests').
- `disputes_sweep_task` applies the processor's decisions (`disputes.services.disputes_sweep`) every
  `SWEEP_INTERVAL` and queues its own next run; `TASKS_PERIODIC` names its schedule function, and in
  AWS a schedule runs it (`paysite.sam.functions`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django_tasks import default_task_backend, task

from core.scheduling import schedule_once
from disputes.errors import InvalidDisputeState
from disputes.services import PROCESSOR, dispute_open, disputes_sweep
from payments.models import Payment
from sandbox.cards import card_opens_dispute

logger = logging.getLogger(__name__)

OPEN_DELAY = timedelta(seconds=5)  # the processor opens its dispute this long after the capture
SWEEP_INTERVAL = timedelta(minutes=1)


@task()
def dispute_open_task(merchant_id: str, payment_id: str) -> str | None:
    """The processor's chargeback on a payment made with the dispute card: the full amount, reason
    `fraudulent`. A payment that has its dispute already (the task ran twice) is left alone."""
    try:
        dispute = dispute_open(merchant_id=merchant_id, payment_id=payment_id, actor=PROCESSOR)
    except InvalidDisputeState as error:
        logger.info("payment %s: no dispute opened: %s", payment_id, error.detail)
        return None
    return dispute.dispute_id


def dispute_after_capture(payment: Payment) -> bool:
    """Queue the processor's dispute when `payment` was made with the sandbox dispute card; whether it
    queued one. Never raises (payments swallows it anyway): the capture stands whatever happens here."""
    card = getattr(payment, "card", None)
    if not card_opens_dispute(fingerprint=getattr(card, "fingerprint", None)):
        return False
    try:
        if dispute_open_task.get_backend().supports_defer:
            dispute_open_task.using(run_after=datetime.now(UTC) + OPEN_DELAY).enqueue(
                payment.merchant_id, payment.payment_id
            )
        else:
            dispute_open_task.enqueue(payment.merchant_id, payment.payment_id)
    except Exception:
        logger.exception("payment %s: could not queue the processor's dispute", payment.payment_id)
        return False
    return True


@task()
def disputes_sweep_task(*, reschedule: bool = True) -> dict[str, int]:
    """Decide the disputes that are due, then queue the next sweep (also when this one failed)."""
    try:
        report = disputes_sweep()
    finally:
        if reschedule:
            disputes_sweep_schedule()
    return {"checked": report.checked, "won": report.won, "lost": report.lost, "failed": report.failed}


def disputes_sweep_schedule() -> datetime | None:
    """Queue the next sweep unless one is already waiting; when it will run, or None."""
    if not default_task_backend.supports_defer:
        return None
    when = datetime.now(UTC) + SWEEP_INTERVAL
    return when if schedule_once(disputes_sweep_task, run_after=when, reschedule=True) else None
