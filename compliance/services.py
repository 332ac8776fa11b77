"""Compliance runs: ask for one (the schedule, "Run now", the command), run it (the task worker),
keep the last `COMPLIANCE_REPORTS_KEPT`.

A request finds the active run when there is one, so a double click or a schedule firing during a
run queues nothing more (`ComplianceRun.active` is unique). A run whose worker stopped (no step for
`ABANDONED_AFTER`) is marked failed, so it does not block the next. Each run starts the audit chain's
verification where the previous finished run left it (`compliance.checks.check_audit_integrity`)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from compliance.checks import CHECKS
from compliance.models import ComplianceRun, RunStatus
from compliance.report import compliance_report_run
from compliance.selectors import compliance_run_active, compliance_run_latest
from core.actor import Actor

logger = logging.getLogger(__name__)

ABANDONED_AFTER = timedelta(minutes=15)  # a running check that takes longer than this is a dead worker's


def _abandoned_fail() -> int:
    now = timezone.now()
    return ComplianceRun.objects.filter(active=True, touched_at__lt=now - ABANDONED_AFTER).update(
        active=None,
        status=RunStatus.FAILED,
        finished_at=now,
        error=f"abandoned: no progress for {ABANDONED_AFTER.seconds // 60} minutes (its worker stopped)",
    )


def compliance_run_request(
    *, requested_by: str, trigger: str, actor: Actor | None = None
) -> tuple[ComplianceRun, bool]:
    """A new queued run, or the one already queued or running; whether it is new. The caller queues
    the task of a new run (`compliance.tasks`). Audited (`compliance.report_run`) when a person or the
    command asked (`actor`)."""
    _abandoned_fail()
    try:
        with transaction.atomic():
            run, created = ComplianceRun.objects.create(trigger=trigger, requested_by=requested_by), True
    except IntegrityError:  # another run is active (unique `active`)
        found = compliance_run_active()
        if found is None:  # it finished in between: ask again
            return compliance_run_request(requested_by=requested_by, trigger=trigger, actor=actor)
        run, created = found, False
    if actor is not None:
        audit_record(
            merchant_id=None,
            actor=actor,
            action="compliance.report_run",
            entity_type="compliance_report",
            entity_id=str(run.pk),
            detail="queued" if created else f"already {run.status}, requested by {run.requested_by}",
        )
    return run, created


def _progress(run_id: int, done: int, current: str) -> None:
    ComplianceRun.objects.filter(pk=run_id).update(checks_done=done, current=current, touched_at=timezone.now())


def _prune() -> int:
    keep = max(1, int(settings.COMPLIANCE_REPORTS_KEPT))
    old = (
        ComplianceRun.objects.filter(active__isnull=True)
        .order_by("-requested_at", "-id")
        .values_list("pk", flat=True)[keep:]
    )
    return ComplianceRun.objects.filter(pk__in=list(old)).delete()[0]


def compliance_run_execute(*, run_id: int) -> ComplianceRun | None:
    """Run the checks of the queued run `run_id` and store its report; None when the run is not
    queued (it ran already, or was abandoned). A crash is stored as a failed run."""
    now = timezone.now()
    if not ComplianceRun.objects.filter(pk=run_id, status=RunStatus.QUEUED, active=True).update(
        status=RunStatus.RUNNING, started_at=now, touched_at=now, checks_total=len(CHECKS)
    ):
        return None
    run = ComplianceRun.objects.get(pk=run_id)
    previous = compliance_run_latest()
    started = time.monotonic()
    try:
        report = compliance_report_run(
            generated_by=run.requested_by,
            audit_verified=previous.audit_verified if previous else {},
            progress=lambda done, total, current: _progress(run_id, done, current),
        )
    except Exception as error:
        logger.exception("compliance run %s failed", run_id)
        ComplianceRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, active=None, finished_at=timezone.now(), error=repr(error)[:2000]
        )
        raise
    run.report = report.as_dict()
    run.audit_verified = report.audit_verified
    run.status, run.active, run.finished_at = RunStatus.DONE, None, timezone.now()
    run.checks_done = run.checks_total = len(report.checks)
    run.current, run.seconds = "", round(time.monotonic() - started, 2)
    run.save()
    _prune()
    return run
