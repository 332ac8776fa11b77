"""django-axes' lockout response (`AXES_LOCKOUT_CALLABLE`): every refused sign-in of a locked account
is audited (`auth.lockout`, failure) before the same page axes would show. Called explicitly by
axes, so no signal receivers are needed (PCI DSS 8.3.4, 10.2.1.4)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit.services import audit_record
from core.actor import actor_from_request


def audit_lockout(request: HttpRequest, original_response: Any = None, credentials: dict | None = None) -> HttpResponse:
    username = ((credentials or {}).get("username") or request.POST.get("username") or "")[:150]
    audit_record(
        merchant_id=None,
        actor=actor_from_request(request),
        action="auth.lockout",
        entity_type="user",
        entity_id=username or "-",
        outcome="failure",
        detail=f"locked after {settings.AXES_FAILURE_LIMIT} failed sign-ins",
    )
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "username": username}
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
