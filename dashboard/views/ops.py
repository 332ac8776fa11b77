"""Ops staff pages: every merchant with its volume (searched by name or id, sorted by name, status or
creation), and creating merchants. Memberships are managed in the Django admin
(`/admin/merchants/membership/`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from core.actor import actor_from_request
from core.errors import ValidationFailed
from core.money import CURRENCIES
from core.pages import render_page, wants_fragment
from merchants import selectors as merchant_selectors
from merchants.models import Merchant
from merchants.services.merchants import merchant_create
from merchants.tenancy import staff_required
from payments import selectors
from payments.selectors import CurrencySummary

PAGE = "ops/merchant_list.html"
VOLUME_DAYS = 30
VOLUME_THREADS = 4  # merchants whose volume is read at once


class MerchantForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    default_currency = forms.ChoiceField(
        choices=[(c, c.upper()) for c in sorted(CURRENCIES)], initial="usd", label="Default currency"
    )


@dataclass(frozen=True)
class MerchantRow:
    merchant_id: str
    name: str
    status: str
    default_currency: str
    created: object
    totals: list[CurrencySummary]  # per currency, last VOLUME_DAYS days, largest volume first


# `sort` of the query string -> the key of a row; "-name" is the same, descending.
SORTS: dict[str, Callable[[Merchant], Any]] = {
    "name": lambda m: (m.name.casefold(), m.merchant_id),
    "created": lambda m: (m.created, m.merchant_id),
    "status": lambda m: (m.status, m.name.casefold()),
}
DEFAULT_SORT = "name"
COLUMNS = [("name", "Merchant"), ("status", "Status"), ("created", "Created")]


def _sort(value: str) -> str:
    return value if value.removeprefix("-") in SORTS else DEFAULT_SORT


def _matching(merchants: list[Merchant], q: str) -> list[Merchant]:
    """Name or id containing `q`, case-insensitive (every merchant when `q` is empty)."""
    needle = q.casefold()
    return [m for m in merchants if needle in m.name.casefold() or needle in m.merchant_id.casefold()]


def _rows(*, q: str, sort: str) -> list[MerchantRow]:
    today = timezone.now().date()
    merchants = sorted(
        _matching(merchant_selectors.merchant_list(), q),
        key=SORTS[sort.removeprefix("-")],
        reverse=sort.startswith("-"),
    )

    def volume(merchant: Merchant) -> list[CurrencySummary]:
        summary = selectors.payment_summary(
            merchant_id=merchant.merchant_id, start=today - timedelta(days=VOLUME_DAYS - 1), end=today
        )
        return sorted(summary.currencies.values(), key=lambda s: -s.captured)

    # One Query per merchant, each a few round trips: side by side rather than one after another.
    with ThreadPoolExecutor(max_workers=VOLUME_THREADS, thread_name_prefix="ops-volume") as pool:
        volumes = list(pool.map(volume, merchants))
    return [
        MerchantRow(m.merchant_id, m.name, m.status, m.default_currency, m.created, totals)
        for m, totals in zip(merchants, volumes, strict=True)
    ]


def _headers(*, q: str, sort: str) -> list[dict[str, str]]:
    """The sortable column headers: each links to its sort (the other direction when it is the current one)."""
    headers = []
    for key, label in COLUMNS:
        current = sort.removeprefix("-") == key
        descending = sort.startswith("-")
        target = f"-{key}" if current and not descending else key
        query = urlencode({"sort": target, **({"q": q} if q else {})})
        aria = ("descending" if descending else "ascending") if current else ""
        headers.append({"key": key, "label": label, "href": f"?{query}", "aria_sort": aria})
    return headers


def _render(request: HttpRequest, form: MerchantForm, *, status: int = 200, **extra) -> HttpResponse:
    q = request.GET.get("q", "")[:100].strip()
    sort = _sort(request.GET.get("sort", ""))
    context = {
        "rows": _rows(q=q, sort=sort),
        "form": form,
        "days": VOLUME_DAYS,
        "q": q,
        "sort": sort,
        "headers": _headers(q=q, sort=sort),
        **extra,
    }
    return render_page(request, PAGE, "merchants", context, status=status)


@staff_required
def merchant_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render(request, MerchantForm())
    form = MerchantForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=422)
    try:
        merchant = merchant_create(
            name=form.cleaned_data["name"],
            default_currency=form.cleaned_data["default_currency"],
            actor=actor_from_request(request),
        )
    except ValidationFailed as error:
        form.add_error("name" if error.param == "name" else None, error.detail)
        return _render(request, form, status=422)
    notice = f"Created {merchant.name} ({merchant.merchant_id}). Add members in the admin."
    if wants_fragment(request):
        return _render(request, MerchantForm(), created=merchant, notice=notice)
    messages.success(request, notice)
    return redirect("ops:merchant-list")
