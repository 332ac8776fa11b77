"""The compliance report's tasks (django-tasks, run by `manage.py db_worker`).

- `compliance_report_task`: the run that "Run now" queued (`compliance_report_queue`).
- `compliance_report_periodic_task`: a scheduled run every `COMPLIANCE_REPORT_INTERVAL_MINUTES`,
  which queues its own next run; `TASKS_PERIODIC` names its schedule function (the first run is
  queued at once when no report is stored yet). In AWS a schedule invokes the `Compliance` function
  (`paysite.sam.functions`), which runs `compliance_report_scheduled`.
Either finds the active run, if any, and then starts none of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django_tasks import default_task_backend, task

from compliance.models import ComplianceRun, RunTrigger
from compliance.selectors import compliance_run_latest
from compliance.services import compliance_run_execute, compliance_run_request
from core.actor import Actor
from core.scheduling import schedule_once

SCHEDULED_BY = "schedule"


@task()
def compliance_report_task(*, run_id: int) -> str | None:
    run = compliance_run_execute(run_id=run_id)
    return run.status if run else None


def compliance_report_queue(*, requested_by: str, actor: Actor) -> tuple[ComplianceRun, bool]:
    """ "Run now": a new run queued for the worker, or the one already queued or running; whether it is
    new. Audited either way."""
    run, created = compliance_run_request(requested_by=requested_by, trigger=RunTrigger.REQUEST, actor=actor)
    if created:
        compliance_report_task.enqueue(run_id=run.pk)
    return run, created


def compliance_report_scheduled() -> ComplianceRun | None:
    """A scheduled run, here and now, unless another run is active; the stored run, or None."""
    run, created = compliance_run_request(requested_by=SCHEDULED_BY, trigger=RunTrigger.SCHEDULE)
    return compliance_run_execute(run_id=run.pk) if created else None


@task()
def compliance_report_periodic_task(*, reschedule: bool = True) -> int | None:
    """A scheduled run, then the next one queued (also when this one failed)."""
    try:
        run = compliance_report_scheduled()
    finally:
        if reschedule:
            compliance_report_schedule()
    return run.pk if run else None


def compliance_report_schedule() -> datetime | None:
    """Queue the next scheduled run unless one is already waiting (at once when no report is stored
    yet); when it will run, or None."""
    if not default_task_backend.supports_defer:
        return None
    now = datetime.now(UTC)
    first = compliance_run_latest() is None
    when = now if first else now + timedelta(minutes=settings.COMPLIANCE_REPORT_INTERVAL_MINUTES)
    return when if schedule_once(compliance_report_periodic_task, run_after=when, reschedule=True) else None
