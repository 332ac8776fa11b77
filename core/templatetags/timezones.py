"""Timestamps as pages show them: one format everywhere, in the merchant's time zone, with the zone.

`{{ payment.created|zoned:tenant.merchant }}` -> "Nov 30, 2026, 14:05 CET". The argument is a
merchant (anything with a `time_zone`), a zone name, or nothing (UTC)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, tzinfo
from typing import Any

from django import template

register = template.Library()

FORMAT = "%b %-d, %Y, %H:%M %Z"
FORMAT_SECONDS = "%b %-d, %Y, %H:%M:%S %Z"


def zone_of(where: Any) -> tzinfo:
    """The zone of a merchant (its `time_zone`), of a zone name, or UTC; an unknown name is UTC."""
    name = where if isinstance(where, str) else getattr(where, "time_zone", None)
    if not name:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _when(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # stored times are UTC


def zoned_text(value: Any, where: Any = None, *, seconds: bool = False) -> str:
    when = _when(value)
    if when is None:
        return ""
    local = when.astimezone(zone_of(where))
    return local.strftime(FORMAT_SECONDS if seconds else FORMAT)


@register.filter
def zoned(value: Any, where: Any = None) -> str:
    """A datetime (or RFC 3339 text) in the merchant's zone: "Nov 30, 2026, 14:05 CET"."""
    return zoned_text(value, where)


@register.filter
def zoned_seconds(value: Any, where: Any = None) -> str:
    """The same with seconds: "Nov 30, 2026, 14:05:09 CET"."""
    return zoned_text(value, where, seconds=True)


@register.filter
def zone_name(where: Any) -> str:
    """The merchant's zone name ("Europe/Paris"), "UTC" without one."""
    zone = zone_of(where)
    return "UTC" if zone is UTC else str(zone)
