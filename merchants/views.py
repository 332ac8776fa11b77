"""Choosing the merchant a signed-in user acts for (ops staff: any merchant, audited), and the
merchant's Settings page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from audit.services import audit_record
from core.actor import actor_from_request
from core.errors import DomainError
from core.money import CURRENCIES
from core.pages import wants_fragment
from core.roles import Role
from merchants import tenancy
from merchants.selectors import merchant_get
from merchants.services import settings as merchant_settings
from merchants.services.settings import time_zone_names
from merchants.tenancy import merchant_required, staff_required

SWITCHER_MATCHES = 8  # the navbar's switcher lists this many; the "Choose a merchant" page lists all


def merchant_matches(choices: list[tuple[str, str]], q: str) -> list[tuple[str, str]]:
    """The (merchant_id, name) pairs whose name or id contains `q` (case-insensitive), those whose
    name or id starts with it first; every pair when `q` is empty."""
    needle = q.strip().casefold()
    if not needle:
        return list(choices)
    found = [(m, n) for m, n in choices if needle in n.casefold() or needle in m.casefold()]
    return sorted(found, key=lambda c: not (c[1].casefold().startswith(needle) or c[0].casefold().startswith(needle)))


def merchant_choose(request: HttpRequest) -> HttpResponse:
    """Every merchant the user may act for, searched with `q`; the navbar's switcher asks it (htmx) for
    its list of matches, and its search form lands here without JavaScript."""
    if not request.user.is_authenticated:
        return redirect("login")
    q = request.GET.get("q", "")[:100].strip()
    matches = merchant_matches(request.tenant.choices, q)
    if wants_fragment(request):
        context = {"q": q, "matches": matches[:SWITCHER_MATCHES], "total": len(matches)}
        response = render(request, "components/merchant_results.html", context)
        patch_vary_headers(response, ("HX-Request",))
        return response
    return render(request, "merchant_choose.html", {"q": q, "matches": matches})


@require_POST
def merchant_switch(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    merchant_id = request.POST.get("merchant_id", "")
    tenant = request.tenant
    if not tenancy.may_switch_to(tenant, merchant_id):
        messages.error(request, "You cannot act for that merchant.")
        return redirect("merchant-choose")
    request.session[tenancy.SESSION_KEY] = merchant_id
    if tenant.is_staff:
        audit_record(
            merchant_id=merchant_id,
            actor=actor_from_request(request),
            action="ops.merchant_switch",
            entity_type="merchant",
            entity_id=merchant_id,
        )
    return HttpResponseRedirect("/")


# --- settings --------------------------------------------------------------------------------

SETTINGS_PAGE = "merchants/settings.html"


class MerchantSettingsForm(forms.Form):
    name = forms.CharField(max_length=200, label="Business name")
    default_currency = forms.ChoiceField(label="Default currency")
    statement_descriptor = forms.CharField(
        max_length=22,
        required=False,
        label="Statement descriptor",
        help_text="What cardholders see on their statements: 5 to 22 characters, at least one letter.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="The merchant's days (Today, the charts and daily totals) and the times on its pages.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_currency"].choices = [(code, code.upper()) for code in sorted(CURRENCIES)]
        self.fields["time_zone"].choices = [(zone, zone.replace("_", " ")) for zone in time_zone_names()]


class OpsRateLimitForm(forms.Form):
    rate_limit_per_minute = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=merchant_settings.RATE_LIMIT_MAX,
        label="API rate limit (requests a minute)",
        help_text=f"Empty: the platform default ({settings.DEFAULT_RATE_LIMIT_PER_MINUTE}).",
    )


class OpsStatusForm(forms.Form):
    reason = forms.CharField(
        max_length=merchant_settings.REASON_MAX,
        label="Reason",
        help_text="Recorded in the audit log; the merchant's users do not see it.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _may_view_settings(tenant: tenancy.Tenant) -> bool:
    return tenant.is_staff or tenant.allows(Role.ADMIN)


def _settings_context(request: HttpRequest, **extra) -> dict:
    merchant = merchant_get(merchant_id=request.tenant.merchant_id)
    context = {
        "merchant": merchant,
        "time_zone": merchant_settings.merchant_time_zone(merchant),
        "form": MerchantSettingsForm(
            initial={
                "name": merchant.name,
                "default_currency": merchant.default_currency,
                "statement_descriptor": merchant.statement_descriptor or "",
                "time_zone": merchant_settings.merchant_time_zone(merchant),
            }
        ),
        "rate_form": OpsRateLimitForm(initial={"rate_limit_per_minute": merchant.rate_limit_per_minute}),
        "status_form": OpsStatusForm(),
        "default_rate_limit": settings.DEFAULT_RATE_LIMIT_PER_MINUTE,
    }
    context.update(extra)
    return context


def _form_error(form: forms.Form, error: DomainError) -> None:
    field = error.param if error.param in form.fields else None
    form.add_error(field, error.detail)


@merchant_required(Role.VIEWER)
def merchant_settings_page(request: HttpRequest) -> HttpResponse:
    """Admins (and ops staff) edit the merchant's name, default currency, statement descriptor and
    time zone; ops staff also see the rate limit and suspension controls (`merchant_settings_ops`)."""
    if not _may_view_settings(request.tenant):
        raise PermissionDenied("Settings need the admin role.")
    if request.method != "POST":
        return render(request, SETTINGS_PAGE, _settings_context(request))
    form = MerchantSettingsForm(request.POST)
    if form.is_valid():
        try:
            merchant_settings.merchant_settings_update(
                merchant_id=request.tenant.merchant_id, actor=actor_from_request(request), **form.cleaned_data
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect("settings:merchant-settings")
    return render(request, SETTINGS_PAGE, _settings_context(request, form=form), status=422)


@staff_required
@require_POST
def merchant_settings_ops(request: HttpRequest) -> HttpResponse:
    """Ops staff: the rate limit, suspend, reactivate (each audited). Open while the merchant is
    suspended (`merchants.middleware`)."""
    merchant_id = request.tenant.merchant_id
    if merchant_id is None:
        return redirect("merchant-choose")
    actor = actor_from_request(request)
    action = request.POST.get("action", "")
    if action == "rate_limit":
        rate_form = OpsRateLimitForm(request.POST)
        if rate_form.is_valid():
            try:
                merchant_settings.merchant_rate_limit_set(
                    merchant_id=merchant_id,
                    actor=actor,
                    rate_limit_per_minute=rate_form.cleaned_data["rate_limit_per_minute"],
                )
            except DomainError as error:
                _form_error(rate_form, error)
            else:
                messages.success(request, "Rate limit saved.")
                return redirect("settings:merchant-settings")
        return render(request, SETTINGS_PAGE, _settings_context(request, rate_form=rate_form), status=422)
    if action not in ("suspend", "reactivate"):
        return HttpResponseBadRequest("Unknown action.")
    status_form = OpsStatusForm(request.POST)
    if status_form.is_valid():
        change = merchant_settings.merchant_suspend if action == "suspend" else merchant_settings.merchant_reactivate
        try:
            change(merchant_id=merchant_id, actor=actor, reason=status_form.cleaned_data["reason"])
        except DomainError as error:
            _form_error(status_form, error)
        else:
            done = "suspended: its API writes now get 403" if action == "suspend" else "active again"
            messages.success(request, f"The merchant is {done}.")
            return redirect("settings:merchant-settings")
    return render(request, SETTINGS_PAGE, _settings_context(request, status_form=status_form), status=422)
