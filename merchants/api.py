"""The merchant of the calling API key."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from core.problems import Problem
from merchants import selectors
from merchants.schemas import MerchantOut

router = Router(tags=["merchant"])


@router.get(
    "/merchant",
    response={200: MerchantOut, 401: Problem, 429: Problem},
    operation_id="payments_api_merchant_retrieve",
)
def merchant_retrieve(request: HttpRequest):
    return selectors.merchant_get(merchant_id=request.auth.merchant_id)
