"""Sign-in, merchant switching, the home page and the error pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from audit.services import audit_record
from core.actor import actor_from_request
from core.problems import problem_response


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


def _wants_problem(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_problem(request):
        return problem_response(status=404, code="resource_missing", title="Not found", detail="No such resource.")
    return TemplateResponse(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_problem(request):
        return problem_response(
            status=500, code="internal_error", title="Internal error", detail="Something went wrong on our side."
        )
    return render(request, "500.html", status=500)
