"""Sign-ins and security-relevant account changes are audited whatever the entry point: the app's
sign-in page, the admin's, the admin's change forms, the MFA pages and plain code (PCI DSS 10.2.1.x)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from paysite.mfa import mfa_totp_pending
from tests.factories import make_user

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much longer new passphrase 42"
BROWSER = {"HTTP_USER_AGENT": "auth-events-test/1"}


def _events(action: str, entity_id: str | None = None) -> list[AuditEvent]:
    return [
        e for e in AuditEvent.query("ops") if e.action == action and (entity_id is None or e.entity_id == entity_id)
    ]


def _text(event: AuditEvent) -> str:
    return json.dumps(event.attribute_values, default=str)


@pytest.fixture
def staff_admin(client, db):
    """A signed-in superuser, through the admin's own sign-in page."""
    user = make_user("root-admin", staff=True)
    user.is_superuser = True
    user.save()
    client.post("/admin/login/", {"username": "root-admin", "password": PASSWORD}, **BROWSER)
    return user


# --- sign-in, failed sign-in, sign-out -----------------------------------------------------------


@pytest.mark.parametrize("sign_in_page", ["/accounts/login/", "/admin/login/"])
@pytest.mark.parametrize(
    ("password", "action", "outcome", "actor_type"),
    [
        (PASSWORD, "auth.login", "success", "user"),
        ("not the password", "auth.login_failed", "failure", "anonymous"),
    ],
)
def test_every_sign_in_page_audits_the_sign_in_once(client, db, sign_in_page, password, action, outcome, actor_type):
    make_user("dora", staff=True)

    client.post(sign_in_page, {"username": "dora", "password": password}, **BROWSER)

    (event,) = _events(action, "dora")  # exactly one: the sign-in page itself records nothing more
    assert event.outcome == outcome and event.actor_type == actor_type and event.entity_type == "user"
    assert event.source_ip == "127.0.0.1" and event.request_id and event.user_agent == "auth-events-test/1"
    assert event.actor_id == ("dora" if actor_type == "user" else "-")
    assert PASSWORD not in _text(event) and "not the password" not in _text(event)


@pytest.mark.parametrize("sign_out_page", ["/accounts/logout/", "/admin/logout/"])
def test_every_sign_out_is_audited_once(client, db, sign_out_page):
    make_user("ed", staff=True)
    client.post("/accounts/login/", {"username": "ed", "password": PASSWORD}, **BROWSER)

    client.post(sign_out_page, **BROWSER)

    (event,) = _events("auth.logout", "ed")
    assert event.actor_type == "user" and event.actor_id == "ed" and event.request_id


# --- passwords ----------------------------------------------------------------------------------


def _change_in_admin(client, user) -> None:
    response = client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        **BROWSER,
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def _change_own_in_admin(client, user) -> None:
    response = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        **BROWSER,
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def _change_in_code(client, user) -> None:
    user.set_password(NEW_PASSWORD)
    user.save()


@pytest.mark.parametrize(
    ("change", "whose", "actor_id"),
    [
        (_change_in_admin, "other", "root-admin"),
        (_change_own_in_admin, "own", "root-admin"),
        (_change_in_code, "other", "manage.py"),
    ],
)
def test_a_password_change_is_audited_without_the_hash(client, staff_admin, change, whose, actor_id):
    user = staff_admin if whose == "own" else make_user("fay")
    old_hash = get_user_model().objects.get(pk=user.pk).password

    change(client, user)

    new_hash = get_user_model().objects.get(pk=user.pk).password
    assert new_hash != old_hash
    (event,) = _events("user.password_change", user.username)
    assert event.actor_id == actor_id and event.outcome == "success"
    text = _text(event)
    for secret in (old_hash, new_hash, old_hash.split("$")[-1], new_hash.split("$")[-1], NEW_PASSWORD):
        assert secret not in text


def test_a_sign_in_that_only_records_the_last_login_writes_no_account_change(client, db):
    make_user("gus")

    client.post("/accounts/login/", {"username": "gus", "password": PASSWORD}, **BROWSER)

    assert _events("auth.login", "gus") and not _events("user.update", "gus")
    assert not _events("user.password_change", "gus")


