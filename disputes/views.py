"""Dispute pages: the list (counts by status, days left to respond), a dispute's page (its timeline,
evidence text and files, accept), and the ops form that opens a dispute on a payment. Thin views
over the disputes selectors and services; every form posts without JavaScript."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.selectors import audit_event_list_for_entity
from core.actor import actor_from_request
from core.errors import DomainError, NotFound
from core.pages import render_page
from core.roles import Role
from disputes import selectors, services
from disputes.enums import OPEN_STATUSES, DisputeStatus
from disputes.forms import REASON_LABELS, STATUS_LABELS, DisputeOpenForm, EvidenceFileForm, EvidenceForm
from disputes.models import Dispute
from disputes.storage import evidence_storage
from merchants.tenancy import merchant_required
from payments.selectors import payment_get

LIST = "disputes/dispute_list.html"
DETAIL = "disputes/dispute_detail.html"
OPEN = "disputes/dispute_open.html"
PAGE_SIZE = 25
STATUSES = frozenset(DisputeStatus)


def days_left(dispute: Dispute, now: datetime) -> int | None:
    """Whole days left to respond (0 on the last day); None once evidence is no longer taken."""
    if dispute.status != DisputeStatus.NEEDS_RESPONSE:
        return None
    return max(0, (dispute.evidence_due_by - now).days)


@merchant_required()
def dispute_list(request: HttpRequest) -> HttpResponse:
    merchant_id = request.tenant.merchant_id
    status = request.GET.get("status") or None
    status = status if status in STATUSES else None
    try:
        page = selectors.dispute_list_for_merchant(
            merchant_id=merchant_id,
            limit=PAGE_SIZE,
            starting_after=request.GET.get("starting_after") or None,
            status=status,
        )
    except NotFound as error:
        raise Http404(str(error)) from error
    now = timezone.now()
    rows = [{"dispute": dispute, "days_left": days_left(dispute, now)} for dispute in page.items]
    return render_page(
        request,
        LIST,
        "dispute-table",
        {
            "section": "disputes",
            "page": page,
            "rows": rows,
            "status": status or "",
            "counts": selectors.dispute_counts(merchant_id=merchant_id),
            "reason_labels": REASON_LABELS,
            "status_labels": STATUS_LABELS,
        },
    )


def _dispute_or_404(request: HttpRequest, dispute_id: str) -> Dispute:
    try:
        return selectors.dispute_get(merchant_id=request.tenant.merchant_id, dispute_id=dispute_id)
    except NotFound as error:
        raise Http404(str(error)) from error


def _detail(request: HttpRequest, dispute: Dispute, *, status: int = 200, **overrides: Any) -> HttpResponse:
    timeline = list(
        reversed(audit_event_list_for_entity(merchant_id=request.tenant.merchant_id, entity_id=dispute.dispute_id))
    )
    evidence = dispute.evidence
    context = {
        "section": "disputes",
        "dispute": dispute,
        "days_left": days_left(dispute, timezone.now()),
        "is_open": dispute.status in OPEN_STATUSES,
        "takes_evidence": dispute.status == DisputeStatus.NEEDS_RESPONSE,
        "may_act": request.tenant.allows(Role.OPERATOR),
        "timeline": timeline,
        "files": list(evidence.files or []) if evidence is not None else [],
        "evidence_form": EvidenceForm(initial={"text": evidence.text if evidence is not None else ""}),
        "file_form": EvidenceFileForm(),
        "reason_labels": REASON_LABELS,
        **overrides,
    }
    return render(request, DETAIL, context, status=status)


@merchant_required()
def dispute_detail(request: HttpRequest, dispute_id: str) -> HttpResponse:
    return _detail(request, _dispute_or_404(request, dispute_id))


@require_POST
@merchant_required(Role.OPERATOR)
def dispute_evidence(request: HttpRequest, dispute_id: str) -> HttpResponse:
    dispute = _dispute_or_404(request, dispute_id)
    form = EvidenceForm(request.POST)
    submit = request.POST.get("action") == "submit"
    if not form.is_valid():
        return _detail(request, dispute, status=422, evidence_form=form, error="Check the evidence text.")
    try:
        services.dispute_evidence_update(
            merchant_id=request.tenant.merchant_id,
            dispute_id=dispute.dispute_id,
            actor=actor_from_request(request),
            text=form.cleaned_data["text"],
            submit=submit,
        )
    except DomainError as error:
        return _detail(
            request, _dispute_or_404(request, dispute_id), status=422, evidence_form=form, error=error.detail
        )
    messages.success(
        request,
        "The evidence was submitted: the processor reviews it." if submit else "The evidence was saved as a draft.",
    )
    return redirect("disputes:dispute-detail", dispute_id=dispute.dispute_id)


@require_POST
@merchant_required(Role.OPERATOR)
def dispute_evidence_file(request: HttpRequest, dispute_id: str) -> HttpResponse:
    dispute = _dispute_or_404(request, dispute_id)
    form = EvidenceFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, dispute, status=422, file_form=form, error="Choose a file to add.")
    upload = form.cleaned_data["file"]
    try:
        services.dispute_evidence_file_add(
            merchant_id=request.tenant.merchant_id,
            dispute_id=dispute.dispute_id,
            actor=actor_from_request(request),
            upload=upload,
        )
    except DomainError as error:
        return _detail(request, dispute, status=422, file_form=form, error=f"{upload.name}: {error.detail}")
    messages.success(request, f"{upload.name} was added to the evidence.")
    return redirect("disputes:dispute-detail", dispute_id=dispute.dispute_id)


@merchant_required()
def dispute_evidence_file_download(request: HttpRequest, dispute_id: str, file_id: str) -> HttpResponse:
    dispute = _dispute_or_404(request, dispute_id)
    try:
        file = selectors.evidence_file_get(dispute=dispute, file_id=file_id)
    except NotFound as error:
        raise Http404(str(error)) from error
    response = FileResponse(
        evidence_storage().open(file.storage_name, "rb"),
        content_type=file.content_type,
        as_attachment=True,
        filename=file.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@merchant_required(Role.OPERATOR)
def dispute_accept(request: HttpRequest, dispute_id: str) -> HttpResponse:
    dispute = _dispute_or_404(request, dispute_id)
    if request.POST.get("confirm") != "yes":
        return _detail(request, dispute, status=422, error="Tick the box to confirm that you accept the dispute.")
    try:
        services.dispute_accept(
            merchant_id=request.tenant.merchant_id, dispute_id=dispute.dispute_id, actor=actor_from_request(request)
        )
    except DomainError as error:
        return _detail(request, _dispute_or_404(request, dispute_id), status=409, error=error.detail)
    messages.info(request, "The dispute was accepted: it is closed as lost.")
    return redirect("disputes:dispute-detail", dispute_id=dispute.dispute_id)


@merchant_required()
def dispute_open(request: HttpRequest, payment_id: str) -> HttpResponse:
    """Ops staff open a dispute on a captured payment of the merchant they act for (simulating the
    processor)."""
    if not request.tenant.is_staff:
        raise PermissionDenied("Only ops staff can open a dispute.")
    merchant_id = request.tenant.merchant_id
    try:
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
    except NotFound as error:
        raise Http404(str(error)) from error
    form = DisputeOpenForm(request.POST or None, currency=payment.currency)
    context: dict[str, Any] = {"section": "payments", "payment": payment, "form": form}
    if request.method != "POST":
        return render(request, OPEN, context)
    if not form.is_valid():
        return render(request, OPEN, {**context, "error": "Check the highlighted field."}, status=422)
    try:
        dispute = services.dispute_open(
            merchant_id=merchant_id,
            payment_id=payment.payment_id,
            actor=actor_from_request(request),
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        return render(request, OPEN, {**context, "error": error.detail}, status=422)
    messages.success(request, f"Dispute {dispute.dispute_id} was opened on {payment.payment_id}.")
    return redirect("disputes:dispute-detail", dispute_id=dispute.dispute_id)
