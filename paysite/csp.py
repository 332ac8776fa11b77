"""Content-Security-Policy on every page (Django 5.2 has none built in; a few lines do).

No inline scripts or event handlers exist in the templates (small static files attach behaviour),
so `script-src 'self'` holds without 'unsafe-inline'; htmx is configured by a `<meta name="htmx-config">`
(indicator styles off, no eval). The policy comes from `CONTENT_SECURITY_POLICY` (one string);
`CONTENT_SECURITY_POLICY_REPORT_ONLY` sends it as report-only instead."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

DEFAULT_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# The OpenAPI page django-ninja serves (`/api/v1/docs`) loads Swagger UI from its CDN with an inline
# start-up script. It shows no account data, so it alone gets this wider policy.
DOCS_PATH = "/api/v1/docs"
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "img-src 'self' data: https://django-ninja.dev",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)


def csp_policy(path: str = "/") -> str:
    if path == DOCS_PATH or path == DOCS_PATH + "/":
        return DOCS_POLICY
    return getattr(settings, "CONTENT_SECURITY_POLICY", "") or DEFAULT_POLICY


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header not in response:
            response[self.header] = csp_policy(request.path)
        return response
