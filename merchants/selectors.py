"""Reads of merchants and API keys. A merchant list is one Query on the `all-merchants` index."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from pynamodb.exceptions import DoesNotExist

from core.batch import batch_get
from core.ids import is_id
from core.middleware import request_current
from merchants.errors import ApiKeyNotFound, MerchantNotFound
from merchants.models import ApiKey, Invite, Membership, Merchant

# --- merchants -------------------------------------------------------------------------------


# --- API keys --------------------------------------------------------------------------------


# --- payments --------------------------------------------------------------------------------


# --- summaries -------------------------------------------------------------------------------


# --- customers -------------------------------------------------------------------------------


# --- webhook deliveries ----------------------------------------------------------------------


# The merchant item an API write's authentication read with its key (`merchants.auth`), kept on the
# request so that the same request needs no second read of it (the webhook fan-out of a payment change).
_REQUEST_MERCHANT = "_paysite_merchant_read"


def merchant_keep_for_request(request: object, merchant: Merchant | None) -> None:
    setattr(request, _REQUEST_MERCHANT, merchant)


def merchant_read_by_this_request(*, merchant_id: str) -> Merchant | None:
    """The merchant as the request being answered already read it (an API write's authentication), or
    None: outside a request, in a request that did not read it, or for another merchant."""
    merchant = getattr(request_current(), _REQUEST_MERCHANT, None)
    return merchant if merchant is not None and merchant.merchant_id == merchant_id else None


def merchant_get_or_none(*, merchant_id: str) -> Merchant | None:
    if not is_id(merchant_id, "mer"):
        return None
    try:
        return Merchant.get(merchant_id)
    except DoesNotExist:
        return None


def merchant_get(*, merchant_id: str) -> Merchant:
    merchant = merchant_get_or_none(merchant_id=merchant_id)
    if merchant is None:
        raise MerchantNotFound(f"No merchant {merchant_id}.", param="merchant_id")
    return merchant


def merchant_list() -> list[Merchant]:
    """Every merchant, oldest first: one Query on the `all-merchants` index."""
    return list(Merchant.all_merchants.query("merchant"))


def merchant_id_list() -> list[str]:
    """Every merchant's id, oldest first (the audit partitions of the merchants)."""
    return [merchant.merchant_id for merchant in merchant_list()]


def merchant_names(*, merchant_ids: list[str]) -> dict[str, str]:
    wanted = [m for m in dict.fromkeys(merchant_ids) if is_id(m, "mer")]
    if not wanted:
        return {}
    return {m.merchant_id: m.name for m in Merchant.batch_get(wanted, attributes_to_get=["merchant_id", "name"])}


def api_key_get_by_hash(*, key_hash: str) -> ApiKey | None:
    try:
        return ApiKey.get(key_hash)
    except DoesNotExist:
        return None


# A key's merchant never changes, so once this process has seen a key it reads the key and its
# merchant together, in one BatchGetItem (a write needs both), instead of one after the other. Both
# items are read afresh every time: a revoked key or a suspended merchant counts at once. Bounded.
_KEY_MERCHANTS: dict[str, str] = {}
_KEY_MERCHANTS_MAX = 10_000


def api_key_with_merchant(*, key_hash: str) -> tuple[ApiKey | None, Merchant | None]:
    """The key with this hash and its merchant (None for what does not exist): one round trip for a
    key this process has seen before, two for a new one."""
    merchant_id = _KEY_MERCHANTS.get(key_hash)
    if merchant_id is None:
        key = api_key_get_by_hash(key_hash=key_hash)
        merchant = None
    else:
        found = batch_get(
            [(ApiKey, {"key_hash": key_hash}), (Merchant, {"merchant_id": merchant_id})], consistent=False
        )
        key = next((item for item in found if isinstance(item, ApiKey)), None)
        merchant = next((item for item in found if isinstance(item, Merchant)), None)
    if key is None:
        _KEY_MERCHANTS.pop(key_hash, None)
        return None, None
    if key.merchant_id != merchant_id:  # new to this process (or a deleted key's hash made again)
        if len(_KEY_MERCHANTS) >= _KEY_MERCHANTS_MAX:
            _KEY_MERCHANTS.clear()
        _KEY_MERCHANTS[key_hash] = key.merchant_id
        merchant = merchant_get_or_none(merchant_id=key.merchant_id)
    return key, merchant


def api_key_get_by_id(*, key_id: str) -> ApiKey:
    if is_id(key_id, "key"):
        for keys_only in ApiKey.by_key_id.query(key_id, limit=1):
            key = api_key_get_by_hash(key_hash=keys_only.key_hash)
            if key is not None:
                return key
    raise ApiKeyNotFound(f"No API key {key_id}.", param="key_id")


def api_key_list_for_merchant(*, merchant_id: str) -> list[ApiKey]:
    """The merchant's keys, newest first."""
    return list(ApiKey.by_merchant.query(merchant_id, scan_index_forward=False))


# --- team --------------------------------------------------------------------------------------


def team_member_list(*, merchant_id: str) -> list[Membership]:
    return list(Membership.objects.filter(merchant_id=merchant_id).select_related("user").order_by("user__username"))


def team_invite_list_pending(*, merchant_id: str, now: datetime) -> list[Invite]:
    return list(
        Invite.objects.filter(
            merchant_id=merchant_id, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).order_by("-created")
    )


def team_account_exists(*, email: str) -> bool:
    """Whether someone invited at `email` already has an account (then they sign in to accept)."""
    user_model = get_user_model()
    return (
        user_model.objects.filter(email__iexact=email).exists()
        or user_model.objects.filter(username__iexact=email).exists()
    )
