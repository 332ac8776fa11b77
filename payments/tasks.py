"""The recovery tasks (django-tasks, run by `manage.py db_worker`) for payments a processor timeout
left `processing`.

A timeout queues `payment_recover_task` for its payment `RECOVERY_DELAY` later. When the processor
still cannot answer, the task queues itself again, waiting twice as long each time, for at most
`RECOVERY_ATTEMPTS` attempts. Whatever is left (or was never queued) is resolved by the sweep,
`payment_recover_sweep_task`, which runs `payments recover` every `SWEEP_INTERVAL` and queues its own
next run; `manage.py payments schedule` queues the first (`make run` does). In AWS an EventBridge
rule running `manage.py payments recover` does the same. Where the task backend cannot defer (the
tests' immediate backend), nothing is queued: the command is the way there.

`authorization_expiry_sweep_task` voids and cancels the authorizations left uncaptured for 7 days
(`payments.services.expiry`) every `EXPIRY_INTERVAL`, queuing its own next run the same way
(`TASKS_PERIODIC` names its schedule function); in AWS the `AuthorizationExpiry` function's schedule
runs it (`paysite.sam.functions`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django_tasks import task

from core.scheduling import schedule_once
from payments.models import Payment
from payments.services.expiry import authorization_expire_due
from payments.services.recovery import STILL_PROCESSING, payment_recover, payment_recover_all
from payments.services.refund_requests import refund_request_expire_due

logger = logging.getLogger(__name__)

RECOVERY_DELAY = timedelta(seconds=30)
RECOVERY_ATTEMPTS = 6  # 30 s, 1, 2, 4, 8, 16 min after the timeout
SWEEP_INTERVAL = timedelta(minutes=5)
EXPIRY_INTERVAL = timedelta(minutes=15)  # an expired authorization is canceled within this of its expiry


@task()
def payment_recover_task(merchant_id: str, payment_id: str, attempt: int) -> str:
    status = payment_recover(merchant_id=merchant_id, payment_id=payment_id)
    if status == STILL_PROCESSING and attempt + 1 < RECOVERY_ATTEMPTS:
        _enqueue(merchant_id, payment_id, attempt + 1)
    return status


@task()
def payment_recover_sweep_task(*, reschedule: bool = True) -> dict[str, int]:
    """Resolve every `processing` payment of every merchant, then queue the next sweep (also when
    this one failed: the chain must not end with a storage outage)."""
    try:
        report = payment_recover_all()
        _refund_requests_expire()
    finally:
        if reschedule:
            payment_recover_sweep_schedule()
    return {
        "checked": report.checked,
        "resolved": report.resolved_total,
        "still_processing": len(report.still_processing),
    }


def _refund_requests_expire() -> None:
    """The same sweep expires the refund requests nobody decided within their lifetime, releasing
    what they held on their payments (they read as expired already; this frees the room)."""
    try:
        expired = refund_request_expire_due()
    except Exception:
        logger.exception("refund requests: the expiry sweep failed; the next sweep tries again")
        return
    if expired:
        logger.info("refund requests: %d expired", expired)


def payment_recover_sweep_schedule() -> datetime | None:
    """Queue the next sweep unless one is already waiting; when it will run, or None."""
    when = datetime.now(UTC) + SWEEP_INTERVAL
    return when if schedule_once(payment_recover_sweep_task, run_after=when, reschedule=True) else None


def payment_recovery_enqueue(*, payment: Payment) -> bool:
    """Queue the first recovery attempt. Never raises: the payment is stored as `processing` already,
    so a failed enqueue leaves it to `payments recover` and loses nothing."""
    return _enqueue(payment.merchant_id, payment.payment_id, 0)


def _enqueue(merchant_id: str, payment_id: str, attempt: int) -> bool:
    try:
        if not payment_recover_task.get_backend().supports_defer:
            return False
        run_after = datetime.now(UTC) + RECOVERY_DELAY * 2**attempt
        payment_recover_task.using(run_after=run_after).enqueue(merchant_id, payment_id, attempt)
    except Exception:
        logger.exception("payment %s: could not queue its recovery; `payments recover` will resolve it", payment_id)
        return False
    return True


@task()
def authorization_expiry_sweep_task(*, reschedule: bool = True) -> dict[str, int]:
    """Void and cancel the authorizations past their 7 days, then queue the next sweep (also when this
    one failed: the chain must not end with a storage outage)."""
    try:
        report = authorization_expire_due()
    finally:
        if reschedule:
            authorization_expiry_sweep_schedule()
    if report.expired:
        logger.info("authorizations: %d expired", len(report.expired))
    return report.as_dict()


def authorization_expiry_sweep_schedule() -> datetime | None:
    """Queue the next expiry sweep unless one is already waiting; when it will run, or None."""
    if not authorization_expiry_sweep_task.get_backend().supports_defer:
        return None
    when = datetime.now(UTC) + EXPIRY_INTERVAL
    return when if schedule_once(authorization_expiry_sweep_task, run_after=when, reschedule=True) else None
