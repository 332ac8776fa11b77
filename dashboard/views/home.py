"""The home page: the current merchant's payments at a glance (`dashboard.overview`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from core.pages import render_page, wants_fragment
from dashboard.overview import dashboard_for_merchant
from merchants.selectors import merchant_get
from merchants.tenancy import merchant_required
from merchants.zones import merchant_today, zone_of_merchant
from payments import selectors
from payments.balance import balance_get
from payments.list_search import customer_labels


@merchant_required()
def home(request: HttpRequest) -> HttpResponse:
    # The tenant's item, which the navbar and the suspension banner read too: one GetItem for the page.
    merchant = request.tenant.merchant or merchant_get(merchant_id=request.tenant.merchant_id)
    board = dashboard_for_merchant(
        merchant_id=merchant.merchant_id,
        today=merchant_today(merchant),  # the merchant's day once it set a time zone (`merchants.zones`)
        currency=(request.GET.get("currency") or "").lower() or None,
        default_currency=merchant.default_currency,
    )
    context = {"merchant": merchant, "board": board, "zone": zone_of_merchant(merchant)}
    if not wants_fragment(request):  # the currency tabs swap the overview only
        context["latest"] = selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id, limit=10).items
        context["customer_names"] = customer_labels(request.tenant, context["latest"])
        context["balances"] = balance_get(merchant_id=merchant.merchant_id)
    return render_page(request, "home.html", "overview", context)
