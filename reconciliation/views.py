"""Settlement pages: thin views over the reconciliation selectors and services.

The detail page polls its progress fragment with htmx while the file is processed; when it is done
the fragment answers `HX-Refresh` and the page reloads with totals and discrepancies."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit.services import audit_record
from core.actor import actor_from_request
from core.errors import DomainError, NotFound
from core.roles import Role
from merchants.tenancy import merchant_required
from reconciliation import selectors, services
from reconciliation.exports import discrepancy_csv
from reconciliation.representations import settlement_object

LIST = "reconciliation/settlement_list.html"
DETAIL = "reconciliation/settlement_detail.html"
FORM = "reconciliation/settlement_form.html"
PAGE_SIZE = 25
KIND_LABELS = {
    "missing_in_platform": "Missing in platform",
    "missing_in_file": "Missing in file",
    "amount_mismatch": "Amount mismatch",
    "currency_mismatch": "Currency mismatch",
    "status_mismatch": "Status mismatch",
    "duplicate_line": "Duplicate line",
    "fee_mismatch": "Fee mismatch",
    "invalid_row": "Invalid row",
}


@merchant_required()
def settlement_list(request: HttpRequest) -> HttpResponse:
    try:
        page = selectors.settlement_list_for_merchant(
            merchant_id=request.tenant.merchant_id,
            limit=PAGE_SIZE,
            starting_after=request.GET.get("starting_after") or None,
        )
    except NotFound as error:
        raise Http404(str(error)) from error
    template = f"{LIST}#settlement-table" if request.htmx else LIST
    return render(
        request,
        template,
        {"page": page, "section": "settlements", "may_upload": request.tenant.allows(Role.OPERATOR)},
    )


@merchant_required(Role.OPERATOR)
def settlement_upload(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"section": "settlements", "values": request.POST if request.method == "POST" else {}}
    if request.method != "POST":
        return render(request, FORM, context)
    upload = request.FILES.get("file")
    if upload is None:
        context["error"] = "Choose a settlement CSV file to upload."
        return render(request, FORM, context, status=422)
    try:
        intake = services.settlement_create(
            merchant_id=request.tenant.merchant_id,
            actor=actor_from_request(request),
            file=upload,
            filename=upload.name or "settlement.csv",
            period_start=request.POST.get("period_start") or None,
            period_end=request.POST.get("period_end") or None,
        )
    except DomainError as error:
        context["error"] = f"{upload.name}: {error.detail}"
        return render(request, FORM, context, status=422)
    settlement = intake.settlement
    if intake.created:
        messages.success(request, f"{settlement.filename} was uploaded: {settlement.rows_total:,} rows to reconcile.")
    else:
        messages.info(request, f"This file was uploaded before ({settlement.filename}); here is its settlement.")
    return redirect("reconciliation:settlement-detail", settlement_id=settlement.settlement_id)


def _detail_context(request: HttpRequest, settlement_id: str) -> dict[str, Any]:
    merchant_id = request.tenant.merchant_id
    kind = request.GET.get("kind") or None
    try:
        settlement = selectors.settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)
        kind = selectors.kind_check(kind) if kind in KIND_LABELS else None
        page = selectors.discrepancy_list(
            merchant_id=merchant_id,
            settlement_id=settlement_id,
            limit=PAGE_SIZE,
            starting_after=request.GET.get("starting_after") or None,
            kind=kind,
        )
    except NotFound as error:
        raise Http404(str(error)) from error
    data = settlement_object(settlement)
    total = int(settlement.rows_total) or 1
    return {
        "section": "settlements",
        "settlement": settlement,
        "data": data,
        "percent": min(100, int(settlement.rows_processed) * 100 // total),
        "running": settlement.status in ("queued", "processing"),
        "page": page,
        "kind": kind or "",
        "kinds": [(k, label, data["counts"].get(k, 0)) for k, label in KIND_LABELS.items()],
        "may_resolve": request.tenant.allows(Role.OPERATOR),
    }


@merchant_required()
def settlement_detail(request: HttpRequest, settlement_id: str) -> HttpResponse:
    context = _detail_context(request, settlement_id)
    if request.htmx and request.htmx.target == "settlement-progress":
        if not context["running"]:
            response = HttpResponse(status=200)
            response["HX-Refresh"] = "true"
            return response
        return render(request, f"{DETAIL}#settlement-progress", context)
    if request.htmx and request.htmx.target == "discrepancy-table":
        return render(request, f"{DETAIL}#discrepancy-table", context)
    return render(request, DETAIL, context)


@merchant_required()
def discrepancy_export(request: HttpRequest, settlement_id: str) -> StreamingHttpResponse:
    try:
        items = selectors.discrepancy_iter(
            merchant_id=request.tenant.merchant_id, settlement_id=settlement_id, kind=request.GET.get("kind") or None
        )
    except (NotFound, DomainError) as error:
        raise Http404(str(error)) from error
    audit_record(
        merchant_id=request.tenant.merchant_id,
        actor=actor_from_request(request),
        action="discrepancy.export",
        entity_type="settlement",
        entity_id=settlement_id,
        detail=request.GET.get("kind") or "all discrepancies",
    )
    response = StreamingHttpResponse(discrepancy_csv(items), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{settlement_id}-discrepancies.csv"'
    return response


@require_POST
@merchant_required(Role.OPERATOR)
def discrepancy_resolve(request: HttpRequest, settlement_id: str, discrepancy_id: str) -> HttpResponse:
    try:
        services.discrepancy_resolve(
            merchant_id=request.tenant.merchant_id,
            settlement_id=settlement_id,
            discrepancy_id=discrepancy_id,
            actor=actor_from_request(request),
            reason=request.POST.get("reason", ""),
        )
    except NotFound as error:
        raise Http404(str(error)) from error
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"{discrepancy_id} is marked resolved.")
    back = reverse("reconciliation:settlement-detail", kwargs={"settlement_id": settlement_id})
    kind = request.POST.get("kind")
    return redirect(f"{back}?kind={kind}#d-{discrepancy_id}" if kind in KIND_LABELS else f"{back}#d-{discrepancy_id}")
