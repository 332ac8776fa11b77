"""The team services: invites (single use, 72 hours, hashed at rest, replaced by a new one), accepting
them (a new account, a signed-in user, at sign-in), role changes and removals with the last-admin
rule; every step audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from audit.models import AuditEvent
from core.actor import Actor
from core.errors import ValidationFailed
from merchants.models import Invite, Membership
from merchants.services import team
from tests.factories import TEST_ACTOR, make_user

pytestmark = pytest.mark.django_db
SITE = "https://pay.example.com/"


def _actions(merchant_id: str) -> list[str]:
    return [e.action for e in AuditEvent.query(merchant_id)]


def _invite(merchant_id: str, email: str = "jo@example.com", role: str = "operator") -> team.CreatedInvite:
    return team.team_invite_create(merchant_id=merchant_id, email=email, role=role, actor=TEST_ACTOR, site_url=SITE)


@pytest.mark.engine
def test_an_invite_emails_a_single_use_link_and_stores_only_its_hash(merchant, dynamodb_backend):
    created = _invite(merchant.merchant_id, email="  Jo@Example.com ")

    invite = Invite.objects.get()
    assert (invite.email, invite.role, invite.merchant_id) == ("jo@example.com", "operator", merchant.merchant_id)
    assert invite.token_hash == team.invite_token_hash(created.token) and created.token not in invite.token_hash
    assert invite.expires_at - invite.created == timedelta(hours=72)
    (message,) = mail.outbox
    assert message.to == ["jo@example.com"] and "Acme" in message.subject
    assert f"{SITE}accounts/invite/{created.token}/" in message.body
    event = next(e for e in AuditEvent.query(merchant.merchant_id) if e.action == "team.invite.create")
    assert event.entity_id == invite.invite_id and event.after["role"] == "operator"
    assert created.token not in str(event.after) and "jo@example.com" not in str(event.after)


@pytest.mark.parametrize(("email", "role", "param"), [("not-an-email", "viewer", "email"), ("a@b.co", "owner", "role")])
def test_a_bad_email_or_role_names_its_field(merchant, email, role, param):
    with pytest.raises(ValidationFailed) as raised:
        _invite(merchant.merchant_id, email=email, role=role)

    assert raised.value.param == param and not Invite.objects.exists() and not mail.outbox


def test_inviting_a_member_again_is_refused(merchant):
    user = make_user("jo", merchant_id=merchant.merchant_id)
    user.email = "jo@example.com"
    user.save()

    with pytest.raises(ValidationFailed, match="already a member"):
        _invite(merchant.merchant_id)


def test_a_new_invite_to_the_same_address_replaces_the_pending_one(merchant):
    first = _invite(merchant.merchant_id)
    second = _invite(merchant.merchant_id, role="admin")

    with pytest.raises(team.InviteUnusable, match="withdrawn"):
        team.team_invite_for_token(token=first.token)
    assert team.team_invite_for_token(token=second.token).role == "admin"


def test_a_new_user_sets_a_password_and_gets_the_role_once(merchant):
    created = _invite(merchant.merchant_id)

    user = team.team_invite_accept_new_user(token=created.token, password="a long new password 42", actor=TEST_ACTOR)

    assert user.username == "jo@example.com" and user.check_password("a long new password 42")
    assert Membership.objects.get(user=user).role == "operator"
    assert Invite.objects.get().accepted_by == user
    with pytest.raises(team.InviteUnusable, match="used already"):
        team.team_invite_accept_new_user(token=created.token, password="another password 42", actor=TEST_ACTOR)
    assert get_user_model().objects.count() == 1
    assert {"team.invite.create", "team.invite.accept", "membership.create"} <= set(_actions(merchant.merchant_id))


def test_an_expired_invite_cannot_be_used(merchant):
    created = _invite(merchant.merchant_id)
    Invite.objects.update(expires_at=Invite.objects.get().created + timedelta(hours=72) - timedelta(days=4))

    with pytest.raises(team.InviteUnusable, match="expired"):
        team.team_invite_accept_new_user(token=created.token, password="a long new password 42", actor=TEST_ACTOR)
    assert not Membership.objects.exists()


def test_a_revoked_or_unknown_link_cannot_be_used(merchant):
    created = _invite(merchant.merchant_id)
    team.team_invite_revoke(merchant_id=merchant.merchant_id, invite_id=created.invite.invite_id, actor=TEST_ACTOR)

    with pytest.raises(team.InviteUnusable, match="withdrawn"):
        team.team_invite_for_token(token=created.token)
    with pytest.raises(team.InviteNotFound):
        team.team_invite_for_token(token="not-a-token")
    assert "team.invite.revoke" in _actions(merchant.merchant_id)


def test_another_merchants_invite_cannot_be_revoked(merchant, other):
    created = _invite(merchant.merchant_id)

    with pytest.raises(team.InviteNotFound):
        team.team_invite_revoke(merchant_id=other.merchant_id, invite_id=created.invite.invite_id, actor=TEST_ACTOR)
    assert team.team_invite_for_token(token=created.token)


def test_an_existing_user_gets_the_membership_at_sign_in(client, merchant, other):
    user = make_user("jo", merchant_id=other.merchant_id, role="admin")
    user.email = "JO@example.com"
    user.save()
    _invite(merchant.merchant_id, role="viewer")

    client.post("/accounts/login/", {"username": "jo", "password": "correct horse battery"})

    assert Membership.objects.get(user=user, merchant_id=merchant.merchant_id).role == "viewer"
    assert Invite.objects.get().accepted_at is not None
    accept = next(e for e in AuditEvent.query(merchant.merchant_id) if e.action == "team.invite.accept")
    assert (accept.actor_type, accept.actor_id) == ("user", "jo")


def test_a_signed_in_user_with_another_email_cannot_take_the_invite(merchant):
    created = _invite(merchant.merchant_id)
    stranger = make_user("mallory")
    stranger.email = "mallory@example.com"
    stranger.save()

    with pytest.raises(team.InviteUnusable, match="is for jo@example.com"):
        team.team_invite_accept(token=created.token, user=stranger, actor=TEST_ACTOR)
    assert not Membership.objects.filter(user=stranger).exists()


# --- members -----------------------------------------------------------------------------------


def test_admins_change_roles_and_remove_members(merchant):
    make_user("boss", merchant_id=merchant.merchant_id, role="admin")
    clerk = make_user("clerk", merchant_id=merchant.merchant_id, role="viewer").memberships.get()

    team.team_member_role_set(merchant_id=merchant.merchant_id, membership_id=clerk.pk, role="admin", actor=TEST_ACTOR)
    team.team_member_role_set(
        merchant_id=merchant.merchant_id, membership_id=clerk.pk, role="operator", actor=TEST_ACTOR
    )
    team.team_member_remove(merchant_id=merchant.merchant_id, membership_id=clerk.pk, actor=TEST_ACTOR)

    assert not Membership.objects.filter(pk=clerk.pk).exists()
    updates = [e for e in AuditEvent.query(merchant.merchant_id) if e.action == "membership.update"]
    assert [(e.before["role"], e.after["role"]) for e in updates] == [("viewer", "admin"), ("admin", "operator")]
    assert "membership.delete" in _actions(merchant.merchant_id)


@pytest.mark.engine
@pytest.mark.parametrize("change", ["demote", "remove"])
def test_the_last_admin_cannot_demote_or_remove_themselves(merchant, change, dynamodb_backend):
    boss = make_user("boss", merchant_id=merchant.merchant_id, role="admin").memberships.get()
    make_user("clerk", merchant_id=merchant.merchant_id, role="operator")
    actor = Actor(type="user", id="boss")

    with pytest.raises(team.LastAdmin, match="You are the last admin"):
        if change == "demote":
            team.team_member_role_set(
                merchant_id=merchant.merchant_id, membership_id=boss.pk, role="viewer", actor=actor
            )
        else:
            team.team_member_remove(merchant_id=merchant.merchant_id, membership_id=boss.pk, actor=actor)

    assert Membership.objects.get(pk=boss.pk).role == "admin"
    refused = [e for e in AuditEvent.query(merchant.merchant_id) if e.outcome == "failure"]
    assert len(refused) == 1 and refused[0].entity_id == f"boss@{merchant.merchant_id}"


def test_with_a_second_admin_the_first_may_step_down(merchant):
    boss = make_user("boss", merchant_id=merchant.merchant_id, role="admin").memberships.get()
    make_user("deputy", merchant_id=merchant.merchant_id, role="admin")

    team.team_member_role_set(merchant_id=merchant.merchant_id, membership_id=boss.pk, role="viewer", actor=TEST_ACTOR)

    assert Membership.objects.get(pk=boss.pk).role == "viewer"


def test_another_merchants_member_is_not_found(merchant, other):
    outsider = make_user("outsider", merchant_id=other.merchant_id, role="viewer").memberships.get()

    with pytest.raises(team.MemberNotFound):
        team.team_member_remove(merchant_id=merchant.merchant_id, membership_id=outsider.pk, actor=TEST_ACTOR)
    assert Membership.objects.filter(pk=outsider.pk).exists()


def test_the_emailed_link_carries_the_token_whose_hash_is_stored(merchant):
    _invite(merchant.merchant_id)

    token = re.search(r"/accounts/invite/([^/\s]+)/", mail.outbox[0].body).group(1)

    assert Invite.objects.get().token_hash == team.invite_token_hash(token)


def test_an_invite_whose_email_cannot_be_sent_is_not_kept(merchant, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 9, False  # nothing listens

    with pytest.raises(team.EmailNotSent, match="could not be sent"):
        _invite(merchant.merchant_id)

    assert not Invite.objects.exists() and "team.invite.create" not in _actions(merchant.merchant_id)
