"""Writes of the merchants app: merchants and their settings, API keys."""

from merchants.services.api_keys import CreatedKey, api_key_create, api_key_revoke, hash_secret
from merchants.services.merchants import merchant_create

__all__ = ["CreatedKey", "api_key_create", "api_key_revoke", "hash_secret", "merchant_create"]
