"""The home page: the current merchant's payments at a glance (`dashboard.overview`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
    whole_page = not wants_fragment(request)  # the currency tabs swap the overview only
    # The overview, the latest payments and the balance are independent reads: side by side rather
    # than one after another (README "Dashboard pages").
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="home") as pool:
        board = pool.submit(
            dashboard_for_merchant,
            merchant_id=merchant.merchant_id,
            today=merchant_today(merchant),  # the merchant's day once it set a time zone (`merchants.zones`)
            currency=(request.GET.get("currency") or "").lower() or None,
            default_currency=merchant.default_currency,
        )
        if whole_page:
            latest = pool.submit(selectors.payment_list_for_merchant, merchant_id=merchant.merchant_id, limit=10)
            balances = pool.submit(balance_get, merchant_id=merchant.merchant_id)
    context = {"merchant": merchant, "board": board.result(), "zone": zone_of_merchant(merchant)}
    if whole_page:
        context["latest"] = latest.result().items
        context["customer_names"] = customer_labels(request.tenant, context["latest"])
        context["balances"] = balances.result()
    return render_page(request, "home.html", "overview", context)
