from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRedirect

from merchants import tenancy

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Changes that do not act for the merchant stay open while it is suspended: signing in and out,
# switching merchant, two-factor, the platform's own pages, and ops staff's suspension controls
# (whose views check for staff). The API refuses writes itself (403 `merchant_suspended`).
OPEN_WHILE_SUSPENDED = (
    "/accounts/",
    "/merchant/",
    "/mfa/",
    "/admin/",
    "/api/",
    "/ops/",
    "/compliance/",
    "/audit/",
    "/settings/ops/",
)
SUSPENDED_MESSAGE = "This merchant is suspended: nothing can be changed until Paysite ops reactivate it."


class TenancyMiddleware:
    """Resolve the signed-in user's current merchant and role (`request.tenant`), and refuse every
    change made for a suspended merchant (its pages still read)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = tenancy.resolve(request)
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        """After URL resolution (the refusal page has its navbar) and the CSRF check, before the view."""
        if request.method not in SAFE_METHODS and refused_while_suspended(request):
            return suspended_response(request)
        return None


def refused_while_suspended(request: HttpRequest) -> bool:
    tenant = request.tenant
    if tenant.merchant_id is None or request.path.startswith(OPEN_WHILE_SUSPENDED):
        return False
    return tenant.suspended


def suspended_response(request: HttpRequest) -> HttpResponse:
    """htmx: the page the person is on, reloaded whole with the message (htmx swaps no 4xx); a plain
    form: a 403 page that says why."""
    if getattr(request, "htmx", False):
        messages.error(request, SUSPENDED_MESSAGE)
        current = request.htmx.current_url_abs_path or "/"
        return HttpResponseClientRedirect(current)
    return render(request, "merchant_suspended.html", {"message": SUSPENDED_MESSAGE}, status=403)
