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
from customers.selectors import customer_get, customer_list_by_ids, customer_list_for_merchant
from merchants.tenancy import merchant_required
from payments import selectors
from payments.list_search import customer_labels
from search import index as search_index
from search import terms as search_terms
from search.models import EntryKind

PAGE_SIZE = 25
LIST = "customers/customer_list.html"
DETAIL = "customers/customer_detail.html"


class CustomerSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=80, label="Search", strip=True)
    email = forms.EmailField(required=False, label="Email (exact)")

    def clean_q(self) -> str:
        q = self.cleaned_data.get("q") or ""
        if q and not search_terms.words(q):
            raise forms.ValidationError("Search by part of a customer id, email, name or phone number.")
        return q


@merchant_required()
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    form = CustomerSearchForm(request.GET)
    starting_after = request.GET.get("starting_after") or None
    customers, has_more, total = [], False, None
    if form.is_valid() and form.cleaned_data["q"]:  # the search index finds the ids, DynamoDB reads them
        found = search_index.search(
            merchant_id=tenant.merchant_id,
            kind=EntryKind.CUSTOMER,
            query=form.cleaned_data["q"],
            limit=PAGE_SIZE,
            starting_after=starting_after,
        )
        reveal = may_see_pii(tenant)
        customers = [
            customer_view(c, reveal=reveal)
            for c in customer_list_by_ids(merchant_id=tenant.merchant_id, customer_ids=found.ids)
        ]
        has_more, total = found.has_more, found.total
    elif form.is_valid():
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
    kept = {name: form.cleaned_data.get(name, "") for name in ("q", "email")} if form.is_valid() else {}
    context = {
        "form": form,
        "customers": customers,
        "has_more": has_more,
        "total": total,
        "next_link": "?"
        + urlencode({**{k: v for k, v in kept.items() if v}, "starting_after": customers[-1].customer_id})
        if has_more and customers
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
        "customer_names": customer_labels(tenant, payments.items),
        "next_link": f"?starting_after={payments.next_cursor}" if payments.has_more else "",
    }
    return render_page(request, DETAIL, "customer-payments", context)
