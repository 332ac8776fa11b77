"""The refund request (`rr_...`) as the API, webhooks and audit events show it, serialised from the
stored `RefundRequest` (its status read with expiry: validate with `context={"now": ...}`, the moment
it is read at, or without it for now)."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from core.pagination import PageQuery
from core.wire import rfc3339
from payments.enums import RefundRequestStatus, values
from payments.models import RefundRequest
from payments.selectors import refund_request_status

RefundRequestStatusLiteral = Literal[values(RefundRequestStatus)]  # type: ignore[valid-type]


# Serialises a stored `RefundRequest` (the docstring is the OpenAPI description: kept as it was).
class RefundRequestOut(Schema):
    """Built by `payments.representations.refund_request_object` (the status is read with expiry)."""

    id: str = Field(..., description="`rr_` + ULID")
    object: str = "refund_request"
    payment_id: str
    amount: int
    currency: str
    reason: str | None
    status: str = Field(
        ...,
        description="`pending_approval`, `approved` (see `refund_id`), `rejected`, or `expired`: nobody decided "
        "within 7 days of `created`.",
    )
    requested_by: str = Field(..., description="Who asked: a dashboard user name or an API key id (`key_...`).")
    expires_at: str
    created: str
    refund_id: str | None = Field(None, description="The refund (`re_...`) an approval made.")
    decided_by: str | None = Field(None, description="Who approved or rejected it (never the requester).")
    decision_reason: str | None = Field(None, description="The reason given with the decision.")
    updated: str

    @staticmethod
    def resolve_id(request: RefundRequest) -> str:
        return request.request_id

    @staticmethod
    def resolve_object(request: RefundRequest) -> str:
        return "refund_request"

    @staticmethod
    def resolve_status(request: RefundRequest, context: dict[str, Any] | None) -> str:
        return refund_request_status(request, now=(context or {}).get("now"))

    @staticmethod
    def resolve_expires_at(request: RefundRequest) -> str:
        return rfc3339(request.expires_at) or ""

    @staticmethod
    def resolve_created(request: RefundRequest) -> str:
        return rfc3339(request.created) or ""

    @staticmethod
    def resolve_updated(request: RefundRequest) -> str:
        return rfc3339(request.updated) or ""


class RefundRequestListOut(Schema):
    object: str = "list"
    data: list[RefundRequestOut]
    has_more: bool
    next_cursor: str | None = Field(None, description="Pass as `starting_after` for the next page.")


class RefundRequestListQuery(PageQuery):
    cursor_prefix, cursor_noun = "rr", "a refund request"

    starting_after: str | None = Field(None, description="A refund request id (`next_cursor`): the page after it.")
    status: RefundRequestStatusLiteral | None = Field(  # type: ignore[valid-type]
        None, description="One status; `expired` includes pending requests past `expires_at`."
    )
    payment_id: str | None = Field(None, description="Only this payment's requests.")
