"""Settlement pages: thin views over the reconciliation selectors and services.

The detail page polls its progress fragment with htmx while the file is processed; when it is done
the fragment answers `HX-Refresh` and the page reloads with totals and discrepancies."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from audit.services import audit_record
from core.actor import actor_from_request
from core.errors import DomainError, NotFound
from core.pages import render_page, wants_fragment
from core.roles import Role
from merchants.tenancy import merchant_required
from payments import selectors as payment_selectors
from reconciliation import selectors, services
from reconciliation.enums import Kind, SettlementStatus
from reconciliation.errors import SettlementNotFound
from reconciliation.exports import discrepancy_csv
from reconciliation.representations import settlement_object

LIST = "reconciliation/settlement_list.html"
DETAIL = "reconciliation/settlement_detail.html"
FORM = "reconciliation/settlement_form.html"
PROGRESS = "settlement-progress"  # the progress fragment, polled while the file is processed
POLL_SECONDS = 10 * 60  # a page polls its progress this long at most, then asks for a reload
DISCREPANCIES = "discrepancy-table"
PAGE_SIZE = 25
KINDS = frozenset(Kind)  # a `kind` of the query string is one of these ("fee_mismatch" in KINDS)


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
    rows = [(s, _open_and_resolved(selectors.discrepancy_tally(s))) for s in page.items]
    return render_page(
        request,
        LIST,
        "settlement-table",
        {"page": page, "rows": rows, "section": "settlements", "may_upload": request.tenant.allows(Role.OPERATOR)},
    )


def _open_and_resolved(tally: list[selectors.KindTally]) -> dict[str, int]:
    return {"open": sum(t.open for t in tally), "resolved": sum(t.resolved for t in tally)}


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
    elif intake.requeued:
        messages.info(
            request,
            f"This file was uploaded before ({settlement.filename}) and its processing failed, so it is processed "
            "again from where it stopped.",
        )
    else:
        messages.info(request, f"This file was uploaded before ({settlement.filename}); here is its settlement.")
    return redirect("reconciliation:settlement-detail", settlement_id=settlement.settlement_id)


def _detail_context(request: HttpRequest, settlement_id: str) -> dict[str, Any]:
    merchant_id = request.tenant.merchant_id
    kind = request.GET.get("kind") or None
    try:
        settlement = selectors.settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)
        kind = selectors.kind_check(kind) if kind in KINDS else None
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
    tally = selectors.discrepancy_tally(settlement)
    return {
        "section": "settlements",
        "settlement": settlement,
        "data": data,
        "percent": min(100, int(settlement.rows_processed) * 100 // total),
        "running": settlement.status in (SettlementStatus.QUEUED, SettlementStatus.PROCESSING),
        "page": page,
        "kind": kind or "",
        "kinds": [(t.kind.value, t.kind.label, t.total) for t in tally],
        "tally": tally,
        "kind_tally": next((t for t in tally if t.kind == kind), None),
        "totals_open": _open_and_resolved(tally),
        "may_resolve": request.tenant.allows(Role.OPERATOR),
    }


def _poll_since(request: HttpRequest, *, polling: bool, now: int) -> int:
    """When the page began polling (Unix seconds): now for a page load; for a poll, the `since` the page
    sent back. A missing, malformed or future value stops the polling. The page controls only its own
    polling: polls never keep a session alive (`core.middleware`)."""
    if not polling:
        return now
    since = request.GET.get("since", "")
    return int(since) if re.fullmatch(r"[0-9]{1,12}", since) and int(since) <= now else 0


@merchant_required()
def settlement_detail(request: HttpRequest, settlement_id: str) -> HttpResponse:
    context = _detail_context(request, settlement_id)
    polling = wants_fragment(request) and request.htmx.target == PROGRESS
    if polling and not context["running"]:
        response = HttpResponse(status=200)
        response["HX-Refresh"] = "true"  # done: the whole page again, with totals and discrepancies
        return response
    now = int(timezone.now().timestamp())
    context["poll_since"] = since = _poll_since(request, polling=polling, now=now)
    context["poll"] = context["running"] and now - since < POLL_SECONDS  # else: stopped, reload to see more
    # htmx asks for the progress (polling) or the discrepancies (the kind filter, the next page).
    return render_page(request, DETAIL, PROGRESS if polling else DISCREPANCIES, context)


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
    currency_of = _payment_currencies(request.tenant.merchant_id)
    response = StreamingHttpResponse(
        discrepancy_csv(items, currency_of=currency_of), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{settlement_id}-discrepancies.csv"'
    return response


def _payment_currencies(merchant_id: str) -> Callable[[str], str | None]:
    """payment id -> its currency, one read per payment named by an amount discrepancy (remembered)."""
    known: dict[str, str | None] = {}

    def currency_of(payment_id: str) -> str | None:
        if payment_id not in known:
            try:
                known[payment_id] = payment_selectors.payment_get(
                    merchant_id=merchant_id, payment_id=payment_id
                ).currency
            except NotFound:
                known[payment_id] = None
        return known[payment_id]

    return currency_of


def _back(settlement_id: str, kind: str | None, anchor: str = "") -> str:
    back = reverse("reconciliation:settlement-detail", kwargs={"settlement_id": settlement_id})
    return f"{back}?kind={kind}{anchor}" if kind in KINDS else f"{back}{anchor}"


@require_POST
@merchant_required(Role.OPERATOR)
def discrepancy_resolve(request: HttpRequest, settlement_id: str, discrepancy_id: str) -> HttpResponse:
    """One discrepancy. With htmx the answer is its row, resolved in place (or with the reason's error),
    and the counts out of band; without, a redirect back to the page with a message."""
    error = None
    try:
        services.discrepancy_resolve(
            merchant_id=request.tenant.merchant_id,
            settlement_id=settlement_id,
            discrepancy_id=discrepancy_id,
            actor=actor_from_request(request),
            reason=request.POST.get("reason", ""),
        )
    except NotFound as problem:
        raise Http404(str(problem)) from problem
    except DomainError as problem:
        error = problem.detail
    if wants_fragment(request):
        return _resolved_row(request, settlement_id, discrepancy_id, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{discrepancy_id} is marked resolved.")
    return redirect(_back(settlement_id, request.POST.get("kind"), f"#d-{discrepancy_id}"))


def _resolved_row(request: HttpRequest, settlement_id: str, discrepancy_id: str, *, error: str | None) -> HttpResponse:
    merchant_id = request.tenant.merchant_id
    settlement = selectors.settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)
    tally = selectors.discrepancy_tally(settlement)
    kind = request.POST.get("kind")
    context = {
        "settlement": settlement,
        "d": selectors.discrepancy_get(
            merchant_id=merchant_id, settlement_id=settlement_id, discrepancy_id=discrepancy_id
        ),
        "kind": kind if kind in KINDS else "",
        "may_resolve": True,
        "row_error": error,
        "reason": request.POST.get("reason", ""),
        "tally": tally,
        "totals_open": _open_and_resolved(tally),
        "oob": True,
    }
    row = render_to_string(f"{DETAIL}#discrepancy-row", context, request=request)
    counts = render_to_string(f"{DETAIL}#outcome-counts", context, request=request)
    # The counts go out of band inside a <template>: after a <tr> the HTML parser would take a <div> apart.
    response = HttpResponse(f"{row}<template>{counts}</template>")
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_POST
@merchant_required(Role.OPERATOR)
def discrepancy_resolve_bulk(request: HttpRequest, settlement_id: str) -> HttpResponse:
    """Many at once with one reason: the selected ones (`scope=selected`, `discrepancy_id` repeated) or
    every open one of `kind` (`scope=kind`). Answers with a redirect back and a message of the outcome."""
    kind = request.POST.get("kind") or None
    scope = request.POST.get("scope", "selected")
    try:
        outcome = services.discrepancy_resolve_bulk(
            merchant_id=request.tenant.merchant_id,
            settlement_id=settlement_id,
            actor=actor_from_request(request),
            reason=request.POST.get("reason", ""),
            kind=kind,
            discrepancy_ids=None if scope == "kind" else request.POST.getlist("discrepancy_id"),
        )
    except SettlementNotFound as problem:
        raise Http404(str(problem)) from problem
    except DomainError as problem:
        messages.error(request, problem.detail)
    else:
        what = f"“{Kind(kind).label}” discrepancies" if scope == "kind" and kind in KINDS else "discrepancies"
        if outcome.resolved:
            messages.success(request, f"Resolved {outcome.resolved:,} {what}, each with its own audit event.")
        if outcome.already:
            messages.info(request, f"{outcome.already:,} were already resolved, so they were left as they were.")
        if not outcome.resolved and not outcome.already:
            messages.info(request, f"No open {what} to resolve.")
    return redirect(_back(settlement_id, kind))
