"""The home page: the current merchant's payments at a glance (`dashboard.overview`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.pages import render_page, wants_fragment
from dashboard.overview import dashboard_for_merchant
from merchants.selectors import merchant_get
from merchants.tenancy import merchant_required
from payments import selectors


@merchant_required()
def home(request: HttpRequest) -> HttpResponse:
    merchant = merchant_get(merchant_id=request.tenant.merchant_id)
    board = dashboard_for_merchant(
        merchant_id=merchant.merchant_id,
        today=timezone.now().date(),
        currency=(request.GET.get("currency") or "").lower() or None,
        default_currency=merchant.default_currency,
    )
    context = {"merchant": merchant, "board": board}
    if not wants_fragment(request):  # the currency tabs swap the overview only
        context["latest"] = selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id, limit=10).items
    return render_page(request, "home.html", "overview", context)
