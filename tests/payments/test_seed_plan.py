"""The demo plan of `seed_demo`, without a database."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from payments.management.demo_plan import plan_day


@pytest.mark.parametrize("minutes_after_midnight", [0, 1, 30, 59, 61, 23 * 60 + 59])
def test_the_plan_keeps_every_payment_in_its_day_at_any_time_of_day(minutes_after_midnight):
    """Resuming counts each day's payments: a payment planned for today must not land in yesterday,
    which "an hour before now" is just after midnight."""
    day = datetime(2026, 11, 30, tzinfo=UTC)
    now = day + timedelta(minutes=minutes_after_midnight, seconds=17)

    plan = plan_day(random.Random("plan"), day, ("usd",), 200, now)

    assert len(plan) == 200
    assert all(day <= item.at <= now for item in plan)
