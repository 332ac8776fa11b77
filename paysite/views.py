"""Sign-in, merchant switching, the home page and the error pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.services import actor_from_request, audit_record
from payments import selectors
from paysite import tenancy
from paysite.dashboard import dashboard_for_merchant
from paysite.pages import render_page, wants_fragment
from paysite.tenancy import merchant_required


class PaysiteLoginView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(
            merchant_id=None,
            actor=actor_from_request(self.request),
            action="auth.login",
            entity_type="user",
            entity_id=self.request.user.get_username(),
        )
        return response

    def form_invalid(self, form) -> HttpResponse:
        username = (form.data.get("username") or "")[:150]
        audit_record(
            merchant_id=None,
            actor=actor_from_request(self.request),
            action="auth.login_failed",
            entity_type="user",
            entity_id=username or "-",
            outcome="failure",
        )
        return super().form_invalid(form)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(
            merchant_id=None,
            actor=actor_from_request(request),
            action="auth.logout",
            entity_type="user",
            entity_id=request.user.get_username(),
        )
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


@merchant_required()
def home(request: HttpRequest) -> HttpResponse:
    merchant = selectors.merchant_get(merchant_id=request.tenant.merchant_id)
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


def _wants_problem(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_problem(request):
        from paysite.api import problem_response

        return problem_response(status=404, code="resource_missing", title="Not found", detail="No such resource.")
    return TemplateResponse(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_problem(request):
        from paysite.api import problem_response

        return problem_response(
            status=500, code="internal_error", title="Internal error", detail="Something went wrong on our side."
        )
    return render(request, "500.html", status=500)
