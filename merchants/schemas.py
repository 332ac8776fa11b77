"""API schemas of the merchants app."""

from __future__ import annotations

from ninja import Schema


class MerchantOut(Schema):
    id: str
    object: str = "merchant"
    name: str
    default_currency: str
    created: str
