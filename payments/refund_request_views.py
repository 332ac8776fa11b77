"""The Refund approvals page (four-eyes approval of large refunds): the merchant's refund requests,
approve or reject by someone other than the requester, and the merchant admin's thresholds.

Plain forms that post and redirect (the page works without JavaScript); the list's filter and paging
live in the URL. Thin views over `payments.selectors` and `payments.services.refund_requests`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.actor import actor_from_request
from core.errors import DomainError
from core.ids import is_id
from core.money import CURRENCIES
from core.pages import render_page
from core.roles import Role
from core.templatetags.paysite import major, money
from merchants.selectors import merchant_get
from merchants.tenancy import merchant_required
from payments import selectors
from payments.enums import RefundRequestStatus, values
from payments.forms import REASON_LABELS, to_minor
from payments.services import refund_approval, refund_requests

PAGE_SIZE = 25
LIST = "payments/refund_request_list.html"
STATUS_LABELS = {
    RefundRequestStatus.PENDING_APPROVAL: "Awaiting approval",
    RefundRequestStatus.APPROVED: "Approved",
    RefundRequestStatus.REJECTED: "Rejected",
    RefundRequestStatus.EXPIRED: "Expired",
}


def _list_url(**params: str) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items() if value)
    return reverse("payments:refund-request-list") + (f"?{query}" if query else "")


def _thresholds_text(thresholds: dict[str, int]) -> str:
    return "\n".join(f"{currency.upper()} {major(amount, currency)}" for currency, amount in sorted(thresholds.items()))


def parse_thresholds(text: str) -> dict[str, int]:
    """Lines such as `USD 500.00` (major units) into {"usd": 50000}; ValueError names the bad line."""
    thresholds: dict[str, int] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        currency = parts[0].lower() if parts else ""
        if len(parts) != 2 or currency not in CURRENCIES:
            raise ValueError(f"Line {number}: write a currency code and an amount, such as USD 500.00.")
        try:
            amount = to_minor(Decimal(parts[1]), currency)
        except InvalidOperation:
            raise ValueError(f"Line {number}: enter an amount such as 500.00.") from None
        except ValueError as error:
            raise ValueError(f"Line {number}: {error}") from None
        if amount < 1:
            raise ValueError(f"Line {number}: a threshold is more than zero.")
        thresholds[currency] = amount
    return thresholds


@merchant_required()
@require_GET
def refund_request_list(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    status = request.GET.get("status", RefundRequestStatus.PENDING_APPROVAL)
    if status not in values(RefundRequestStatus):
        status = ""
    cursor = request.GET.get("starting_after") or None
    if cursor is not None and not is_id(cursor, "rr"):
        cursor = None
    page = selectors.refund_request_list_for_merchant(
        merchant_id=tenant.merchant_id, limit=PAGE_SIZE, starting_after=cursor, status=status or None
    )
    me = actor_from_request(request)
    rows = [
        {
            "request": item,
            "status": selectors.refund_request_status(item),
            "mine": (item.requested_by_type, item.requested_by) == (me.type, me.id),
        }
        for item in page.items
    ]
    settings = refund_approval.refund_approval_settings(merchant_get(merchant_id=tenant.merchant_id))
    context: dict[str, Any] = {
        "rows": rows,
        "page": page,
        "status": status,
        "status_labels": STATUS_LABELS,
        "reason_labels": REASON_LABELS,
        "next_url": _list_url(status=status, starting_after=page.next_cursor or ""),
        "can_decide": tenant.allows(Role.OPERATOR),
        "can_configure": tenant.allows(Role.ADMIN),
        "approval": settings,
        "thresholds_text": _thresholds_text(settings.thresholds),
        "lifetime_days": refund_requests.REQUEST_LIFETIME.days,
    }
    return render_page(request, LIST, "refund-request-table", context)


@merchant_required(Role.OPERATOR)
@require_POST
def refund_request_decide(request: HttpRequest, request_id: str, decision: str) -> HttpResponse:
    merchant_id, actor = request.tenant.merchant_id, actor_from_request(request)
    note = (request.POST.get("reason") or "").strip()
    try:
        if decision == "approve":
            decided = refund_requests.refund_request_approve(
                merchant_id=merchant_id, request_id=request_id, actor=actor, note=note
            )
            messages.success(
                request,
                f"Approved: {money(int(decided.amount), decided.currency)} refunded to the customer "
                f"({decided.refund_id}).",
            )
        else:
            refund_requests.refund_request_reject(
                merchant_id=merchant_id, request_id=request_id, actor=actor, reason=note
            )
            messages.success(request, f"Rejected refund request {request_id}; nothing was refunded.")
    except DomainError as error:
        messages.error(request, error.detail)
    return redirect(_list_url(status=request.POST.get("status", "")))


@merchant_required(Role.ADMIN)
@require_POST
def refund_approval_settings_update(request: HttpRequest) -> HttpResponse:
    try:
        thresholds = parse_thresholds(request.POST.get("thresholds", ""))
        refund_approval.refund_approval_settings_set(
            merchant_id=request.tenant.merchant_id,
            actor=actor_from_request(request),
            thresholds=thresholds,
            api_refunds_need_approval=request.POST.get("api_refunds_need_approval") == "on",
        )
    except ValueError as error:
        messages.error(request, str(error))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "Refund approval settings saved.")
    return redirect(_list_url())
