"""The balance and payouts router: thin operations over selectors."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from core.problems import Problem
from payments.balance import balance_get
from reconciliation import selectors
from reconciliation.schemas import BalanceOut, PayoutListOut, PayoutListQuery, PayoutOut

router = Router(tags=["balance"])


@router.get(
    "/balance",
    response={200: BalanceOut, 401: Problem},
    summary="Retrieve the balance",
    description=(
        "Per currency: `pending`, captured money not yet in a completed settlement less its refunds and "
        "disputes, and `available`, what completed settlements paid out (net of their fees) less the refunds "
        "and disputes of settled payments. Kept in counters updated with each change, never computed by scanning."
    ),
)
def balance_retrieve(request: HttpRequest):
    balances = balance_get(merchant_id=request.auth.merchant_id)
    return {
        "object": "balance",
        "available": [{"currency": b.currency, "amount": b.available} for b in balances],
        "pending": [{"currency": b.currency, "amount": b.pending} for b in balances],
    }


@router.get(
    "/payouts",
    response={200: PayoutListOut, 401: Problem, 422: Problem},
    summary="List payouts",
    description="Newest first: one payout per currency of each completed settlement file.",
)
def payout_list(request: HttpRequest, query: Query[PayoutListQuery]):
    page = selectors.payout_list_for_merchant(
        merchant_id=request.auth.merchant_id, limit=query.limit, starting_after=query.starting_after
    )
    return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}


@router.get(
    "/payouts/{payout_id}",
    response={200: PayoutOut, 401: Problem, 404: Problem},
    summary="Retrieve a payout",
    description="Another merchant's payout is 404.",
)
def payout_retrieve(request: HttpRequest, payout_id: str):
    return selectors.payout_get(merchant_id=request.auth.merchant_id, payout_id=payout_id)
