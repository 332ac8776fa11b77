"""Which merchant a browser request acts for, and with which role.

Members act for the merchants they belong to; ops staff (`is_staff`) may switch to any merchant and
act there as `operator` unless a membership gives them more. Every selector and service takes the
resulting `merchant_id` explicitly, so another merchant's object is simply not found (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.roles import Role, role_allows
from merchants.models import Merchant
from merchants.selectors import merchant_get_or_none, merchant_list, merchant_names

SESSION_KEY = "merchant_id"
STAFF_DEFAULT_ROLE = Role.OPERATOR


@dataclass
class Tenant:
    merchant_id: str | None = None
    role: str | None = None
    is_staff: bool = False
    member_of: dict[str, str] = field(default_factory=dict)  # merchant_id -> role

    def allows(self, role: str) -> bool:
        return self.merchant_id is not None and role_allows(self.role, role)

    @cached_property
    def choices(self) -> list[tuple[str, str]]:
        """(merchant_id, name) pairs the user may switch to; read only when a page shows them."""
        if self.is_staff:
            return [(m.merchant_id, m.name) for m in merchant_list()]
        names = merchant_names(merchant_ids=list(self.member_of))
        return [(merchant_id, names.get(merchant_id, merchant_id)) for merchant_id in self.member_of]

    @cached_property
    def merchant(self) -> Merchant | None:
        """The current merchant's item, read once per request when a page or check needs it."""
        return merchant_get_or_none(merchant_id=self.merchant_id) if self.merchant_id else None

    @cached_property
    def merchant_name(self) -> str:
        if not self.merchant_id:
            return ""
        return self.merchant.name if self.merchant is not None else self.merchant_id

    @property
    def suspended(self) -> bool:
        """The current merchant is suspended: its pages show a banner and refuse changes."""
        return self.merchant is not None and self.merchant.is_suspended


def resolve(request: HttpRequest) -> Tenant:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Tenant()
    member_of = {m.merchant_id: m.role for m in user.memberships.all()}
    chosen = request.session.get(SESSION_KEY)
    if user.is_staff:
        role = member_of.get(chosen, STAFF_DEFAULT_ROLE) if chosen else None
        return Tenant(merchant_id=chosen, role=role, is_staff=True, member_of=member_of)
    if chosen not in member_of:
        chosen = next(iter(member_of), None)
    return Tenant(merchant_id=chosen, role=member_of.get(chosen), member_of=member_of)


def may_switch_to(tenant: Tenant, merchant_id: str) -> bool:
    if tenant.is_staff:
        return merchant_get_or_none(merchant_id=merchant_id) is not None
    return merchant_id in tenant.member_of


def merchant_required(role: str = Role.VIEWER) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A page that acts for the current merchant and needs at least `role` there."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect(f"/accounts/login/?next={request.get_full_path()}")
            tenant: Tenant = request.tenant
            if tenant.merchant_id is None:
                if tenant.is_staff:
                    return redirect("merchant-choose")
                return render(request, "no_merchant.html", status=403)
            if not tenant.allows(role):
                raise PermissionDenied(f"This needs the {role} role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def tenancy_context(request: HttpRequest) -> dict[str, Any]:
    return {"tenant": getattr(request, "tenant", None)}


def staff_required(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login/?next={request.get_full_path()}")
        if not request.user.is_staff:
            raise PermissionDenied("Ops staff only.")
        return view(request, *args, **kwargs)

    return wrapped
