"""Ops staff pages: every merchant with its volume, and creating merchants. Memberships are managed
in the Django admin (`/admin/merchants/membership/`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

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
from merchants.services.merchants import merchant_create
from merchants.tenancy import staff_required
from payments import selectors
from payments.selectors import CurrencySummary

PAGE = "ops/merchant_list.html"
VOLUME_DAYS = 30


class MerchantForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    default_currency = forms.ChoiceField(
        choices=[(c, c.upper()) for c in sorted(CURRENCIES)], initial="usd", label="Default currency"
    )


@dataclass(frozen=True)
class MerchantRow:
    merchant_id: str
    name: str
    default_currency: str
    created: object
    totals: list[CurrencySummary]  # per currency, last VOLUME_DAYS days, largest volume first


def _rows() -> list[MerchantRow]:
    today = timezone.now().date()
    rows = []
    for merchant in merchant_selectors.merchant_list():
        summary = selectors.payment_summary(
            merchant_id=merchant.merchant_id, start=today - timedelta(days=VOLUME_DAYS - 1), end=today
        )
        totals = sorted(summary.currencies.values(), key=lambda s: -s.captured)
        rows.append(
            MerchantRow(merchant.merchant_id, merchant.name, merchant.default_currency, merchant.created, totals)
        )
    return rows


def _render(request: HttpRequest, form: MerchantForm, *, status: int = 200, **extra) -> HttpResponse:
    context = {"rows": _rows(), "form": form, "days": VOLUME_DAYS, **extra}
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
