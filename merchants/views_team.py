"""The Team page under Settings (admins, and ops staff for any merchant): members and pending invites,
invite by email with a role, change a role, remove a member, revoke an invite. And the invite link:
an invitee sets a password (a new account) or, signed in, takes the membership."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.actor import actor_from_request
from core.errors import DomainError, NotFound, ValidationFailed
from core.ids import now as clock_now
from core.roles import Role
from merchants import tenancy
from merchants.selectors import merchant_get, team_account_exists, team_invite_list_pending, team_member_list
from merchants.services import team
from merchants.tenancy import merchant_required

TEAM_PAGE = "merchants/team_list.html"
INVITE_PAGE = "merchants/invite_accept.html"
INVITE_SESSION_KEY = "team_invite_token"
ROLE_HELP = {
    Role.VIEWER: "sees payments, customers and settlements",
    Role.OPERATOR: "also captures, cancels and refunds",
    Role.ADMIN: "also manages the team, API keys, webhooks and settings",
}


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER, label="Role")


def _may_manage(tenant: tenancy.Tenant) -> bool:
    return tenant.is_staff or tenant.allows(Role.ADMIN)


def _team_context(request: HttpRequest, **extra) -> dict:
    merchant_id = request.tenant.merchant_id
    context = {
        "merchant": merchant_get(merchant_id=merchant_id),
        "members": team_member_list(merchant_id=merchant_id),
        "invites": team_invite_list_pending(merchant_id=merchant_id, now=clock_now()),
        "roles": [(role.value, role.label, ROLE_HELP[role]) for role in Role],
        "form": InviteForm(),
        "ttl_hours": int(team.INVITE_TTL.total_seconds() // 3600),
    }
    context.update(extra)
    return context


def _managed(view):
    """A Team page or action: the current merchant's admins and ops staff."""

    @merchant_required(Role.VIEWER)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _may_manage(request.tenant):
            raise PermissionDenied("The team is managed by admins.")
        try:
            return view(request, *args, **kwargs)
        except NotFound as missing:  # another merchant's member or invite is answered like a missing one
            raise Http404(missing.detail) from None

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_managed
def team_page(request: HttpRequest) -> HttpResponse:
    return render(request, TEAM_PAGE, _team_context(request))


@require_POST
@_managed
def team_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            created = team.team_invite_create(
                merchant_id=request.tenant.merchant_id,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=actor_from_request(request),
                site_url=request.build_absolute_uri("/"),
            )
        except DomainError as error:
            form.add_error("email" if error.param in (None, "email") else error.param, error.detail)
        else:
            invite = created.invite
            messages.success(request, f"Invite sent to {invite.email} as {invite.role}; the link works for 72 hours.")
            return redirect("settings:team")
    return render(request, TEAM_PAGE, _team_context(request, form=form), status=422)


def _team_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(request, TEAM_PAGE, _team_context(request, team_error=error.detail), status=error.status)


@require_POST
@_managed
def team_invite_revoke(request: HttpRequest, invite_id: str) -> HttpResponse:
    try:
        invite = team.team_invite_revoke(
            merchant_id=request.tenant.merchant_id, invite_id=invite_id, actor=actor_from_request(request)
        )
    except team.InviteUnusable as error:
        return _team_error(request, error)
    messages.success(request, f"The invite to {invite.email} is revoked: its link no longer works.")
    return redirect("settings:team")


@require_POST
@_managed
def team_member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    try:
        membership = team.team_member_role_set(
            merchant_id=request.tenant.merchant_id,
            membership_id=membership_id,
            role=request.POST.get("role", ""),
            actor=actor_from_request(request),
        )
    except (team.LastAdmin, ValidationFailed) as error:
        return _team_error(request, error)
    messages.success(request, f"{membership.user.get_username()} is now {membership.role}.")
    return redirect("settings:team")


@require_POST
@_managed
def team_member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    try:
        removed = team.team_member_remove(
            merchant_id=request.tenant.merchant_id, membership_id=membership_id, actor=actor_from_request(request)
        )
    except team.LastAdmin as error:
        return _team_error(request, error)
    messages.success(request, f"{removed.user.get_username()} was removed from the team.")
    if removed.user_id == request.user.pk and not request.user.is_staff:
        return redirect("home")  # they left this merchant
    return redirect("settings:team")


# --- the invite link -----------------------------------------------------------------------------


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                validate_password(first, user=_Candidate(self.email))
            except DjangoValidationError as error:
                self.add_error("password1", error)
        return cleaned


class _Candidate:
    """The account about to be made, for the password validators (not similar to the email)."""

    def __init__(self, email: str):
        self.username = self.email = email


@never_cache
def invite_open(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link. The token moves into the session and the address bar loses it (like Django's
    password reset), so it leaks neither into the history nor a Referer."""
    request.session[INVITE_SESSION_KEY] = token
    return redirect("invite-accept")


@never_cache
@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest) -> HttpResponse:
    token = request.session.get(INVITE_SESSION_KEY, "")
    signed_in = request.user if request.user.is_authenticated else None
    try:
        invite = team.team_invite_for_token(token=token, user=signed_in)
    except DomainError as error:
        return render(request, INVITE_PAGE, {"problem": error.detail}, status=error.status)
    merchant = merchant_get(merchant_id=invite.merchant_id)
    if invite.accepted_at is not None:  # accepted when they signed in on the way here
        request.session.pop(INVITE_SESSION_KEY, None)
        request.session[tenancy.SESSION_KEY] = invite.merchant_id
        return redirect("home")
    if signed_in is not None:  # opening the link signed in: the invite is theirs if it names them
        try:
            membership = team.team_invite_accept(token=token, user=request.user, actor=actor_from_request(request))
        except DomainError as error:
            return render(request, INVITE_PAGE, {"problem": error.detail, "invite": invite}, status=error.status)
        request.session.pop(INVITE_SESSION_KEY, None)
        request.session[tenancy.SESSION_KEY] = invite.merchant_id
        messages.success(request, f"You joined {merchant.name} as {membership.role}.")
        return redirect("home")
    form = SetPasswordForm(request.POST or None, email=invite.email)
    context = {
        "invite": invite,
        "merchant": merchant,
        "form": form,
        "help": password_validators_help_text_html(),
        "has_account": team_account_exists(email=invite.email),
    }
    if request.method == "POST" and form.is_valid():
        try:
            user = team.team_invite_accept_new_user(
                token=token, password=form.cleaned_data["password1"], actor=actor_from_request(request)
            )
        except DomainError as error:
            return render(request, INVITE_PAGE, {**context, "problem": error.detail}, status=error.status)
        logout(request)  # a fresh session for the new account
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[tenancy.SESSION_KEY] = invite.merchant_id
        messages.success(request, f"Welcome to {merchant.name}: you are signed in as {user.get_username()}.")
        return redirect("home")
    return render(request, INVITE_PAGE, context, status=422 if request.method == "POST" else 200)
