"""Sign-in, merchant switching, the home page and the error pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from core.problems import problem_response


class PaysiteLoginView(LoginView):
    """Sign-ins, failed ones and sign-outs are audited by `audit.auth_events` (Django's auth signals),
    here and on every other way in, the admin's sign-in page included."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
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
