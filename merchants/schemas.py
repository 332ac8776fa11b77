"""API schemas of the merchants app."""

from __future__ import annotations

from ninja import Schema

from core.wire import rfc3339
from merchants.models import Merchant


class MerchantOut(Schema):
    id: str
    object: str = "merchant"
    name: str
    default_currency: str
    created: str

    @staticmethod
    def resolve_id(merchant: Merchant) -> str:
        return merchant.merchant_id

    @staticmethod
    def resolve_object(merchant: Merchant) -> str:
        return "merchant"

    @staticmethod
    def resolve_created(merchant: Merchant) -> str | None:
        return rfc3339(merchant.created)
