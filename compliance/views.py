"""Ops staff: the compliance report page, "Run now" and the downloads, each audited.

The page shows the newest stored report (`compliance.models.ComplianceRun`) with its age, never
running a check itself: the checks run in the task worker, on a schedule and on "Run now". While a
run is queued or running the page polls its progress (marked as a poll, so it keeps no session
alive: `core.middleware`) and stops by itself when the run ends or after `POLL_SECONDS`. Downloads
are of a stored report: the newest, or `?run=<id>` from the history."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audit.services import audit_access_record
from compliance.models import ComplianceRun
from compliance.report import report_html, report_json
from compliance.selectors import (
    compliance_run_active,
    compliance_run_get,
    compliance_run_history,
    compliance_run_latest,
)
from compliance.tasks import compliance_report_queue
from core.actor import actor_from_request
from core.pages import render_page, wants_fragment
from merchants.tenancy import staff_required

PAGE = "compliance/report.html"
PROGRESS = "compliance-progress"  # the progress fragment, polled while a run is queued or running
POLL_SECONDS = 10 * 60
HISTORY = 10


def stale_after() -> timedelta:
    """A stored report older than this is stale: the schedule should have replaced it twice."""
    return timedelta(minutes=2 * settings.COMPLIANCE_REPORT_INTERVAL_MINUTES)


def report_context(run: ComplianceRun | None) -> dict[str, Any]:
    """The stored report of `run` as the report templates read it."""
    if run is None or run.report is None:
        return {"report": None}
    age = timezone.now() - (run.finished_at or run.requested_at)
    return {"report": run.report, "run": run, "age": age, "stale": age > stale_after()}


def _poll_since(request: HttpRequest, *, polling: bool, now: int) -> int:
    """When the page began polling: now for a page load, else the `since` it sent back (a bad one stops it)."""
    if not polling:
        return now
    since = request.GET.get("since", "")
    return int(since) if re.fullmatch(r"[0-9]{1,12}", since) and int(since) <= now else 0


@staff_required
@require_GET
def compliance_report_view(request: HttpRequest) -> HttpResponse:
    active = compliance_run_active()
    polling = wants_fragment(request) and request.htmx.target == PROGRESS
    if polling and active is None:
        response = HttpResponse(status=200)
        response["HX-Refresh"] = "true"  # the run ended: the whole page again, with its report
        return response
    now = int(timezone.now().timestamp())
    since = _poll_since(request, polling=polling, now=now)
    context: dict[str, Any] = {
        "active": active,
        "poll_since": since,
        "poll": active is not None and now - since < POLL_SECONDS,
        "interval_minutes": settings.COMPLIANCE_REPORT_INTERVAL_MINUTES,
    }
    if not polling:
        latest = compliance_run_latest()
        context.update(report_context(latest), history=compliance_run_history(limit=HISTORY))
        audit_access_record(
            actor=actor_from_request(request),
            merchant_id=None,
            action="compliance.report_view",
            detail=f"report {latest.pk}" if latest else "no report yet",
        )
    return render_page(request, PAGE, PROGRESS, context)


@staff_required
@require_POST
def compliance_report_run_now(request: HttpRequest) -> HttpResponse:
    run, created = compliance_report_queue(requested_by=request.user.get_username(), actor=actor_from_request(request))
    if created:
        messages.success(request, "A new report is queued; this page follows its progress.")
    else:
        messages.info(request, f"A report is already {run.status} (asked by {run.requested_by}); no other was queued.")
    return redirect("compliance:report")


@staff_required
@require_GET
def compliance_report_download(request: HttpRequest, fmt: str) -> HttpResponse:
    wanted = request.GET.get("run", "")  # a run of the history; else the newest report
    run = (
        compliance_run_latest() if not wanted else compliance_run_get(run_id=int(wanted)) if wanted.isdigit() else None
    )
    if run is None or run.report is None:
        raise Http404("No stored report yet: run one from the compliance page.")
    audit_access_record(
        actor=actor_from_request(request),
        merchant_id=None,
        action="compliance.report_download",
        detail=f"{fmt} report {run.pk}",
    )
    stamp = re.sub(r"[^0-9T]", "", run.report["generated_at"]).replace("T", "-")
    if fmt == "json":
        response = HttpResponse(report_json(run.report), content_type="application/json")
    else:
        response = HttpResponse(report_html(run.report), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="paysite-compliance-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
