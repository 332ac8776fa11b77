"""`GET /api/v1/audit-events`: the key's merchant's audit events, newest first, paged like payments.
Reading the audit log is itself audited (PCI DSS 10.2.1.3)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router
from pydantic import AwareDatetime

from audit.schemas import AuditEventListOut
from audit.selectors import AuditFilters, audit_event_list
from audit.services import audit_access_record
from core.errors import ValidationFailed
from core.pagination import PageQuery
from core.problems import Problem

router = Router(tags=["audit"])


class AuditEventListQuery(PageQuery):
    cursor_prefix, cursor_noun = "evt", "an event"

    action: str | None = Field(
        None, max_length=100, description="Exact action, or a prefix ending in `.` (`payment.`)."
    )
    entity_id: str | None = Field(None, max_length=100, description="Events about this object (`pay_...`, `key_...`).")
    occurred_gte: AwareDatetime | None = Field(None, description="RFC 3339 with a time zone, inclusive.")
    occurred_lt: AwareDatetime | None = Field(None, description="RFC 3339 with a time zone, exclusive.")
    starting_after: str | None = Field(None, description="An event id (`next_cursor`): the page after it.")


@router.get(
    "/audit-events",
    response={200: AuditEventListOut, 401: Problem, 404: Problem, 422: Problem, 429: Problem},
    summary="List audit events",
    description="The merchant's audit trail, newest first. `limit` 1-100 (default 20); page on with "
    "`starting_after=<next_cursor>`. Filters: `action`, `entity_id`, `occurred_gte`, `occurred_lt`. "
    "Every call is itself recorded as an `audit_log.read` event.",
)
def audit_event_list_api(request: HttpRequest, query: Query[AuditEventListQuery]):
    if query.occurred_gte and query.occurred_lt and query.occurred_gte >= query.occurred_lt:
        raise ValidationFailed(
            "`occurred_gte` must be before `occurred_lt`.", param="occurred_gte", code="invalid_date_range"
        )
    filters = AuditFilters(
        action=query.action or None,
        entity_id=query.entity_id or None,
        occurred_gte=query.occurred_gte,
        occurred_lt=query.occurred_lt,
    )
    merchant_id = request.auth.merchant_id
    page = audit_event_list(
        merchant_id=merchant_id, filters=filters, limit=query.limit, starting_after=query.starting_after
    )
    audit_access_record(
        actor=request.auth.actor,
        merchant_id=merchant_id,
        action="audit_log.read",
        detail=request.GET.urlencode() or None,
    )
    return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}
