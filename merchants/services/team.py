"""A merchant's team: invites by email with a role, accepting them, role changes and removals.

Invites live beside memberships in the relational database (docs/DECISIONS.md): accepting one creates
the user and the membership and uses up the invite in one database transaction. A token is 32 random
bytes shown only in the emailed link; the database keeps its SHA-256. Memberships are audited by the
model watch of `merchants.apps` (`membership.create/update/delete`, whoever changes them); the invite
steps and refused changes are audited here, in the merchant's partition.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from audit.services import audit_record
from core.actor import Actor
from core.errors import DomainError, InvalidState, NotFound, ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from core.roles import Role
from merchants.models import Invite, Membership
from merchants.selectors import merchant_get

INVITE_TTL = timedelta(hours=72)


class InviteNotFound(NotFound):
    title = "No such invite"


class InviteUnusable(InvalidState):
    """The link was used, revoked, expired or names another email address than the signed-in user's."""

    code = "invite_unusable"
    title = "This invite cannot be used"


class MemberNotFound(NotFound):
    title = "No such team member"


class EmailNotSent(DomainError):
    status = 503
    code = "email_not_sent"
    title = "The email could not be sent"


class LastAdmin(InvalidState):
    code = "last_admin"
    title = "A merchant keeps at least one admin"


@dataclass(frozen=True)
class CreatedInvite:
    invite: Invite
    token: str  # only in the emailed link; never stored


def invite_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _email_clean(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed("Enter an email address such as jo@example.com.", param="email") from None
    return email


def _role_clean(role: str) -> str:
    if role not in Role.values:
        raise ValidationFailed(f"Choose a role: {', '.join(Role.values)}.", param="role")
    return role


def team_invite_create(*, merchant_id: str, email: str, role: str, actor: Actor, site_url: str) -> CreatedInvite:
    """Invite `email` to the merchant as `role` and email the link (valid 72 hours, single use). A
    pending invite to the same address is replaced: only the newest link works. The email is sent
    before the transaction commits: an invite whose email could not be sent is not kept."""
    email, role = _email_clean(email), _role_clean(role)
    merchant = merchant_get(merchant_id=merchant_id)
    if Membership.objects.filter(merchant_id=merchant_id, user__email__iexact=email).exists():
        raise ValidationFailed(f"{email} is already a member of {merchant.name}.", param="email")
    now = clock_now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        replaced = list(
            _pending(Invite.objects.select_for_update().filter(merchant_id=merchant_id, email=email), now).values_list(
                "invite_id", flat=True
            )
        )
        Invite.objects.filter(invite_id__in=replaced).update(revoked_at=now)
        invite = Invite.objects.create(
            invite_id=new_id("inv", now),
            merchant_id=merchant_id,
            email=email,
            role=role,
            token_hash=invite_token_hash(token),
            invited_by=actor.id,
            created=now,
            expires_at=now + INVITE_TTL,
        )
        link = site_url.rstrip("/") + reverse("invite-open", kwargs={"token": token})
        try:
            send_mail(
                subject=f"You are invited to {merchant.name} on Paysite",
                message=(
                    f"{actor.id} invited you to join {merchant.name} on Paysite as {Role(role).label.lower()}.\n\n"
                    f"Open this link within 72 hours to set your password and sign in:\n{link}\n\n"
                    "If you already have a Paysite account with this email address, open the link or sign in: "
                    "the invite is added to your account.\n\n"
                    "The link works once. If you did not expect this email, ignore it."
                ),
                from_email=None,
                recipient_list=[email],
            )
        except OSError as failure:  # SMTP down or refusing: nothing is kept, the admin can try again
            raise EmailNotSent(
                f"The invite email could not be sent ({failure.__class__.__name__}): try again."
            ) from None
        audit_record(
            merchant_id=merchant_id,
            actor=actor,
            action="team.invite.create",
            entity_type="invite",
            entity_id=invite.invite_id,
            after={"role": role, "expires_at": invite.expires_at.isoformat(), "replaces": replaced or None},
        )
    return CreatedInvite(invite=invite, token=token)


def _pending(invites, now: datetime):
    return invites.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


def team_invite_revoke(*, merchant_id: str, invite_id: str, actor: Actor) -> Invite:
    now = clock_now()
    with transaction.atomic():
        invite = Invite.objects.select_for_update().filter(merchant_id=merchant_id, invite_id=invite_id).first()
        if invite is None:
            raise InviteNotFound(f"No invite {invite_id}.")
        if invite.status(now) != "pending":
            raise InviteUnusable(f"The invite is {invite.status(now)} already.")
        invite.revoked_at = now
        invite.save(update_fields=["revoked_at"])
        audit_record(
            merchant_id=merchant_id,
            actor=actor,
            action="team.invite.revoke",
            entity_type="invite",
            entity_id=invite_id,
            before={"role": invite.role},
        )
    return invite


def team_invite_for_token(*, token: str, user=None) -> Invite:
    """The pending invite of a link (or one `user` accepted already: they signed in on the way);
    `InviteUnusable` says why another one no longer works."""
    invite = Invite.objects.filter(token_hash=invite_token_hash(token or "")).first()
    if invite is None:
        raise InviteNotFound("This invite link is not valid. Ask an admin of the team for a new one.")
    state = invite.status(clock_now())
    if state == "accepted" and user is not None and invite.accepted_by_id == user.pk:
        return invite
    if state != "pending":
        reason = {
            "accepted": "has been used already",
            "revoked": "was withdrawn",
            "expired": "has expired (links work for 72 hours)",
        }[state]
        raise InviteUnusable(f"This invite {reason}. Ask an admin of the team for a new one.")
    return invite


def _accept(invite: Invite, user, actor: Actor, now: datetime) -> Membership:
    """Use up a locked, pending invite for `user` (inside the caller's transaction)."""
    membership, created = Membership.objects.get_or_create(
        user=user, merchant_id=invite.merchant_id, defaults={"role": invite.role}
    )
    invite.accepted_at, invite.accepted_by = now, user
    invite.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        merchant_id=invite.merchant_id,
        actor=actor,
        action="team.invite.accept",
        entity_type="invite",
        entity_id=invite.invite_id,
        after={"user": user.get_username(), "role": membership.role},
        detail=None if created else "already a member: the membership is unchanged",
    )
    return membership


