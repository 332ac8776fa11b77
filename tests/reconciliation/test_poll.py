"""The settlement progress poll: it is not activity (an unattended tab is still signed out after the idle
timeout, PCI DSS 8.2.8) and it stops by itself after `POLL_SECONDS`."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from reconciliation import services
from reconciliation.models import Settlement
from reconciliation.views import POLL_SECONDS
from tests.factories import TEST_ACTOR, make_merchant, make_payment, make_user
from tests.reconciliation.files import csv_bytes, line_for

pytestmark = pytest.mark.usefixtures("moto_without_rollback")

POLL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "settlement-progress", "HTTP_X_PAYSITE_POLL": "1"}


@pytest.fixture
def merchant():
    return make_merchant("Acme")


@pytest.fixture
def queued(merchant) -> Settlement:
    """A settlement still waiting to be processed: its page polls."""
    payment = make_payment(merchant.merchant_id)
    intake = services.settlement_create(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(csv_bytes([line_for(payment)])),
        filename="nov.csv",
        enqueue=False,
    )
    return intake.settlement


@pytest.fixture
def clock(monkeypatch):
    """Django's clock (sessions, the idle check, the poll bound), moved by the test."""
    from django.utils import timezone

    start = datetime.now(UTC).replace(microsecond=0)
    now = {"at": start}
    monkeypatch.setattr(timezone, "now", lambda: now["at"])

    def move_to(seconds: float) -> int:
        now["at"] = start + timedelta(seconds=seconds)
        return int(now["at"].timestamp())

    move_to(0)
    return move_to


def _detail(settlement: Settlement) -> str:
    return reverse("reconciliation:settlement-detail", kwargs={"settlement_id": settlement.settlement_id})


@pytest.mark.parametrize(("repeated", "signed_in_after"), [("poll", False), ("page", True)])
def test_polls_do_not_keep_an_idle_session_alive(client, db, merchant, queued, clock, repeated, signed_in_after):
    client.force_login(make_user(merchant_id=merchant.merchant_id, role="viewer"))
    since = clock(0)
    assert client.get(_detail(queued)).status_code == 200  # the last thing the person did

    idle_minutes = settings.SESSION_COOKIE_AGE // 60
    for minute in range(1, idle_minutes):  # an unattended tab polls on
        clock(minute * 60)
        if repeated == "poll":
            answer = client.get(_detail(queued), {"since": since}, **POLL)
            assert answer.status_code == 200 and b'id="settlement-progress"' in answer.content
        else:
            assert client.get(_detail(queued)).status_code == 200
    clock(idle_minutes * 60 + 1)
    after = client.get(_detail(queued))

    assert (after.status_code == 200) is signed_in_after
    if not signed_in_after:
        assert after.status_code == 302 and after["Location"].startswith("/accounts/login/")


def test_the_page_marks_its_polls_and_says_since_when(client, db, merchant, queued, clock):
    client.force_login(make_user(merchant_id=merchant.merchant_id, role="viewer"))
    now = clock(0)

    page = client.get(_detail(queued)).content.decode()

    assert 'hx-trigger="every 1s"' in page
    assert """hx-headers='{"X-Paysite-Poll": "1"}'""" in page and f"""hx-vals='{{"since": {now}}}'""" in page


@pytest.mark.parametrize(
    ("since", "polls_on"),
    [
        (lambda now: now, True),
        (lambda now: now - POLL_SECONDS + 5, True),
        (lambda now: now - POLL_SECONDS, False),
        (lambda now: now - 24 * 3600, False),
        (lambda now: now + 3600, False),  # a time to come: not a page of ours
        (lambda now: f"{now}\n", False),
        (lambda now: "", False),
    ],
)
def test_polling_stops_after_a_bounded_time(client, db, merchant, queued, clock, since, polls_on):
    client.force_login(make_user(merchant_id=merchant.merchant_id, role="viewer"))
    now = clock(0)

    fragment = client.get(_detail(queued), {"since": since(now)}, **POLL).content.decode()

    assert fragment.lstrip().startswith('<section id="settlement-progress"')
    assert ('hx-trigger="every 1s"' in fragment) is polls_on
    assert ('data-testid="poll-stopped"' in fragment) is not polls_on
    assert "0 of 1 rows" in fragment  # the progress is still shown
