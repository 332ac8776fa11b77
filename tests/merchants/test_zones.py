"""A merchant's time zone: from when it is set, daily counters and "Today" use the merchant's local
day; earlier days stay UTC days. Timestamps on pages carry their zone, in one format."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.templatetags.timezones import zone_name, zoned, zoned_seconds
from merchants.selectors import merchant_get
from merchants.services.settings import merchant_settings_update
from merchants.zones import MerchantZone, merchant_today, merchant_zone
from payments.models import DailySummary
from tests.factories import TEST_ACTOR, make_payment

PARIS = "Europe/Paris"


def _zone_on_another_day(now: datetime) -> str:
    """A zone whose date differs from UTC's at `now`: +14 from 10:00 UTC on, -11 before 11:00 UTC."""
    return "Pacific/Kiritimati" if now.hour >= 10 else "Pacific/Pago_Pago"


def _set_zone(merchant, zone: str):
    return merchant_settings_update(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        name=merchant.name,
        default_currency=merchant.default_currency,
        time_zone=zone,
    )


def _summary_days(merchant_id: str) -> set[date]:
    return {date.fromisoformat(item.day_currency_shard.split("#")[0]) for item in DailySummary.query(merchant_id)}


@pytest.mark.pure
def test_a_zone_counts_local_days_only_from_when_it_was_set():
    since = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    zone = MerchantZone(name="Pacific/Kiritimati", since=since)  # UTC+14

    assert zone.day(since - timedelta(minutes=1)) == date(2026, 11, 29)  # before: the UTC day
    assert zone.day(since) == date(2026, 11, 30)  # 02:00 the next day in Kiritimati
    assert MerchantZone().day(since) == date(2026, 11, 29)


@pytest.mark.pure
def test_one_format_with_the_zone_everywhere():
    at = datetime(2026, 11, 30, 13, 5, 9, tzinfo=UTC)

    class Merchant:
        time_zone = PARIS

    assert zoned(at, Merchant()) == "Nov 30, 2026, 14:05 CET"
    assert zoned_seconds(at, PARIS) == "Nov 30, 2026, 14:05:09 CET"
    assert zoned(at) == "Nov 30, 2026, 13:05 UTC"
    assert zoned("2026-11-30T13:05:09Z", "America/New_York") == "Nov 30, 2026, 08:05 EST"
    assert zoned(None) == "" and zone_name(None) == "UTC" and zone_name(Merchant()) == PARIS


@pytest.mark.engine
def test_counters_use_the_local_day_after_the_zone_is_set_and_the_utc_day_before(merchant, dynamodb_backend):
    before = make_payment(merchant.merchant_id)
    zone = _zone_on_another_day(datetime.now(UTC))
    updated = _set_zone(merchant, zone)

    after = make_payment(merchant.merchant_id)

    local_day = after.created.astimezone(ZoneInfo(zone)).date()
    assert local_day != after.created.astimezone(UTC).date()
    assert updated.time_zone_since <= after.created
    assert _summary_days(merchant.merchant_id) == {before.created.astimezone(UTC).date(), local_day}
    assert merchant_today(updated, now=after.created) == local_day


def test_a_new_zone_applies_at_once_in_this_process(merchant):
    assert merchant_zone(merchant_id=merchant.merchant_id).name == "UTC"

    _set_zone(merchant, PARIS)

    zone = merchant_zone(merchant_id=merchant.merchant_id)
    assert zone.name == PARIS and zone.since == merchant_get(merchant_id=merchant.merchant_id).time_zone_since


def test_the_home_page_shows_the_zone_today_in_it_and_local_times(as_role, merchant):
    now = datetime.now(UTC)
    zone = _zone_on_another_day(now)
    _set_zone(merchant, zone)
    payment = make_payment(merchant.merchant_id, amount=1234)
    client = as_role("viewer")

    page = client.get("/")

    body = page.content.decode()
    assert f'data-testid="merchant-time-zone" title="The merchant\'s time zone: its days and times">{zone}<' in body
    assert f"Days are {zone} days from" in body and "days before that are UTC days" in body
    today = page.context["board"].windows[0]
    assert today.label == "Today" and today.totals.captured == 1234  # today's payment on the local day
    local = payment.created.astimezone(ZoneInfo(zone))
    assert local.strftime("%b %-d, %Y, %H:%M %Z") in body  # the latest payments, in the merchant's zone


def test_without_a_zone_the_home_page_says_utc(as_role, merchant):
    make_payment(merchant.merchant_id)

    body = as_role("viewer").get("/").content.decode()

    assert ">UTC<" in body and "Days are UTC days." in body
