"""The recovery task (django-tasks, run by `manage.py db_worker`) for payments a processor timeout
left `processing`.

A timeout queues `payment_recover_task` for its payment `RECOVERY_DELAY` later. When the processor
still cannot answer, the task queues itself again, waiting twice as long each time, for at most
`RECOVERY_ATTEMPTS` attempts. `manage.py payments recover` resolves whatever is left; run it on a
schedule (cron, an EventBridge rule) so nothing depends on the queue. Where the task backend cannot
defer (the tests' immediate backend), nothing is queued: the command is the way there."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django_tasks import task

from payments.models import Payment
from payments.services.recovery import STILL_PROCESSING, payment_recover

logger = logging.getLogger(__name__)

RECOVERY_DELAY = timedelta(seconds=30)
RECOVERY_ATTEMPTS = 6  # 30 s, 1, 2, 4, 8, 16 min after the timeout


@task()
def payment_recover_task(merchant_id: str, payment_id: str, attempt: int) -> str:
    status = payment_recover(merchant_id=merchant_id, payment_id=payment_id)
    if status == STILL_PROCESSING and attempt + 1 < RECOVERY_ATTEMPTS:
        _enqueue(merchant_id, payment_id, attempt + 1)
    return status


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
