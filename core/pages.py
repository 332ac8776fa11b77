"""One rule for every page: the whole page, or only the named fragment when htmx asks for it.

htmx's history restore (back button after a cache miss) sends `HX-Request` too but wants the whole
page, and so do boosted links. The answer varies on `HX-Request`, so no cache hands a fragment to a
plain page load or the other way round."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def wants_fragment(request: HttpRequest) -> bool:
    htmx: Any = getattr(request, "htmx", None)  # django_htmx.HtmxDetails, set by its middleware
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(
    request: HttpRequest, template: str, fragment: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """`template` for a page load, `template#fragment` for htmx. htmx swaps 2xx answers only, so a
    fragment is always a 200 (its content says what went wrong)."""
    if wants_fragment(request):
        response = render(request, f"{template}#{fragment}", context)
    else:
        response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
