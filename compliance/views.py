"""Ops staff: the compliance report page and its downloads (HTML, JSON), each audited.

A report takes tens of seconds (it scans every table), so a download within `REUSE_MINUTES` of the
same user's page view is of the report that page showed, not a new run: what was seen is what is
kept. Otherwise, and on every page view, the checks run afresh."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit.services import audit_access_record
from compliance.report import Report, compliance_report_run, report_html, report_json
from core.actor import actor_from_request
from merchants.tenancy import staff_required

REUSE_MINUTES = 10


def _cache_key(request: HttpRequest) -> str:
    return f"compliance:last-report:{request.user.pk}"


def _run(request: HttpRequest, action: str, detail: str, *, reuse: bool = False) -> Report:
    report = cache.get(_cache_key(request)) if reuse else None
    if report is None:
        report = compliance_report_run(generated_by=request.user.get_username())
        cache.set(_cache_key(request), report, timeout=REUSE_MINUTES * 60)
    audit_access_record(actor=actor_from_request(request), merchant_id=None, action=action, detail=detail)
    return report


@staff_required
@require_GET
def compliance_report_view(request: HttpRequest) -> HttpResponse:
    report = _run(request, "compliance.report_view", "page")
    return render(request, "compliance/report.html", {"report": report, "reuse_minutes": REUSE_MINUTES})


@staff_required
@require_GET
def compliance_report_download(request: HttpRequest, fmt: str) -> HttpResponse:
    report = _run(request, "compliance.report_download", fmt, reuse=True)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if fmt == "json":
        response = HttpResponse(report_json(report), content_type="application/json")
    else:
        response = HttpResponse(report_html(report), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="paysite-compliance-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
