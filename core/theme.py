"""The colour theme: light, dark, or `auto` (follow the OS's prefers-color-scheme, the default).

The choice is a per-person preference kept server-side (`core.models.UserPreference`), so it follows
the person to every browser they sign in on; the session keeps a copy so pages do not read it again.
The base template writes it as Bulma's `data-theme` on `<html>` (none for `auto`: Bulma follows the OS)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.models import UserPreference

THEMES = ("auto", "light", "dark")
NEXT_THEME = {"auto": "dark", "dark": "light", "light": "auto"}  # what the navbar's toggle offers next
SESSION_KEY = "paysite_theme"


def theme_for(request: HttpRequest) -> str:
    """The signed-in person's theme (`auto` for anyone else), read once per session."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "auto"
    session = request.session
    theme = session.get(SESSION_KEY)
    if theme not in THEMES:
        found = UserPreference.objects.filter(user=user).values_list("theme", flat=True).first()
        theme = found if found in THEMES else "auto"
        session[SESSION_KEY] = theme
    return str(theme)


def theme_set(*, request: HttpRequest, theme: str) -> str:
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}")
    if not request.user.is_authenticated:
        raise ValueError("only a signed-in person keeps a theme")
    UserPreference.objects.update_or_create(user=request.user, defaults={"theme": theme})
    request.session[SESSION_KEY] = theme
    return theme


@login_required
@require_POST
def theme_update(request: HttpRequest) -> HttpResponse:
    """POST `theme` (auto, light or dark). From the toggle's script: JSON `{"theme": ...}`; without
    JavaScript: back to the page the form was on."""
    try:
        theme = theme_set(request=request, theme=request.POST.get("theme", ""))
    except ValueError as error:
        return JsonResponse({"detail": str(error)}, status=400)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"theme": theme, "next": NEXT_THEME[theme]})
    back = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    return redirect(back)
