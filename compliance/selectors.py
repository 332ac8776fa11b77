"""Reads of the stored compliance runs (`compliance.models`)."""

from __future__ import annotations

from compliance.models import ComplianceRun, RunStatus


def compliance_run_latest() -> ComplianceRun | None:
    """The newest finished report, or None before the first."""
    return ComplianceRun.objects.filter(status=RunStatus.DONE).order_by("-finished_at", "-id").first()


def compliance_run_active() -> ComplianceRun | None:
    """The run that is queued or running, if any (there is at most one)."""
    return ComplianceRun.objects.filter(active=True).first()


def compliance_run_get(*, run_id: int) -> ComplianceRun | None:
    return ComplianceRun.objects.filter(pk=run_id).first()


def compliance_run_history(*, limit: int) -> list[ComplianceRun]:
    """The newest runs, finished or not, without their reports (the page lists them)."""
    return list(ComplianceRun.objects.defer("report", "audit_verified").order_by("-requested_at", "-id")[:limit])
