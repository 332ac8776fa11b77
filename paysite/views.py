"""Sign-in, the idle session's "stay signed in", sign-out and the error pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.middleware import EXPIRED_ACTION, idle_seconds_left, page_shown, sign_in_url
from core.problems import problem_response

# What a POST sent after the session ended would have done (`core.middleware.SessionExpiryMiddleware`
# keeps its view's name); it was not done, and is not done after signing in either.
NOT_DONE = {
    "payments:payment-refund": "the refund was sent",
    "payments:payment-capture": "the payment was captured",
    "payments:payment-cancel": "the authorization was canceled",
}


def expired_action_notice(view_name: str | None) -> str | None:
    """What to say about a POST the session ended before ("Your session expired before the refund was
    sent: nothing was changed."); None when there was none."""
    if view_name is None:
        return None
    done = NOT_DONE.get(view_name)
    if done is None:
        return "Your session expired before your last action was carried out: nothing was changed."
    return f"Your session expired before {done}: nothing was changed."


class PaysiteLoginView(LoginView):
    """Sign-ins, failed ones and sign-outs are audited by `audit.auth_events` (Django's auth signals),
    here and on every other way in, the admin's sign-in page included.

    `?expired=1` (a page whose session ended sent the browser here) says so. After signing in, `next`
    leads back to that page; an action refused for want of a session is said again there, not replayed."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["expired_action"] = expired_action_notice(self.request.session.get(EXPIRED_ACTION))
        context["session_expired"] = self.request.GET.get("expired") == "1" or context["expired_action"] is not None
        return context

    def form_valid(self, form):
        response = super().form_valid(form)  # `login()` keeps the session's data under a new key
        notice = expired_action_notice(self.request.session.pop(EXPIRED_ACTION, None))
        if notice:
            messages.warning(self.request, notice)
        return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


IDLE_SECONDS_LEFT = "X-Paysite-Idle-Seconds-Left"


@never_cache
@require_http_methods(["GET", "POST"])
def session_idle(request: HttpRequest) -> HttpResponse:
    """For the idle-timeout warning (`paysite/session.js`). GET, sent as a poll, asks how long the
    session has left without activity (another tab may have used it); POST is "Stay signed in": like
    any request that is not a poll, it counts as activity (`IdleSignOutMiddleware`) and renews the
    session. Both answer 204 with the seconds left in `X-Paysite-Idle-Seconds-Left`. Without a session,
    401 with `HX-Redirect` to the sign-in page, back to the page the script runs on afterwards."""
    if not request.user.is_authenticated:
        response = HttpResponse(status=401)
        response["HX-Redirect"] = sign_in_url(page_shown(request), expired=True)
        return response
    response = HttpResponse(status=204)
    response[IDLE_SECONDS_LEFT] = str(idle_seconds_left(request))
    return response


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
