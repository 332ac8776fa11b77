"""Developers → Logs: the merchant's API requests (filters by status, method, path, key and date;
a request found by its `X-Request-Id`; paged), and one request with its redacted bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apilog.selectors import (
    ApiRequestFilters,
    ApiRequestNotFound,
    api_request_find_by_request_id,
    api_request_get,
    api_request_list_for_merchant,
)
from core.ids import is_id
from core.pages import render_page
from core.roles import Role
from merchants.selectors import api_key_list_for_merchant
from merchants.tenancy import merchant_required

LIST = "developers/request_log.html"
DETAIL = "developers/request_detail.html"
PAGE_SIZE = 50
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class RequestLogFilterForm(forms.Form):
    request_id = forms.CharField(required=False, max_length=128, label="X-Request-Id")
    status = forms.RegexField(
        required=False,
        regex=r"^([245]xx|[1-5][0-9]{2})$",
        max_length=3,
        label="Status",
        help_text="A code (404) or a class (4xx).",
        error_messages={"invalid": "A status code such as 404, or 2xx, 4xx, 5xx."},
    )
    method = forms.ChoiceField(required=False, choices=[("", "Any method")] + [(m, m) for m in METHODS])
    path = forms.CharField(required=False, max_length=200, label="Path starts with")
    key = forms.CharField(required=False, max_length=40, label="API key")
    date_from = forms.DateField(required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    payment = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    after = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)


def _filters(data: dict) -> ApiRequestFilters:
    date_from, date_to = data.get("date_from"), data.get("date_to")
    return ApiRequestFilters(
        status=data.get("status") or None,
        method=data.get("method") or None,
        path=data.get("path") or None,
        key_id=data.get("key") or None,
        created_gte=datetime.combine(date_from, time.min, tzinfo=UTC) if date_from else None,
        created_lt=datetime.combine(date_to, time.min, tzinfo=UTC) + timedelta(days=1) if date_to else None,
        payment_id=data.get("payment") if is_id(data.get("payment") or "", "pay") else None,
    )


@merchant_required(Role.ADMIN)
@require_GET
def request_log(request: HttpRequest) -> HttpResponse:
    merchant_id = request.tenant.merchant_id
    form = RequestLogFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    entries: list = []
    next_cursor = None
    if data.get("request_id"):
        entries = api_request_find_by_request_id(merchant_id=merchant_id, request_id=data["request_id"])
    elif form.is_valid():
        after = data.get("after") if is_id(data.get("after") or "", "log") else None
        page = api_request_list_for_merchant(
            merchant_id=merchant_id, filters=_filters(data), limit=PAGE_SIZE, starting_after=after
        )
        entries, next_cursor = page.items, page.next_cursor
    next_query = None
    if next_cursor:
        query = request.GET.copy()
        query["after"] = next_cursor
        next_query = query.urlencode()
    context = {
        "filters": form,
        "entries": entries,
        "keys": api_key_list_for_merchant(merchant_id=merchant_id),
        "next_query": next_query,
        "payment_id": data.get("payment") or None,
    }
    return render_page(request, LIST, "request-log", context)


def _pretty(body: str | None) -> str:
    if not body:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body  # cut at 16 KB, or not JSON: shown as stored


@merchant_required(Role.ADMIN)
@require_GET
def request_detail(request: HttpRequest, log_id: str) -> HttpResponse:
    try:
        entry = api_request_get(merchant_id=request.tenant.merchant_id, log_id=log_id)
    except ApiRequestNotFound as error:
        raise Http404(error.detail) from error
    context = {
        "entry": entry,
        "request_body": _pretty(entry.request_body),
        "response_body": _pretty(entry.response_body),
    }
    return render(request, DETAIL, context)
