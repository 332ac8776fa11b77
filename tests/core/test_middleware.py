"""Request ids and idle sessions (core/middleware.py)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEvent
from core.middleware import LAST_ACTIVITY

PAGE = reverse("payments:payment-list")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("req-from-the-caller.1", True),
        ("a" * 128, True),
        ("req-from-the-caller.1\n", False),  # `$` would have let the newline through
        ("a" * 129, False),
        ("two words", False),
        ("", False),
    ],
)
def test_a_caller_request_id_is_kept_only_when_it_is_sane_as_a_whole(client, db, given, kept):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=given)

    assert response.status_code == 200
    assert (response["X-Request-Id"] == given) is kept
    if not kept:
        assert response["X-Request-Id"].startswith("req_") and "\n" not in response["X-Request-Id"]


@pytest.fixture
def member(as_role):
    client = as_role("viewer")
    assert client.get(PAGE).status_code == 200  # the session's activity is now
    return client


def _idle_for(client, seconds: int) -> None:
    """Make the session's last activity `seconds` old while its expiry is renewed (as a save by a poll
    that changed the session would do)."""
    session = client.session
    session[LAST_ACTIVITY] = int(time.time()) - seconds
    session.save()


@pytest.mark.parametrize("poll", [False, True])
def test_a_session_idle_for_the_timeout_is_signed_out_and_audited(member, poll):
    _idle_for(member, settings.SESSION_COOKIE_AGE)

    response = member.get(PAGE, HTTP_X_PAYSITE_POLL="1" if poll else "")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert member.get(PAGE).status_code == 302  # and stays signed out
    (logout,) = [e for e in AuditEvent.query("ops") if e.action == "auth.logout"]
    assert logout.detail == "idle timeout" and logout.actor_type == "user"


def test_a_session_used_within_the_timeout_stays_signed_in(member):
    _idle_for(member, settings.SESSION_COOKIE_AGE - 60)

    assert member.get(PAGE).status_code == 200
    assert member.session[LAST_ACTIVITY] >= int(time.time()) - 5  # a page load is activity


def test_a_poll_is_not_activity(member):
    _idle_for(member, 600)

    assert member.get(PAGE, HTTP_X_PAYSITE_POLL="1").status_code == 200

    assert member.session[LAST_ACTIVITY] <= int(time.time()) - 600
