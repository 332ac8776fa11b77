"""Choosing the merchant a signed-in user acts for (ops staff: any merchant, audited)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audit.services import audit_record
from core.actor import actor_from_request
from merchants import tenancy


def merchant_choose(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return render(request, "merchant_choose.html", {})


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
