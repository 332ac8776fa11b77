"""The payment list's free-text search and the customer names the lists show.

A search query is answered by the search index (ids, newest first, with the list's other filters in
the same SQL and a count of all matches); the payments themselves are then read from DynamoDB by key,
one BatchGetItem per page, so the rows are what DynamoDB holds, never the index's copy. Without a
query the list keeps its DynamoDB paths."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from customers.pii import customer_view, may_see_pii
from customers.selectors import customer_list_by_ids
from merchants.tenancy import Tenant
from payments import selectors
from payments.models import Payment
from search import index as search_index
from search.models import EntryKind


def customer_labels(tenant: Tenant, payments: Iterable[Payment]) -> dict[str, str]:
    """customer id -> the customer's name, else email (masked for roles that may not see them)."""
    wanted = [p.customer_id for p in payments if p.customer_id]
    if not wanted:
        return {}
    reveal = may_see_pii(tenant)
    labels = {}
    for customer in customer_list_by_ids(merchant_id=tenant.merchant_id, customer_ids=wanted):
        view = customer_view(customer, reveal=reveal)
        labels[customer.customer_id] = view.name or view.email or customer.customer_id
    return labels


def _index_filters(filters: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in filters.items() if name != "card_last4"}


def search_page(
    *,
    merchant_id: str,
    query: str,
    filters: dict[str, Any],
    limit: int,
    starting_after: str | None,
    ending_before: str | None,
) -> tuple[list[Payment], search_index.SearchPage, bool]:
    """One page of matching payments (in list order), the index's page, and whether an earlier page exists."""
    filters = _index_filters(filters)
    if ending_before:  # the previous page: read backwards from the cursor, then turn it round
        filters["newest_first"] = not filters.get("newest_first", True)
    page = search_index.search(
        merchant_id=merchant_id,
        kind=EntryKind.PAYMENT,
        query=query,
        limit=limit,
        starting_after=ending_before or starting_after,
        **filters,
    )
    if ending_before:
        has_prev = page.has_more
        page = search_index.SearchPage(ids=list(reversed(page.ids)), total=page.total, has_more=True)
    else:
        has_prev = bool(starting_after)
    return selectors.payment_list_by_ids(merchant_id=merchant_id, payment_ids=page.ids), page, has_prev


def search_all(*, merchant_id: str, query: str, filters: dict[str, Any], batch: int = 100) -> Iterator[Payment]:
    """Every matching payment, page by page (the CSV export of a search)."""
    after = None
    while True:
        page = search_index.search(
            merchant_id=merchant_id,
            kind=EntryKind.PAYMENT,
            query=query,
            limit=batch,
            starting_after=after,
            **_index_filters(filters),
        )
        yield from selectors.payment_list_by_ids(merchant_id=merchant_id, payment_ids=page.ids)
        if not page.has_more or not page.ids:
            return
        after = page.ids[-1]
