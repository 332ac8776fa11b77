"""Payment pages: thin views over selectors."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from paysite.errors import NotFound
from paysite.tenancy import merchant_required
from payments import selectors


@merchant_required()
def payment_list(request: HttpRequest) -> HttpResponse:
    merchant_id = request.tenant.merchant_id
    try:
        page = selectors.payment_list_for_merchant(
            merchant_id=merchant_id,
            limit=25,
            starting_after=request.GET.get("starting_after") or None,
            status=request.GET.get("status") or None,
        )
    except NotFound as error:
        raise Http404(str(error)) from error
    template = "payments/payment_list.html#payment-table" if request.htmx else "payments/payment_list.html"
    return render(request, template, {"page": page, "status": request.GET.get("status", "")})


@merchant_required()
def payment_detail(request: HttpRequest, payment_id: str) -> HttpResponse:
    try:
        payment = selectors.payment_get(merchant_id=request.tenant.merchant_id, payment_id=payment_id)
    except NotFound as error:
        raise Http404(str(error)) from error
    ledger = selectors.transaction_list_for_payment(payment_id=payment.payment_id)
    return render(request, "payments/payment_detail.html", {"payment": payment, "ledger": ledger})