def _locked_pending(token: str) -> Invite:
    invite = team_invite_for_token(token=token)
    locked = Invite.objects.select_for_update().get(pk=invite.pk)
    if locked.status(clock_now()) != "pending":  # used by a request that got there first
        raise InviteUnusable("This invite has been used already. Ask an admin of the team for a new one.")
    return locked


def team_invite_accept_new_user(*, token: str, password: str, actor: Actor):
    """The invitee has no account: make one (username = the invited email address) with `password`
    (already checked by the password validators) and the invite's membership."""
    user_model = get_user_model()
    with transaction.atomic():
        invite = _locked_pending(token)
        taken = user_model.objects.filter(username__iexact=invite.email).exists()
        if taken or user_model.objects.filter(email__iexact=invite.email).exists():
            raise InviteUnusable("An account with this email address exists: sign in to accept the invite.")
        user = user_model.objects.create_user(username=invite.email, email=invite.email, password=password)
        _accept(invite, user, actor, clock_now())
    return user


def team_invite_accept(*, token: str, user, actor: Actor) -> Membership:
    """A signed-in user opens the link: the invite is theirs when it names their email address."""
    with transaction.atomic():
        invite = _locked_pending(token)
        if not user.email or user.email.lower() != invite.email:
            raise InviteUnusable(
                f"This invite is for {invite.email}, and you are signed in as {user.get_username()}. "
                "Sign out, then open the link again."
            )
        return _accept(invite, user, actor, clock_now())


def team_invites_accept_on_sign_in(*, user, actor: Actor) -> list[Membership]:
    """Every pending invite to the signed-in user's email address becomes a membership."""
    if not user.email:
        return []
    now = clock_now()
    with transaction.atomic():
        invites = _pending(Invite.objects.select_for_update().filter(email=user.email.lower()), now)
        return [_accept(invite, user, actor, now) for invite in invites]


# --- members -----------------------------------------------------------------------------------


def _members_locked(merchant_id: str, membership_id: int) -> tuple[Membership, int]:
    members = list(Membership.objects.select_for_update().select_related("user").filter(merchant_id=merchant_id))
    target = next((m for m in members if m.pk == membership_id), None)
    if target is None:
        raise MemberNotFound("No such member of this team.")
    return target, sum(m.role == Role.ADMIN for m in members)


def _last_admin_refuse(target: Membership, actor: Actor, action: str) -> None:
    audit_record(
        merchant_id=target.merchant_id,
        actor=actor,
        action=f"team.member.{action}",
        entity_type="membership",
        entity_id=f"{target.user.get_username()}@{target.merchant_id}",
        outcome="failure",
        detail="refused: the merchant's last admin",
    )
    verb = "remove" if action == "remove" else "demote"
    if actor.type == "user" and actor.id == target.user.get_username():
        raise LastAdmin(
            f"You are the last admin of this team: make another member an admin before you {verb} yourself."
        )
    raise LastAdmin(f"{target.user.get_username()} is the last admin of this team: make another member an admin first.")


def team_member_role_set(*, merchant_id: str, membership_id: int, role: str, actor: Actor) -> Membership:
    """Change a member's role (audited `membership.update`); the last admin stays an admin."""
    role = _role_clean(role)
    with transaction.atomic():
        target, admins = _members_locked(merchant_id, membership_id)
        if target.role == role:
            return target
        if target.role == Role.ADMIN and admins == 1:
            _last_admin_refuse(target, actor, "role_change")
        target.role = role
        target.save(update_fields=["role"])
    return target


def team_member_remove(*, merchant_id: str, membership_id: int, actor: Actor) -> Membership:
    """Remove a member from the team (audited `membership.delete`); the last admin stays."""
    with transaction.atomic():
        target, admins = _members_locked(merchant_id, membership_id)
        if target.role == Role.ADMIN and admins == 1:
            _last_admin_refuse(target, actor, "remove")
        target.delete()
    return target
