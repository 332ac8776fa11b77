"""The one consumer that keeps the search index, and the queries over it.

Writers hand over stored items (DynamoDB JSON) after their write committed: the payment services
after each change, the customer service after a create, the historical import after each chunk, and
in production the `SearchIndexer` Lambda from the tables' streams (then `SEARCH_INDEX_INLINE=False`
turns the in-process feed off). Indexing never fails a write: the index is derived, and
`manage.py search rebuild` makes it again from DynamoDB.

Every query takes the merchant id and filters by it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

from search import backends, terms
from search.documents import ROW_BUILDERS
from search.models import EntryKind, SearchEntry

logger = logging.getLogger(__name__)
_UPDATED = ["merchant_id", "customer_id", "status", "currency", "amount", "created", "terms"]


def index_items(kind: str, images: Iterable[dict[str, Any]]) -> int:
    """Add or replace the rows of these stored items (one statement per 500). Returns the rows written."""
    build = ROW_BUILDERS[EntryKind(kind)]
    rows = [SearchEntry(**build(image)) for image in images]
    for start in range(0, len(rows), 500):
        SearchEntry.objects.bulk_create(
            rows[start : start + 500],
            update_conflicts=True,
            unique_fields=["kind", "object_id"],
            update_fields=_UPDATED,
        )
    return len(rows)


def remove(kind: str, object_ids: Iterable[str]) -> None:
    SearchEntry.objects.filter(kind=kind, object_id__in=list(object_ids)).delete()


def after_commit(kind: str, images: Iterable[dict[str, Any]]) -> None:
    """What a service calls once its write committed: index in process, unless the streams do it.
    A failure is logged, never raised: the write stands and a rebuild repairs the index."""
    if not getattr(settings, "SEARCH_INDEX_INLINE", True):
        return
    try:
        with transaction.atomic():  # a savepoint: a failure here never breaks a caller's transaction
            index_items(kind, images)
    except Exception:
        logger.exception("search index: %s rows not written (run `manage.py search rebuild`)", kind)


def clear(*, merchant_id: str | None = None) -> int:
    rows = SearchEntry.objects.all() if merchant_id is None else SearchEntry.objects.filter(merchant_id=merchant_id)
    return rows.delete()[0]


# --- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchPage:
    ids: list[str]  # newest first (or oldest first when asked)
    total: int  # every match, not only this page's
    has_more: bool


def _rows_matching(groups: list[terms.Group]) -> RawSQL:
    sql, params = backends.match_subquery(connection.vendor, groups)
    return RawSQL(sql, params)  # noqa: S611 - fixed SQL; the query is a bound parameter


def _matching(merchant_id: str, kind: str, query: str) -> Q | None:
    """Every word of the query must match the row, or, for a payment, the row of its customer (so
    "hopper order" finds Grace Hopper's orders)."""
    groups = terms.query_groups(merchant_id, query)
    if not groups:
        return None
    if kind != EntryKind.PAYMENT:
        return Q(id__in=_rows_matching(groups))
    matched = Q()
    for group in groups:
        customers = SearchEntry.objects.filter(
            merchant_id=merchant_id, kind=EntryKind.CUSTOMER, id__in=_rows_matching([group])
        ).values("object_id")
        matched &= Q(id__in=_rows_matching([group])) | Q(customer_id__in=customers)
    return matched


def search(
    *,
    merchant_id: str,
    kind: str,
    query: str,
    limit: int = 25,
    starting_after: str | None = None,
    newest_first: bool = True,
    status: str | None = None,
    currency: str | None = None,
    customer_id: str | None = None,
    created_gte: datetime | None = None,
    created_lt: datetime | None = None,
    amount_gte: int | None = None,
    amount_lte: int | None = None,
) -> SearchPage:
    """One page of the ids of this merchant's `kind` rows matching `query`, with the other list
    filters applied in the same SQL, and the number of all matches."""
    matched = _matching(merchant_id, kind, query)
    if matched is None:
        return SearchPage(ids=[], total=0, has_more=False)
    rows = SearchEntry.objects.filter(matched, merchant_id=merchant_id, kind=kind)
    exact = {
        "status": status,
        "currency": currency,
        "customer_id": customer_id,
        "created__gte": created_gte,
        "created__lt": created_lt,
        "amount__gte": amount_gte,
        "amount__lte": amount_lte,
    }
    rows = rows.filter(**{name: value for name, value in exact.items() if value is not None and value != ""})
    total = rows.count()
    if starting_after:
        rows = rows.filter(object_id__lt=starting_after) if newest_first else rows.filter(object_id__gt=starting_after)
    ids = list(
        rows.order_by("-object_id" if newest_first else "object_id").values_list("object_id", flat=True)[: limit + 1]
    )
    return SearchPage(ids=ids[:limit], total=total, has_more=len(ids) > limit)
