"""The Team page (admins and ops staff), the invite link (a new account sets its password, a signed-in
user takes the invite), and password reset by email and password change, each audited."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from audit.models import AuditEvent
from merchants import tenancy
from merchants.models import Invite, Membership
from merchants.services import team
from tests.factories import TEST_ACTOR, make_user

pytestmark = pytest.mark.django_db
TEAM = "/settings/team/"
NEW_PASSWORD = "a long new password 42"


def _signed_in(user, merchant_id: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if merchant_id:
        session = client.session
        session[tenancy.SESSION_KEY] = merchant_id
        session.save()
    return client


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def _platform_actions() -> list[str]:
    return [e.action for e in AuditEvent.query("ops")]


def test_an_admin_sees_members_and_pending_invites_and_a_viewer_is_refused(merchant):
    admin = make_user("boss", merchant_id=merchant.merchant_id, role="admin")
    viewer = make_user("clerk", merchant_id=merchant.merchant_id, role="viewer")
    team.team_invite_create(
        merchant_id=merchant.merchant_id,
        email="new@example.com",
        role="operator",
        actor=TEST_ACTOR,
        site_url="http://testserver/",
    )

    page = _signed_in(admin).get(TEAM)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="member-boss"' in html and 'data-testid="member-clerk"' in html
    assert 'data-testid="invite-new@example.com"' in html
    assert _signed_in(viewer).get(TEAM).status_code == 403


def test_an_admin_invites_by_email_and_a_bad_address_is_shown_on_the_page(merchant):
    client = _signed_in(make_user("boss", merchant_id=merchant.merchant_id, role="admin"))

    bad = client.post("/settings/team/invites/", {"email": "nope", "role": "viewer"})
    sent = client.post("/settings/team/invites/", {"email": "jo@example.com", "role": "operator"}, follow=True)

    assert bad.status_code == 422 and "Enter a valid email address" in bad.content.decode()
    assert "Invite sent to jo@example.com as operator" in sent.content.decode()
    (message,) = mail.outbox
    assert _link(message).startswith("/accounts/invite/")


def test_ops_staff_invite_for_any_merchant(merchant):
    staff = _signed_in(make_user("ops", staff=True), merchant.merchant_id)

    response = staff.post("/settings/team/invites/", {"email": "admin@acme.example", "role": "admin"})

    assert response.status_code == 302
    invite = Invite.objects.get()
    assert (invite.merchant_id, invite.role, invite.invited_by) == (merchant.merchant_id, "admin", "ops")


def test_the_last_admin_is_told_why_they_cannot_step_down(merchant):
    admin = make_user("boss", merchant_id=merchant.merchant_id, role="admin")
    client = _signed_in(admin)
    mine = admin.memberships.get().pk

    demote = client.post(f"/settings/team/members/{mine}/role/", {"role": "viewer"})
    remove = client.post(f"/settings/team/members/{mine}/remove/")

    for response in (demote, remove):
        assert response.status_code == 409
        assert "You are the last admin of this team" in response.content.decode()
    assert admin.memberships.get().role == "admin"


def test_an_admin_changes_a_role_removes_a_member_and_revokes_an_invite(merchant):
    client = _signed_in(make_user("boss", merchant_id=merchant.merchant_id, role="admin"))
    clerk = make_user("clerk", merchant_id=merchant.merchant_id, role="viewer").memberships.get()
    created = team.team_invite_create(
        merchant_id=merchant.merchant_id,
        email="new@example.com",
        role="operator",
        actor=TEST_ACTOR,
        site_url="http://testserver/",
    )

    client.post(f"/settings/team/members/{clerk.pk}/role/", {"role": "operator"})
    assert Membership.objects.get(pk=clerk.pk).role == "operator"
    client.post(f"/settings/team/members/{clerk.pk}/remove/")
    assert not Membership.objects.filter(pk=clerk.pk).exists()
    client.post(f"/settings/team/invites/{created.invite.invite_id}/revoke/")
    assert Invite.objects.get().revoked_at is not None

    events = {e.action: e for e in AuditEvent.query(merchant.merchant_id)}
    assert events["membership.update"].actor_id == "boss" and events["membership.delete"].actor_id == "boss"
    assert events["team.invite.revoke"].actor_id == "boss"


def test_another_merchants_member_and_invite_are_404(merchant, other):
    client = _signed_in(make_user("boss", merchant_id=merchant.merchant_id, role="admin"))
    outsider = make_user("outsider", merchant_id=other.merchant_id, role="viewer").memberships.get()
    foreign = team.team_invite_create(
        merchant_id=other.merchant_id,
        email="x@example.com",
        role="viewer",
        actor=TEST_ACTOR,
        site_url="http://testserver/",
    )

    assert client.post(f"/settings/team/members/{outsider.pk}/role/", {"role": "admin"}).status_code == 404
    assert client.post(f"/settings/team/members/{outsider.pk}/remove/").status_code == 404
    assert client.post(f"/settings/team/invites/{foreign.invite.invite_id}/revoke/").status_code == 404
    assert Membership.objects.get(pk=outsider.pk).role == "viewer" and Invite.objects.get().revoked_at is None


# --- the invite link -----------------------------------------------------------------------------


def test_an_invitee_sets_a_password_is_signed_in_with_the_role_and_the_link_works_once(merchant):
    created = team.team_invite_create(
        merchant_id=merchant.merchant_id,
        email="jo@example.com",
        role="operator",
        actor=TEST_ACTOR,
        site_url="http://testserver/",
    )
    client = Client()

    opened = client.get(_link(mail.outbox[0]))
    assert opened.status_code == 302 and opened["Location"] == "/accounts/invite/"  # the token leaves the address
    form = client.get("/accounts/invite/")
    assert form.status_code == 200 and "jo@example.com" in form.content.decode()
    differ = client.post("/accounts/invite/", {"password1": NEW_PASSWORD, "password2": "something else 42"})
    assert differ.status_code == 422 and "The two passwords differ" in differ.content.decode()
    weak = client.post("/accounts/invite/", {"password1": "short", "password2": "short"})
    assert weak.status_code == 422 and "too short" in weak.content.decode()

    joined = client.post("/accounts/invite/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True)

    assert "Welcome to Acme" in joined.content.decode() and "jo@example.com · operator" in joined.content.decode()
    again = Client()
    again.get(f"/accounts/invite/{created.token}/")
    used = again.get("/accounts/invite/")
    assert used.status_code == 409 and "has been used already" in used.content.decode()


def test_a_signed_in_user_opening_the_link_joins(merchant, other):
    user = make_user("jo", merchant_id=other.merchant_id, role="admin")
    user.email = "jo@example.com"
    user.save()
    client = _signed_in(user)  # before the invite: signing in takes the invites to one's address
    team.team_invite_create(
        merchant_id=merchant.merchant_id,
        email="jo@example.com",
        role="viewer",
        actor=TEST_ACTOR,
        site_url="http://testserver/",
    )

    response = client.get(_link(mail.outbox[0]), follow=True)

    assert "You joined Acme as viewer" in response.content.decode()
    assert user.memberships.get(merchant_id=merchant.merchant_id).role == "viewer"


def test_an_invitee_with_an_account_is_sent_to_sign_in(merchant):
    user = make_user("jo")
    user.email = "jo@example.com"
    user.save()
    team.team_invite_create(
        merchant_id=merchant.merchant_id,
        email="jo@example.com",
        role="viewer",
        actor=TEST_ACTOR,
        site_url="http://testserver/",
    )
    client = Client()

    page = client.get(_link(mail.outbox[0]), follow=True)

    assert "sign in</a> and the invite is added" in page.content.decode()
    refused = client.post("/accounts/invite/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert refused.status_code == 409 and "An account with this email address exists" in refused.content.decode()
    assert not user.memberships.exists()

    signed_in = client.post(
        "/accounts/login/?next=/accounts/invite/",
        {"username": "jo", "password": "correct horse battery", "next": "/accounts/invite/"},
        follow=True,
    )

    assert "You joined Acme as viewer" in signed_in.content.decode()
    assert signed_in.redirect_chain[-1][0] == "/"
    assert user.memberships.get().merchant_id == merchant.merchant_id


def test_an_unknown_link_says_so():
    client = Client()
    client.get("/accounts/invite/not-a-real-token/")

    response = client.get("/accounts/invite/")

    assert response.status_code == 404 and "not valid" in response.content.decode()


# --- passwords -----------------------------------------------------------------------------------


def test_the_sign_in_page_and_the_user_menu_link_the_password_pages(merchant):
    assert 'href="/accounts/password/reset/"' in Client().get("/accounts/login/").content.decode()
    page = _signed_in(make_user("boss", merchant_id=merchant.merchant_id, role="admin")).get("/")
    assert 'href="/accounts/password/change/"' in page.content.decode()


def test_a_password_is_reset_by_the_emailed_link_once_and_audited():
    user = make_user("jo")
    user.email = "jo@example.com"
    user.save()
    client = Client()

    sent = client.post("/accounts/password/reset/", {"email": "jo@example.com"})
    client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert sent.status_code == 302 and len(mail.outbox) == 1
    link = _link(mail.outbox[0])
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)

    assert "Your new password is set" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    reused = Client().get(link, follow=True)
    assert 'data-testid="reset-invalid"' in reused.content.decode()
    events = list(AuditEvent.query("ops"))
    requests = [e for e in events if e.action == "auth.password_reset_request"]
    assert sorted((e.entity_id, e.outcome) for e in requests) == [("-", "failure"), ("jo", "success")]
    reset = next(e for e in events if e.action == "auth.password_reset")
    assert (reset.actor_id, reset.entity_id) == ("jo", "jo")
    assert "user.password_change" in _platform_actions()


def test_a_signed_in_user_changes_their_password_and_it_is_audited(merchant):
    user = make_user("boss", merchant_id=merchant.merchant_id, role="admin")
    client = _signed_in(user)

    wrong = client.post(
        "/accounts/password/change/",
        {"old_password": "not it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    changed = client.post(
        "/accounts/password/change/",
        {"old_password": "correct horse battery", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert wrong.status_code == 200 and "Your old password was entered incorrectly" in wrong.content.decode()
    assert "Your password is changed" in changed.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    change = next(e for e in AuditEvent.query("ops") if e.action == "user.password_change")
    assert (change.actor_id, change.entity_id) == ("boss", "boss")
