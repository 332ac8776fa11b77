"""Reads of the API request log: a merchant's requests newest first with filters, one request, the
requests with an `X-Request-Id`, the requests that touched a payment. Entries past their 30 days are
absent whether or not DynamoDB's TTL has deleted them yet (DynamoDB Local never does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from apilog.models import ApiRequest
from core.errors import NotFound
from core.ids import id_ceiling, id_floor, is_id
from core.ids import now as clock_now
from core.pagination import Page

STATUS_CLASSES = ("2xx", "4xx", "5xx")


class ApiRequestNotFound(NotFound):
    title = "No such API request"


@dataclass(frozen=True)
class ApiRequestFilters:
    """`status` is an HTTP status ("404") or a class ("4xx"); `path` matches the start of the path."""

    status: str | None = None
    method: str | None = None
    path: str | None = None
    key_id: str | None = None
    created_gte: datetime | None = None
    created_lt: datetime | None = None
    payment_id: str | None = None


def _live(now: datetime) -> Any:
    return ApiRequest.expires_at > now


def _bounds(prefix: str, created_gte: datetime | None, created_lt: datetime | None) -> tuple[str, str] | None:
    if created_gte is None and created_lt is None:
        return None
    low = id_floor(prefix, created_gte) if created_gte is not None else f"{prefix}_0"
    high = id_ceiling(prefix, created_lt) if created_lt is not None else f"{prefix}_Z"
    return low, high


def _condition(filters: ApiRequestFilters, now: datetime) -> Any:
    condition = _live(now)
    status = (filters.status or "").strip().lower()
    if status in STATUS_CLASSES:
        low = int(status[0]) * 100
        condition &= ApiRequest.status.between(low, low + 99)
    elif status.isdigit():
        condition &= ApiRequest.status == int(status)
    if filters.method:
        condition &= ApiRequest.method == filters.method.upper()
    if filters.path:
        condition &= ApiRequest.path.startswith(filters.path)
    if filters.key_id:
        condition &= ApiRequest.key_id == filters.key_id
    return condition


def api_request_list_for_merchant(
    *,
    merchant_id: str,
    filters: ApiRequestFilters | None = None,
    limit: int = 20,
    starting_after: str | None = None,
    now: datetime | None = None,
) -> Page[ApiRequest]:
    """Newest first: a Query on the merchant's partition (or, with `payment_id`, on the payment's index
    entries, restricted to the merchant), the date range a key condition on `log_id`, the rest filter
    conditions. No Scan."""
    filters = filters or ApiRequestFilters()
    if starting_after is not None and not is_id(starting_after, "log"):
        raise ApiRequestNotFound(f"No API request {starting_after}.", param="starting_after", code="invalid_cursor")
    condition = _condition(filters, now or clock_now())
    bounds = _bounds("log", filters.created_gte, filters.created_lt)
    range_condition = ApiRequest.log_id.between(*bounds) if bounds else None
    if filters.payment_id:
        last_key = None
        if starting_after:
            last_key = {
                "payment_id": {"S": filters.payment_id},
                "merchant_id": {"S": merchant_id},
                "log_id": {"S": starting_after},
            }
        results: Any = ApiRequest.by_payment.query(
            filters.payment_id,
            range_key_condition=range_condition,
            filter_condition=condition & (ApiRequest.merchant_id == merchant_id),
            scan_index_forward=False,
            page_size=limit + 1,
            last_evaluated_key=last_key,
        )
    else:
        last_key = {"merchant_id": {"S": merchant_id}, "log_id": {"S": starting_after}} if starting_after else None
        results = ApiRequest.query(
            merchant_id,
            range_key_condition=range_condition,
            filter_condition=condition,
            scan_index_forward=False,
            page_size=limit + 1,
            last_evaluated_key=last_key,
        )
    items = [entry for _, entry in zip(range(limit + 1), results, strict=False)]
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="log_id")


def api_request_get(*, merchant_id: str, log_id: str, now: datetime | None = None) -> ApiRequest:
    if is_id(log_id, "log"):
        try:
            entry = ApiRequest.get(merchant_id, log_id, consistent_read=True)
        except DoesNotExist:
            pass
        else:
            if entry.expires_at > (now or clock_now()):
                return entry
    raise ApiRequestNotFound(f"No API request {log_id}.", param="id")


def api_request_find_by_request_id(
    *, merchant_id: str, request_id: str, now: datetime | None = None
) -> list[ApiRequest]:
    """The merchant's requests that carried `request_id` (a caller may reuse one), newest first."""
    request_id = request_id.strip()
    if not request_id or len(request_id) > 128:
        return []
    results = ApiRequest.by_request_id.query(
        f"{merchant_id}#{request_id}",
        filter_condition=_live(now or clock_now()),
        scan_index_forward=False,
        limit=50,
    )
    return list(results)
