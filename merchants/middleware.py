from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from merchants import tenancy


class TenancyMiddleware:
    """Resolve the signed-in user's current merchant and role (`request.tenant`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = tenancy.resolve(request)
        return self.get_response(request)