# --- privileges, groups and permissions in the admin ----------------------------------------------


def test_superuser_group_and_permission_changes_in_the_admin_are_audited(client, staff_admin):
    user = make_user("hal")
    finance = Group.objects.create(name="Finance")
    permission = Permission.objects.get(codename="change_user")

    response = client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": "hal",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [finance.pk],
            "user_permissions": [permission.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
        **BROWSER,
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    update = next(e for e in _events("user.update", "hal") if e.after and e.after.get("is_superuser"))
    assert update.before["is_superuser"] is False and update.before["is_staff"] is False
    assert update.after["is_staff"] is True and update.actor_id == "root-admin"
    (groups,) = _events("user.groups.add", "hal")
    (permissions,) = _events("user.user_permissions.add", "hal")
    assert groups.after == {"groups": ["Finance"]} and groups.actor_id == "root-admin"
    assert permissions.after == {"user_permissions": ["auth.change_user"]}


@pytest.mark.parametrize(
    ("change", "action", "recorded"),
    [
        (lambda group, perm: group.permissions.add(perm), "group.permissions.add", "after"),
        (lambda group, perm: group.permissions.remove(perm), "group.permissions.remove", "before"),
        (lambda group, perm: group.permissions.clear(), "group.permissions.remove", "before"),
        (lambda group, perm: perm.group_set.remove(group), "group.permissions.remove", "before"),
    ],
)
def test_group_permission_changes_are_audited_from_either_side(db, change, action, recorded):
    group = Group.objects.create(name="Support")
    permission = Permission.objects.get(codename="view_user")
    group.permissions.add(permission)

    change(group, permission)

    event = _events(action, "Support")[-1]
    assert getattr(event, recorded) == {"permissions": ["auth.view_user"]} and event.actor_id == "manage.py"


def test_groups_made_and_given_permissions_in_the_admin_are_audited(client, staff_admin):
    permission = Permission.objects.get(codename="delete_user")

    client.post("/admin/auth/group/add/", {"name": "Ops leads", "permissions": [permission.pk]}, **BROWSER)
    group = Group.objects.get(name="Ops leads")
    client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"}, **BROWSER)

    assert _events("group.create", "Ops leads")[0].actor_id == "root-admin"
    assert _events("group.permissions.add", "Ops leads")[0].after == {"permissions": ["auth.delete_user"]}
    assert _events("group.delete", "Ops leads")


# --- OTP devices --------------------------------------------------------------------------------


def _delete_in_admin(client, device) -> None:
    response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}, **BROWSER)
    assert response.status_code == 302


def _delete_in_code(client, device) -> None:
    device.delete()


@pytest.mark.parametrize(("remove", "actor_id"), [(_delete_in_admin, "root-admin"), (_delete_in_code, "manage.py")])
def test_an_otp_device_added_and_removed_is_audited_without_its_key(client, staff_admin, remove, actor_id):
    user = make_user("ivy", staff=True)
    device = mfa_totp_pending(user=user)  # what /mfa/setup/ makes
    persistent_id = device.persistent_id
    device.confirmed = True
    device.save()

    remove(client, device)

    assert not TOTPDevice.objects.filter(user=user).exists()
    (created,) = _events("otp_device.create", persistent_id)
    (confirmed,) = _events("otp_device.update", persistent_id)
    (deleted,) = _events("otp_device.delete", persistent_id)
    assert created.after["user"] == "ivy" and created.after["confirmed"] is False
    assert confirmed.before["confirmed"] is False and confirmed.after["confirmed"] is True
    assert deleted.before["user"] == "ivy" and deleted.before["confirmed"] is True
    assert deleted.actor_id == actor_id
    for event in (created, confirmed, deleted):
        assert device.key not in _text(event)


def test_a_device_key_change_is_audited_but_a_code_check_is_not(db):
    user = make_user("jay", staff=True)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    device.verify_token("000000")  # saves the device (throttling, last step used)
    device.key = TOTPDevice._meta.get_field("key").default()
    device.save()

    assert not _events("otp_device.update", device.persistent_id)
    (rekeyed,) = _events("otp_device.key_change", device.persistent_id)
    assert device.key not in _text(rekeyed)
