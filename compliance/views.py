"""Ops staff: the compliance report page and its downloads (HTML, JSON), each audited."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit.services import actor_from_request, audit_access_record
from compliance.report import compliance_report_run, report_html, report_json
from paysite.ops_views import staff_required


def _run(request: HttpRequest, action: str, detail: str):
    report = compliance_report_run(generated_by=request.user.get_username())
    audit_access_record(actor=actor_from_request(request), merchant_id=None, action=action, detail=detail)
    return report


@staff_required
@require_GET
def compliance_report_view(request: HttpRequest) -> HttpResponse:
    report = _run(request, "compliance.report_view", "page")
    return render(request, "compliance/report.html", {"report": report})


@staff_required
@require_GET
def compliance_report_download(request: HttpRequest, fmt: str) -> HttpResponse:
    report = _run(request, "compliance.report_download", fmt)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if fmt == "json":
        response = HttpResponse(report_json(report), content_type="application/json")
    else:
        response = HttpResponse(report_html(report), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="paysite-compliance-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
