"""Customer pages. Personal data is decrypted for `operator` and `admin` (and ops staff) and masked
for `viewer`; see docs/DECISIONS.md."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from core.errors import NotFound
from core.ids import is_id
from core.pages import render_page
from customers.pii import customer_view, may_see_pii
from customers.selectors import customer_get, customer_list_for_merchant
from merchants.tenancy import merchant_required
from payments import selectors

PAGE_SIZE = 25
LIST = "customers/customer_list.html"
DETAIL = "customers/customer_detail.html"


class CustomerSearchForm(forms.Form):
    email = forms.EmailField(required=False, label="Email (exact)")


@merchant_required()
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    form = CustomerSearchForm(request.GET)
    starting_after = request.GET.get("starting_after") or None
    customers, has_more = [], False
    if form.is_valid():
        try:
            page = customer_list_for_merchant(
                merchant_id=tenant.merchant_id,
                limit=PAGE_SIZE,
                starting_after=starting_after,
                email=form.cleaned_data["email"] or None,
            )
        except NotFound as error:
            raise Http404(str(error)) from error
        reveal = may_see_pii(tenant)
        customers = [customer_view(c, reveal=reveal) for c in page.items]
        has_more = page.has_more
    email = form.cleaned_data.get("email", "") if form.is_valid() else ""
    context = {
        "form": form,
        "customers": customers,
        "has_more": has_more,
        "next_link": "?"
        + urlencode({**({"email": email} if email else {}), "starting_after": customers[-1].customer_id})
        if has_more
        else "",
        "paged": bool(starting_after),
        "masked": not may_see_pii(tenant),
    }
    return render_page(request, LIST, "customer-table", context)


@merchant_required()
@require_GET
def customer_detail(request: HttpRequest, customer_id: str) -> HttpResponse:
    tenant = request.tenant
    try:
        customer = customer_get(merchant_id=tenant.merchant_id, customer_id=customer_id)
    except NotFound as error:
        raise Http404(str(error)) from error
    starting_after = request.GET.get("starting_after") or None
    if starting_after and not is_id(starting_after, "pay"):
        raise Http404("No such page.")
    payments = selectors.payment_list_for_merchant(
        merchant_id=tenant.merchant_id, customer_id=customer.customer_id, limit=PAGE_SIZE, starting_after=starting_after
    )
    context = {
        "customer": customer_view(customer, reveal=may_see_pii(tenant)),
        "payments": payments.items,
        "next_link": f"?starting_after={payments.next_cursor}" if payments.has_more else "",
    }
    return render_page(request, DETAIL, "customer-payments", context)
