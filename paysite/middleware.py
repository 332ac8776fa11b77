from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from paysite import tenancy
from paysite.ids import new_id

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    """Every response carries `X-Request-Id`: the caller's when it is sane, a new `req_` id otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-Id", "")
        request.request_id = given if _REQUEST_ID.match(given) else new_id("req")
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response


class TenancyMiddleware:
    """Resolve the signed-in user's current merchant and role (`request.tenant`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = tenancy.resolve(request)
        return self.get_response(request)
