"""Per-merchant rate limit of the API: a fixed one-minute window counted in Django's cache (Redis
when `REDIS_URL` is set, so every worker shares one count; the in-process cache otherwise).

The limit is the merchant's `rate_limit_per_minute`, or `DEFAULT_RATE_LIMIT_PER_MINUTE`. It is read
once a minute per process (cached), so a changed limit applies within a minute. Over the limit the
API answers 429 with `Retry-After` (seconds to the next window)."""

from __future__ import annotations

import math
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from merchants.models import Merchant
from merchants.selectors import merchant_get_or_none

WINDOW_SECONDS = 60
_LIMIT_CACHE_SECONDS = 60


def _limit_key(merchant_id: str) -> str:
    return f"ratelimit:limit:{merchant_id}"


def rate_limit_remember(*, merchant: Merchant | None, merchant_id: str) -> int:
    """Cache the merchant's limit from an item already read (the API's write check reads it anyway)."""
    configured = merchant.rate_limit_per_minute if merchant is not None else None
    limit = int(configured) if configured else int(settings.DEFAULT_RATE_LIMIT_PER_MINUTE)
    cache.set(_limit_key(merchant_id), limit, _LIMIT_CACHE_SECONDS)
    return limit


def rate_limit_forget(*, merchant_id: str) -> None:
    """A changed limit applies at once in this process (within a minute elsewhere)."""
    cache.delete(_limit_key(merchant_id))


def rate_limit_for_merchant(*, merchant_id: str) -> int:
    limit = cache.get(_limit_key(merchant_id))
    if limit is None:
        limit = rate_limit_remember(merchant=merchant_get_or_none(merchant_id=merchant_id), merchant_id=merchant_id)
    return int(limit)


def rate_limit_hit(*, merchant_id: str, now: float | None = None) -> tuple[bool, int]:
    """Count one request; (allowed, seconds until the window resets)."""
    at = time.time() if now is None else now
    window = int(at // WINDOW_SECONDS)
    key = f"ratelimit:count:{merchant_id}:{window}"
    cache.add(key, 0, WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, WINDOW_SECONDS * 2)
        count = 1
    retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - at))
    return count <= rate_limit_for_merchant(merchant_id=merchant_id), retry_after


class MerchantRateLimit(BaseThrottle):
    """django-ninja throttle for every authenticated operation (it runs after authentication)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        merchant_id = getattr(getattr(request, "auth", None), "merchant_id", None)
        if not merchant_id:
            return True
        allowed, retry_after = rate_limit_hit(merchant_id=merchant_id)
        self._local.wait = retry_after
        return allowed

    def wait(self) -> float | None:
        return getattr(self._local, "wait", WINDOW_SECONDS)
