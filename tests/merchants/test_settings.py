"""The merchant Settings page and its services: admins edit name, default currency, statement
descriptor and time zone; ops staff set the rate limit and suspend or reactivate; all audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.errors import InvalidState, ValidationFailed
from merchants import tenancy
from merchants.ratelimit import rate_limit_for_merchant
from merchants.selectors import merchant_get
from merchants.services.settings import (
    merchant_rate_limit_set,
    merchant_settings_update,
    merchant_suspend,
    settings_check,
)
from tests.factories import TEST_ACTOR, make_user

SETTINGS = reverse("settings:merchant-settings")
OPS = reverse("settings:ops")
VALID = {
    "name": "Acme Europe",
    "default_currency": "eur",
    "statement_descriptor": "ACME EU",
    "time_zone": "Europe/Paris",
}


def _actions(merchant_id: str) -> dict:
    return {e.action: e for e in AuditEvent.query(merchant_id)}


@pytest.mark.engine
def test_an_update_writes_only_what_changed_and_audits_it(merchant, dynamodb_backend):
    updated = merchant_settings_update(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, **VALID)

    assert (updated.name, updated.default_currency, updated.statement_descriptor) == ("Acme Europe", "eur", "ACME EU")
    assert updated.time_zone == "Europe/Paris" and updated.time_zone_since is not None
    event = _actions(merchant.merchant_id)["merchant.settings.update"]
    assert event.before == {
        "merchant_name": "Acme",
        "default_currency": "usd",
        "statement_descriptor": None,
        "time_zone": "UTC",
    }
    assert event.after["time_zone"] == "Europe/Paris" and event.after["merchant_name"] == "Acme Europe"


def test_saving_the_same_settings_again_writes_nothing(merchant):
    merchant_settings_update(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, **VALID)
    first = merchant_get(merchant_id=merchant.merchant_id)

    merchant_settings_update(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, **VALID)

    again = merchant_get(merchant_id=merchant.merchant_id)
    assert again.version == first.version and again.time_zone_since == first.time_zone_since
    updates = [e for e in AuditEvent.query(merchant.merchant_id) if e.action == "merchant.settings.update"]
    assert len(updates) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "  "),
        ("default_currency", "xyz"),
        ("statement_descriptor", "ab"),
        ("statement_descriptor", "12345"),
        ("statement_descriptor", 'ACME "BEST"'),
        ("time_zone", "Mars/Olympus"),
        ("time_zone", "CET+1"),
    ],
)
def test_bad_settings_name_their_field(field, value):
    with pytest.raises(ValidationFailed) as raised:
        settings_check(**{**VALID, field: value})

    assert raised.value.param == field


def test_the_rate_limit_applies_at_once_and_is_audited(merchant):
    assert rate_limit_for_merchant(merchant_id=merchant.merchant_id) > 7  # cached now

    merchant_rate_limit_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, rate_limit_per_minute=7)

    assert rate_limit_for_merchant(merchant_id=merchant.merchant_id) == 7
    event = _actions(merchant.merchant_id)["merchant.rate_limit.update"]
    assert event.before == {"rate_limit_per_minute": None} and event.after == {"rate_limit_per_minute": 7}
    with pytest.raises(ValidationFailed):
        merchant_rate_limit_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, rate_limit_per_minute=0)


def test_suspending_twice_is_an_invalid_state(merchant):
    merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Review")

    with pytest.raises(InvalidState):
        merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="Again")
    with pytest.raises(ValidationFailed):
        merchant_suspend(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, reason="   ")


# --- the page --------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("operator", 403), ("admin", 200)])
def test_only_admins_and_ops_staff_open_settings(as_role, role, status):
    response = as_role(role).get(SETTINGS)

    assert response.status_code == status
    if status == 200:
        assert b'id="ops"' not in response.content  # the ops controls are for staff only


def test_an_admin_saves_settings_from_the_page(as_role, merchant):
    client = as_role("admin")

    response = client.post(SETTINGS, VALID, follow=True)

    assert response.redirect_chain[-1][0] == SETTINGS
    assert b"Settings saved." in response.content
    stored = merchant_get(merchant_id=merchant.merchant_id)
    assert stored.name == "Acme Europe" and stored.time_zone == "Europe/Paris"
    event = _actions(merchant.merchant_id)["merchant.settings.update"]
    assert event.actor_type == "user"


def test_a_bad_value_is_shown_next_to_its_field_and_keeps_the_input(as_role, merchant):
    client = as_role("admin")

    response = client.post(SETTINGS, {**VALID, "statement_descriptor": "12345"})

    assert response.status_code == 422
    body = response.content.decode()
    assert "A statement descriptor is 5 to 22 characters" in body
    assert 'aria-invalid="true" autofocus' in body and 'value="12345"' in body
    assert merchant_get(merchant_id=merchant.merchant_id).name == "Acme"


def test_admins_cannot_use_the_ops_controls(as_role, merchant):
    client = as_role("admin")

    response = client.post(OPS, {"action": "suspend", "reason": "No"})

    assert response.status_code == 403
    assert merchant_get(merchant_id=merchant.merchant_id).status == "active"


def _staff_for(client, merchant):
    client.force_login(make_user("ops-person", staff=True))
    session = client.session
    session[tenancy.SESSION_KEY] = merchant.merchant_id
    session.save()
    return client


def test_ops_staff_suspend_and_reactivate_from_the_page(client, db, merchant):
    staff = _staff_for(client, merchant)

    empty = staff.post(OPS, {"action": "suspend", "reason": ""})
    suspended = staff.post(OPS, {"action": "suspend", "reason": "Chargeback ratio"}, follow=True)
    refused = staff.post(SETTINGS, VALID)
    reactivated = staff.post(OPS, {"action": "reactivate", "reason": "Cleared"}, follow=True)

    assert empty.status_code == 422 and b"This field is required." in empty.content
    assert b"The merchant is suspended" in suspended.content
    assert b'data-testid="suspended-banner"' in suspended.content and b"Chargeback ratio" in suspended.content
    assert refused.status_code == 403  # settings are a change like any other while suspended
    assert b"The merchant is active again." in reactivated.content
    assert b'data-testid="suspended-banner"' not in reactivated.content
    actions = _actions(merchant.merchant_id)
    assert actions["merchant.suspend"].actor_type == "user" and actions["merchant.reactivate"].detail == "Cleared"


def test_ops_staff_set_the_rate_limit_from_the_page(client, db, merchant):
    staff = _staff_for(client, merchant)

    bad = staff.post(OPS, {"action": "rate_limit", "rate_limit_per_minute": "-5"})
    good = staff.post(OPS, {"action": "rate_limit", "rate_limit_per_minute": "250"}, follow=True)
    cleared = staff.post(OPS, {"action": "rate_limit", "rate_limit_per_minute": ""}, follow=True)

    assert bad.status_code == 422 and b"greater than or equal to 1" in bad.content
    assert b"Rate limit saved." in good.content
    assert cleared.status_code == 200 and merchant_get(merchant_id=merchant.merchant_id).rate_limit_per_minute is None


def test_the_settings_link_is_in_the_navbar_for_admins_only(as_role):
    admin_home = as_role("admin").get("/")

    assert f'href="{SETTINGS}"'.encode() in admin_home.content


def test_viewers_have_no_settings_link(as_role):
    viewer_home = as_role("viewer").get("/")

    assert f'href="{SETTINGS}"'.encode() not in viewer_home.content
