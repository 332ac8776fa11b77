"""Audit pages: the log with filters and paging, one event with its before/after diff, the CSV
export and the chain verification. Every look at the audit log is itself audited (PCI DSS 10.2.1.3).

Who sees what: a merchant's admins see their merchant's events; ops staff see the merchant they
switched to and, with `scope=ops`, the platform partition (sign-ins, switches, seals). Verification
is for ops staff."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from audit.forms import AuditFilterForm
from audit.representations import audit_csv_lines, audit_diff
from audit.selectors import (
    PLATFORM_PARTITION,
    audit_event_get,
    audit_event_iter,
    audit_event_list,
    audit_partition_list,
    audit_seal_list,
)
from audit.services import audit_access_record, audit_verify_run
from core.actor import actor_from_request
from core.errors import NotFound
from core.pages import render_page
from core.roles import Role

PAGE_SIZE = 50
# How far back the verification page looks at events (each seal's link in the chain is checked within
# it); `manage.py audit verify` checks everything by default.
SPANS = [("1", "Last 24 hours"), ("7", "Last 7 days"), ("30", "Last 30 days"), ("all", "Everything")]
LIST = "audit/audit_event_list.html"


def _partition(request: HttpRequest, scope: str | None) -> str:
    tenant = request.tenant
    if tenant.is_staff and (scope == PLATFORM_PARTITION or not tenant.merchant_id):
        return PLATFORM_PARTITION
    if tenant.merchant_id and (tenant.is_staff or tenant.allows(Role.ADMIN)):
        return tenant.merchant_id
    raise PermissionDenied("The audit log is for merchant admins and ops staff.")


def audit_reader(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and either ops staff or an admin of the current merchant."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login/?next={request.get_full_path()}")
        request.audit_partition = _partition(request, request.GET.get("scope"))
        return view(request, *args, **kwargs)

    return wrapped


def _link(query: str, **params: str) -> str:
    extra = QueryDict(mutable=True)
    for name, value in params.items():
        extra[name] = value
    return "?" + "&".join(part for part in (query, extra.urlencode()) if part)


@audit_reader
@require_GET
def audit_event_list_view(request: HttpRequest) -> HttpResponse:
    partition = request.audit_partition
    form = AuditFilterForm(request.GET)
    context: dict[str, Any] = {
        "form": form,
        "partition": partition,
        "events": [],
        "is_platform": partition == PLATFORM_PARTITION,
    }
    if form.is_valid():
        starting_after = request.GET.get("starting_after") or None
        try:
            page = audit_event_list(
                merchant_id=partition, filters=form.filters(), limit=PAGE_SIZE, starting_after=starting_after
            )
        except NotFound as error:
            raise Http404(str(error)) from error
        query = form.query()
        context.update(events=page.items, query=query, paged=bool(starting_after))
        if page.has_more:
            context["next_link"] = _link(query, starting_after=page.next_cursor or "")
        context["first_link"] = _link(query)
        if not starting_after:  # one event per search: its further pages are the same reading
            audit_access_record(
                actor=actor_from_request(request), merchant_id=partition, action="audit_log.read", detail=query or None
            )
    return render_page(request, LIST, "audit-table", context)


@audit_reader
@require_GET
def audit_event_detail_view(request: HttpRequest, event_id: str) -> HttpResponse:
    partition = request.audit_partition
    try:
        event = audit_event_get(merchant_id=partition, event_id=event_id)
    except NotFound as error:
        raise Http404(str(error)) from error
    audit_access_record(
        actor=actor_from_request(request), merchant_id=partition, action="audit_log.read", detail=event_id
    )
    context = {
        "event": event,
        "diff": audit_diff(event),
        "partition": partition,
        "is_platform": partition == PLATFORM_PARTITION,
    }
    return render(request, "audit/audit_event_detail.html", context)


@audit_reader
@require_GET
def audit_event_export_view(request: HttpRequest) -> HttpResponse:
    partition = request.audit_partition
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return redirect(f"/audit/?{request.GET.urlencode()}")
    audit_access_record(
        actor=actor_from_request(request),
        merchant_id=partition,
        action="audit_log.export",
        detail=form.query() or "all events",
    )
    response = StreamingHttpResponse(
        audit_csv_lines(audit_event_iter(merchant_id=partition, filters=form.filters())),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{partition}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def audit_verify_view(request: HttpRequest) -> HttpResponse:
    """Ops staff: re-check the chain of one partition or of all of them."""
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.get_full_path()}")
    if not request.user.is_staff:
        raise PermissionDenied("Ops staff only.")
    partitions = audit_partition_list()
    since = request.POST.get("since", "7")
    context: dict[str, Any] = {
        "partitions": partitions,
        "chosen": request.POST.get("partition", ""),
        "since": since,
        "spans": SPANS,
    }
    if request.method == "POST":
        chosen = request.POST.get("partition") or ""
        if (chosen and chosen not in partitions) or since not in dict(SPANS):
            raise Http404("No such partition or period.")
        context["result"] = audit_verify_run(
            partitions=[chosen] if chosen else partitions,
            since=timezone.now() - timedelta(days=int(since)) if since != "all" else None,
            actor=actor_from_request(request),
        )
    label = _partition_labels(request, partitions)
    context["partition_choices"] = [(p, label[p]) for p in partitions]
    if "result" in context:
        context["finding_rows"] = [(f, label.get(f.partition, f.partition)) for f in context["result"].findings]
    context["latest_seals"] = [
        (p, label[p], (audit_seal_list(merchant_id=p, limit=1) or [None])[0]) for p in partitions
    ]
    return render(request, "audit/audit_verify.html", context)


def _partition_labels(request: HttpRequest, partitions: list[str]) -> dict[str, str]:
    """partition -> what the page shows: the merchant's name (the staff's merchant choices, which the
    navbar reads anyway; this app sits below the merchants app), "Platform" for the ops partition."""
    names = dict(request.tenant.choices)
    return {p: "Platform (ops staff)" if p == PLATFORM_PARTITION else names.get(p, p) for p in partitions}
