"""The settlements router: thin operations over selectors and services."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from audit.services import audit_record
from core.errors import ValidationFailed
from core.problems import Problem, domain_error_response
from reconciliation import csvfile, selectors, services
from reconciliation.enums import Source
from reconciliation.errors import SettlementFileRejected
from reconciliation.exports import discrepancy_csv
from reconciliation.schemas import DiscrepancyListOut, DiscrepancyOut, ResolveIn, SettlementListOut, SettlementOut

router = Router(tags=["settlements"])
MULTIPART_SLACK = 64 * 1024  # form fields and part headers around the file


def upload_size_limit(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse an upload over 50 MB from its Content-Length, before the body is read."""

    @functools.wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.method == "POST" and length > csvfile.MAX_BYTES + MULTIPART_SLACK:
            try:
                csvfile.size_check(length)
            except SettlementFileRejected as rejected:
                return domain_error_response(rejected)
        return run(request, *args, **kwargs)

    return checked


router.add_decorator(upload_size_limit, mode="view")


class SettlementListQuery(Schema):
    limit: int = 20
    starting_after: str | None = None


class DiscrepancyListQuery(Schema):
    limit: int = 20
    starting_after: str | None = None
    kind: str | None = None


def _limit(value: int) -> int:
    if not 1 <= value <= 100:
        raise ValidationFailed("limit must be between 1 and 100.", param="limit", code="invalid_limit")
    return value


@router.post(
    "/settlements",
    response={200: SettlementOut, 202: SettlementOut, 401: Problem, 422: Problem},
    description=(
        "Upload a settlement CSV (multipart field `file`) with an optional `period_start`/`period_end` (UTC "
        "dates, inclusive). 202 with a new settlement that is processed in the background; 200 with the existing "
        "settlement when the same file (SHA-256) was uploaded before (one whose processing failed is processed "
        "again). Limits: 50 MB, 1,000,000 rows, 200 columns, 1,000,000 characters a row, 128,000 a cell. A file "
        "over a limit, not UTF-8 CSV or without the required columns is rejected whole and nothing is stored: 422 "
        "with a `code`: `file_empty`, `no_rows`, `file_too_large`, `too_many_rows`, `too_many_columns`, "
        "`line_too_long`, `cell_too_large`, `binary_file`, `not_utf8`, `not_csv`, `header_missing`, "
        "`wrong_delimiter`, `missing_columns`, `duplicate_column` (`invalid_period` for the period fields). "
        "Under the limits no row fails the file: a bad row is an `invalid_row` discrepancy."
    ),
)
def settlement_upload(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008 (ninja's declaration style)
    period_start: str | None = Form(None),  # noqa: B008
    period_end: str | None = Form(None),  # noqa: B008
):
    intake = services.settlement_create(
        merchant_id=request.auth.merchant_id,
        actor=request.auth.actor,
        file=file,
        filename=file.name or "settlement.csv",
        period_start=period_start,
        period_end=period_end,
        source=Source.API,
    )
    settlement = selectors.settlement_get(
        merchant_id=request.auth.merchant_id, settlement_id=intake.settlement.settlement_id
    )
    return Status(202 if intake.created else 200, settlement)


@router.get("/settlements", response={200: SettlementListOut, 401: Problem, 404: Problem, 422: Problem})
def settlement_list(request: HttpRequest, filters: Query[SettlementListQuery]):
    page = selectors.settlement_list_for_merchant(
        merchant_id=request.auth.merchant_id, limit=_limit(filters.limit), starting_after=filters.starting_after
    )
    return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}


@router.get("/settlements/{settlement_id}", response={200: SettlementOut, 401: Problem, 404: Problem})
def settlement_retrieve(request: HttpRequest, settlement_id: str):
    return selectors.settlement_get(merchant_id=request.auth.merchant_id, settlement_id=settlement_id)


@router.get(
    "/settlements/{settlement_id}/discrepancies",
    response={200: DiscrepancyListOut, 401: Problem, 404: Problem, 422: Problem},
)
def discrepancy_list(request: HttpRequest, settlement_id: str, filters: Query[DiscrepancyListQuery]):
    page = selectors.discrepancy_list(
        merchant_id=request.auth.merchant_id,
        settlement_id=settlement_id,
        limit=_limit(filters.limit),
        starting_after=filters.starting_after,
        kind=filters.kind,
    )
    return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}


@router.get(
    "/settlements/{settlement_id}/discrepancies/export",
    response={200: None, 401: Problem, 404: Problem, 422: Problem},
    description="Every discrepancy as `text/csv`, streamed; formula-like cells are neutralised.",
)
def discrepancy_export(request: HttpRequest, settlement_id: str, kind: str | None = None):
    items = selectors.discrepancy_iter(merchant_id=request.auth.merchant_id, settlement_id=settlement_id, kind=kind)
    audit_record(
        merchant_id=request.auth.merchant_id,
        actor=request.auth.actor,
        action="discrepancy.export",
        entity_type="settlement",
        entity_id=settlement_id,
        detail=kind or "all discrepancies",
    )
    response = StreamingHttpResponse(discrepancy_csv(items), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{settlement_id}-discrepancies.csv"'
    return response


@router.post(
    "/settlements/{settlement_id}/discrepancies/{discrepancy_id}/resolve",
    response={200: DiscrepancyOut, 401: Problem, 404: Problem, 409: Problem, 422: Problem},
)
def discrepancy_resolve(request: HttpRequest, settlement_id: str, discrepancy_id: str, payload: ResolveIn):
    discrepancy = services.discrepancy_resolve(
        merchant_id=request.auth.merchant_id,
        settlement_id=settlement_id,
        discrepancy_id=discrepancy_id,
        actor=request.auth.actor,
        reason=payload.reason,
    )
    return discrepancy
