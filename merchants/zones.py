"""The merchant's days: which calendar day an instant belongs to for a merchant.

A merchant has a time zone (IANA name, UTC by default) and the time it was set (`time_zone_since`).
Instants from then on fall on the merchant's local day; earlier ones stay on their UTC day, so
counters already written keep their meaning. The daily summary counters (`payments.services.summaries`)
key their items by this day.

The zone is read on a payment's write path, so it is cached (`ZONE_CACHE_SECONDS`) and primed by
every write of the merchant in this process (create, settings): elsewhere a new zone applies within
that time, and the chart says from when days are local."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from django.core.cache import cache

from merchants.models import Merchant
from merchants.selectors import merchant_get_or_none

ZONE_CACHE_SECONDS = 300


@dataclass(frozen=True)
class MerchantZone:
    name: str = "UTC"
    since: datetime | None = None  # None: always UTC days

    @property
    def tz(self) -> tzinfo:
        if self.name == "UTC":
            return UTC
        try:
            return zoneinfo.ZoneInfo(self.name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return UTC

    def day(self, at: datetime) -> date:
        """The merchant's calendar day of the instant `at` (a naive time is UTC)."""
        at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        if self.since is None or at < self.since:
            return at.astimezone(UTC).date()
        return at.astimezone(self.tz).date()


def zone_of_merchant(merchant: Merchant | None) -> MerchantZone:
    if merchant is None or not merchant.time_zone:
        return MerchantZone()
    since = merchant.time_zone_since
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return MerchantZone(name=merchant.time_zone, since=since)


def _key(merchant_id: str) -> str:
    return f"merchant:zone:{merchant_id}"


def zone_remember(merchant: Merchant) -> MerchantZone:
    zone = zone_of_merchant(merchant)
    cache.set(_key(merchant.merchant_id), (zone.name, zone.since), ZONE_CACHE_SECONDS)
    return zone


def merchant_zone(*, merchant_id: str) -> MerchantZone:
    cached = cache.get(_key(merchant_id))
    if cached is not None:
        name, since = cached
        return MerchantZone(name=name, since=since)
    merchant = merchant_get_or_none(merchant_id=merchant_id)
    return zone_remember(merchant) if merchant is not None else MerchantZone()


def merchant_day(*, merchant_id: str, at: datetime) -> date:
    """The day of `at` for this merchant's counters."""
    return merchant_zone(merchant_id=merchant_id).day(at)


def merchant_today(merchant: Merchant, *, now: datetime | None = None) -> date:
    return zone_of_merchant(merchant).day(now or datetime.now(UTC))
