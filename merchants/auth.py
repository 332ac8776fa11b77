"""API key authentication for django-ninja: `Authorization: Bearer sk_test_...`."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from ninja.security import HttpBearer

from core.actor import Actor, actor_from_request
from merchants.errors import MerchantSuspended
from merchants.models import ApiKey
from merchants.ratelimit import rate_limit_remember
from merchants.selectors import api_key_get_by_hash, api_key_with_merchant, merchant_keep_for_request
from merchants.services.api_keys import hash_secret


@dataclass(frozen=True)
class ApiPrincipal:
    merchant_id: str
    key: ApiKey
    actor: Actor


# Reads still work for a suspended merchant; every other method is a write.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiKeyAuth(HttpBearer):
    """One GetItem per read request, on purpose uncached: a revoked key stops working at once. A write
    reads the merchant too (uncached as well, and the rate limit is taken from it), in the same
    BatchGetItem once the process knows the key's merchant: a suspended merchant's writes get 403
    `merchant_suspended` here, before throttling, validation and any idempotency claim, so the refusal
    is never stored for replay."""

    openapi_description = "A secret API key (`sk_test_...`), sent as `Authorization: Bearer <key>`."

    def authenticate(self, request: HttpRequest, token: str) -> ApiPrincipal | None:
        if not token or len(token) > 200:
            return None
        key_hash = hash_secret(token)
        writes = request.method not in READ_METHODS
        if writes:
            key, merchant = api_key_with_merchant(key_hash=key_hash)
        else:
            key, merchant = api_key_get_by_hash(key_hash=key_hash), None
        if key is None or key.revoked is not None:
            return None
        principal = ApiPrincipal(
            merchant_id=key.merchant_id, key=key, actor=actor_from_request(request, api_key_id=key.key_id)
        )
        request.merchant_id = key.merchant_id
        if writes:
            rate_limit_remember(merchant=merchant, merchant_id=key.merchant_id)  # one read for both
            merchant_keep_for_request(request, merchant)  # and for the webhook fan-out of this write
            if merchant is not None and merchant.is_suspended:
                raise MerchantSuspended(
                    "This merchant is suspended: its API keys can read but not write. Contact support to reactivate it."
                )
        return principal
