"""TOTP multi-factor authentication with django-otp (PCI DSS 8.4.1 for ops staff).

- `/mfa/setup/`: enrolment. A TOTP device is created unconfirmed, shown as a QR code (an SVG made
  by `qrcode`, no images or scripts) and as its base32 secret; the first valid code confirms it, signs
  the session in as verified and shows ten single-use recovery codes (django-otp's static device).
- `/mfa/verify/`: after the password, a user with a confirmed device enters a TOTP or recovery code.
- `/mfa/recovery/`: new recovery codes (the old ones stop working).
- `StaffMfaMiddleware`: a signed-in user with a confirmed device must verify before any page; with
  `REQUIRE_STAFF_MFA` on, staff without a device are sent to enrolment and get no other page.

Every enrolment, verification (success and failure) and recovery-code change is audited.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record
from core.actor import actor_from_request
from core.lazy import lazy_import

qrcode = lazy_import("qrcode")  # enrolment alone: no other page or request imports it (core.lazy)
qrcode_svg = lazy_import("qrcode.image.svg")

RECOVERY_CODES = 10
SESSION_ENROLLED = "mfa_enrolled"
# `/accounts/session/`: the idle warning also counts down for staff in the middle of enrolment.
EXEMPT_PREFIXES = ("/mfa/", "/accounts/login/", "/accounts/logout/", "/accounts/session/", "/static/", "/api/")


# --- services (Django ORM: devices live with the users) ----------------------------------------


def mfa_enrolled(user) -> bool:
    return user.is_authenticated and user_has_device(user, confirmed=True)


def mfa_totp_pending(*, user) -> TOTPDevice:
    """The user's unconfirmed TOTP device (one is made when there is none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def mfa_recovery_codes_new(*, user) -> list[str]:
    """Replace the user's recovery codes with new single-use ones; returned once to show."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Recovery codes", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _audit(request: HttpRequest, action: str, *, outcome: str = "success", detail: str | None = None) -> None:
    audit_record(
        merchant_id=None,
        actor=actor_from_request(request),
        action=action,
        entity_type="user",
        entity_id=request.user.get_username(),
        outcome=outcome,
        detail=detail,
    )


# --- pages -----------------------------------------------------------------------------------


class TokenForm(forms.Form):
    token = forms.CharField(max_length=16, strip=True, label="Code")


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode_svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def _login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login/?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    if mfa_enrolled(request.user):
        messages.info(request, "Two-factor authentication is already on for your account.")
        return redirect("mfa-recovery" if request.user.is_verified() else "mfa-verify")
    device = mfa_totp_pending(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            codes = mfa_recovery_codes_new(user=request.user)
            _audit(request, "auth.mfa_enroll")
            return render(
                request, "mfa/mfa_recovery.html", {"codes": codes, "enrolled": True, "next": _safe_next(request)}
            )
        _audit(request, "auth.mfa_enroll", outcome="failure", detail="wrong code")
        form.add_error("token", "That code is not right. Check the time on your phone and try the current code.")
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    context = {"form": form, "qr": mark_safe(_qr_svg(device.config_url)), "secret": secret, "next": _safe_next(request)}  # noqa: S308 - SVG made here
    return render(request, "mfa/mfa_setup.html", context, status=422 if form.errors else 200)


@_login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    if not mfa_enrolled(request.user):
        return redirect("mfa-setup")
    if request.user.is_verified():
        return redirect(_safe_next(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            _audit(
                request,
                "auth.mfa_verify",
                detail="recovery code" if isinstance(device, StaticDevice) else "authenticator app",
            )
            return redirect(_safe_next(request))
        _audit(request, "auth.mfa_verify", outcome="failure")
        form.add_error("token", "That code is not right.")
    return render(
        request, "mfa/mfa_verify.html", {"form": form, "next": _safe_next(request)}, status=422 if form.errors else 200
    )


@_login_required
@require_http_methods(["GET", "POST"])
def mfa_recovery(request: HttpRequest) -> HttpResponse:
    if not (mfa_enrolled(request.user) and request.user.is_verified()):
        return redirect("mfa-verify")
    if request.method == "POST":
        codes = mfa_recovery_codes_new(user=request.user)
        _audit(request, "auth.mfa_recovery_codes")
        return render(request, "mfa/mfa_recovery.html", {"codes": codes, "enrolled": False, "next": "/"})
    left = StaticToken.objects.filter(device__user=request.user).count()
    return render(request, "mfa/mfa_recovery.html", {"codes": None, "left": left})


urlpatterns = [
    path("setup/", mfa_setup, name="mfa-setup"),
    path("verify/", mfa_verify, name="mfa-verify"),
    path("recovery/", mfa_recovery, name="mfa-recovery"),
]


# --- middleware --------------------------------------------------------------------------------


class StaffMfaMiddleware:
    """After `django_otp.middleware.OTPMiddleware`: enrolled users verify; with `REQUIRE_STAFF_MFA`,
    staff without a device enrol before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        exempt = request.path.startswith(EXEMPT_PREFIXES)
        if user is not None and user.is_authenticated and not exempt and not user.is_verified():
            query = urlencode({"next": request.get_full_path()})
            enrolled = request.session.get(SESSION_ENROLLED)
            if enrolled is None:  # looked up once per session (a new sign-in is a new session)
                enrolled = request.session[SESSION_ENROLLED] = mfa_enrolled(user)
            if enrolled:
                return redirect(f"/mfa/verify/?{query}")
            if user.is_staff and getattr(settings, "REQUIRE_STAFF_MFA", False):
                return redirect(f"/mfa/setup/?{query}")
        return self.get_response(request)
