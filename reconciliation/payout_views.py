"""Balance and payout pages: thin views over the payments' balance and the payout selectors.
Every member reads them (viewers included); nothing here writes but the export's audit event."""

from __future__ import annotations

from itertools import islice

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from audit.services import audit_record
from core.actor import actor_from_request
from core.errors import NotFound
from core.ids import is_id
from core.pages import render_page
from merchants.tenancy import merchant_required
from payments.balance import balance_get
from reconciliation import selectors
from reconciliation.payout_exports import payout_csv

PAGE_SIZE = 25
LINES_SHOWN = 200  # a payout page lists this many of its payments; the export has them all


@merchant_required()
def balance(request: HttpRequest) -> HttpResponse:
    merchant_id = request.tenant.merchant_id
    context = {
        "balances": balance_get(merchant_id=merchant_id),
        "payouts": selectors.payout_list_for_merchant(merchant_id=merchant_id, limit=5).items,
    }
    return render(request, "reconciliation/balance.html", context)


@merchant_required()
def payout_list(request: HttpRequest) -> HttpResponse:
    after = request.GET.get("starting_after") or None
    if after is not None and not is_id(after, "po"):
        raise Http404(f"No payout {after}.")
    page = selectors.payout_list_for_merchant(
        merchant_id=request.tenant.merchant_id, limit=PAGE_SIZE, starting_after=after
    )
    return render_page(request, "reconciliation/payout_list.html", "payout-table", {"page": page})


@merchant_required()
def payout_detail(request: HttpRequest, payout_id: str) -> HttpResponse:
    try:
        payout = selectors.payout_get(merchant_id=request.tenant.merchant_id, payout_id=payout_id)
    except NotFound as error:
        raise Http404(str(error)) from error
    lines = list(islice(selectors.payout_lines(payout=payout), LINES_SHOWN + 1))
    context = {"payout": payout, "lines": lines[:LINES_SHOWN], "more_lines": len(lines) > LINES_SHOWN}
    return render(request, "reconciliation/payout_detail.html", context)


@merchant_required()
def payout_export(request: HttpRequest, payout_id: str) -> HttpResponse:
    merchant_id = request.tenant.merchant_id
    try:
        payout = selectors.payout_get(merchant_id=merchant_id, payout_id=payout_id)
    except NotFound as error:
        raise Http404(str(error)) from error
    audit_record(
        merchant_id=merchant_id,
        actor=actor_from_request(request),
        action="payout.export",
        entity_type="payout",
        entity_id=payout.payout_id,
        detail=f"the payments of {payout.settlement_id} in {payout.currency}",
    )
    response = StreamingHttpResponse(
        payout_csv(payout, selectors.payout_lines(payout=payout)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{payout.payout_id}-payments.csv"'
    return response
