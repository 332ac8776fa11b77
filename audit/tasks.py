"""The hourly sealing job (django-tasks, run by `manage.py db_worker`).

django-tasks has no periodic scheduler, so the job queues its own next run for five minutes past the
next hour (`audit schedule` queues the first). Where the worker cannot defer (tests' immediate
backend) the job just runs. In AWS, an EventBridge schedule running `manage.py audit seal` hourly
does the same job; both may run: a seal is written only where none exists. A partition whose run was
refused (its chain no longer reaches its anchored head, or events older than the grace window) is
logged as an error; `audit verify` names it too."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django_tasks import default_task_backend, task

from audit import integrity
from audit.selectors import audit_partition_list
from audit.services import audit_seal_run
from core.scheduling import schedule_once

logger = logging.getLogger(__name__)

SEAL_DELAY = timedelta(minutes=5)  # sealing waits this long after an hour closes for late writes


def _next_run(now: datetime) -> datetime:
    return integrity.hour_floor(now) + integrity.HOUR + SEAL_DELAY


@task()
def audit_seal_task(*, reschedule: bool = True) -> int:
    now = datetime.now(UTC)
    runs = audit_seal_run(partitions=audit_partition_list(), through=integrity.last_closed_hour(now=now - SEAL_DELAY))
    for run in runs:
        if run.refused:
            logger.error("audit seal: %s: %s", run.partition, run.note)
    if reschedule and default_task_backend.supports_defer:
        schedule_once(audit_seal_task, run_after=_next_run(now), reschedule=True)  # a re-armed chain stays one
    return sum(run.seals for run in runs)


def audit_seal_schedule() -> datetime | None:
    """Queue the self-rescheduling job unless one is already waiting; the time it will run, or None."""
    if not default_task_backend.supports_defer:
        audit_seal_task.enqueue(reschedule=False)
        return datetime.now(UTC)
    when = _next_run(datetime.now(UTC))
    return when if schedule_once(audit_seal_task, run_after=when, reschedule=True) else None
