"""API key authentication for django-ninja: `Authorization: Bearer sk_test_...`."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from ninja.security import HttpBearer

from core.actor import Actor, actor_from_request
from merchants.models import ApiKey
from merchants.selectors import api_key_get_by_hash
from merchants.services.api_keys import hash_secret


@dataclass(frozen=True)
class ApiPrincipal:
    merchant_id: str
    key: ApiKey
    actor: Actor


class ApiKeyAuth(HttpBearer):
    """One GetItem per request, on purpose uncached: a revoked key stops working at once."""

    openapi_description = "A secret API key (`sk_test_...`), sent as `Authorization: Bearer <key>`."

    def authenticate(self, request: HttpRequest, token: str) -> ApiPrincipal | None:
        if not token or len(token) > 200:
            return None
        key = api_key_get_by_hash(key_hash=hash_secret(token))
        if key is None or key.revoked is not None:
            return None
        principal = ApiPrincipal(
            merchant_id=key.merchant_id, key=key, actor=actor_from_request(request, api_key_id=key.key_id)
        )
        request.merchant_id = key.merchant_id
        return principal
