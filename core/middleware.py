"""Request-wide middleware.

- `StorageErrorMiddleware`: pages when DynamoDB keeps failing, a 503 message with `Retry-After` instead
  of an error page. The API maps the same errors in `paysite.api` (503 `storage_unavailable`); this
  does it for the dashboard, after `core.retry` and botocore have retried within the deadline.
- `RequestIdMiddleware`: every request's id, and the request itself for code that has none passed to
  it (`request_current()`: who changed an account, for the audit trail).
- `SessionMiddleware` and `IdleSignOutMiddleware`: a session ends after `SESSION_COOKIE_AGE` seconds
  without activity (PCI DSS 8.2.8). A poll (a page asking for its own progress, header
  `X-Paysite-Poll: 1`) is not activity: it neither renews the session nor counts as use.
- `SessionExpiryMiddleware`: a request that needs a session it no longer has goes to the sign-in page
  as a whole page, "Your session expired", and comes back afterwards to the page the person was on;
  a POST is never replayed.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from pynamodb.exceptions import PynamoDBException

from core.errors import StorageUnavailable
from core.ids import new_id
from core.problems import problem_response

logger = logging.getLogger(__name__)

STORAGE_ERRORS = (PynamoDBException, BotoCoreError, ClientError, StorageUnavailable)
RETRY_AFTER_SECONDS = 1


def storage_unavailable_page() -> HttpResponse:
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class StorageErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except STORAGE_ERRORS as error:  # raised by a middleware below this one
            return self._answer(request, error)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, STORAGE_ERRORS):
            return self._answer(request, exception)
        return None

    def _answer(self, request: HttpRequest, error: Exception) -> HttpResponse:
        # The error's class only: botocore messages can quote request parameters.
        logger.warning("storage unavailable for %s %s: %s", request.method, request.path, type(error).__name__)
        if request.path.startswith("/api/"):
            return problem_response(
                status=503,
                code="storage_unavailable",
                title="Storage is unavailable",
                detail="The database did not answer; nothing is known to have changed. Retry the request.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return storage_unavailable_page()


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")  # the whole header (fullmatch): no trailing newline
_current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("request", default=None)


def request_current() -> HttpRequest | None:
    """The request being answered in this thread or task, None outside one (a command, a worker)."""
    return _current_request.get()


class RequestIdMiddleware:
    """Every response carries `X-Request-Id`: the caller's when it is sane, a new `req_` id otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-Id", "")
        request.request_id = given if _REQUEST_ID.fullmatch(given) else new_id("req")  # type: ignore[attr-defined]
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response["X-Request-Id"] = request.request_id  # type: ignore[attr-defined]
        return response


# --- idle sessions (PCI DSS 8.2.8) -------------------------------------------------------------

POLL_HEADER = "X-Paysite-Poll"
LAST_ACTIVITY = "last_activity"  # session key: Unix time of the last request that was not a poll
IDLE_SIGN_OUT = "idle timeout"  # `request.sign_out_reason` when this middleware signed the user out


def is_poll(request: HttpRequest) -> bool:
    """A request a page makes by itself on a timer (htmx `every`), not a person's action. Marking a
    request so only shortens its own session's life, so the header needs no proof."""
    return request.headers.get(POLL_HEADER) == "1"


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except for polls: with `SESSION_SAVE_EVERY_REQUEST` every request saves the session and
    so pushes its expiry `SESSION_COOKIE_AGE` further; a poll saves it only when it changed it."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session: Any = getattr(request, "session", None)
        if session is not None and is_poll(request) and not session.modified:
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)


class IdleSignOutMiddleware:
    """After `AuthenticationMiddleware`: a signed-in session whose last activity (a request that was not
    a poll) is `SESSION_COOKIE_AGE` seconds old is signed out, even when something saved the session
    meanwhile. The sign-out goes through `logout()`, so it is audited like any other."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session: Any = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            now = int(timezone.now().timestamp())
            last = session.get(LAST_ACTIVITY)
            if isinstance(last, int) and now - last >= settings.SESSION_COOKIE_AGE:
                request.sign_out_reason = IDLE_SIGN_OUT  # type: ignore[attr-defined]
                logout(request)
            elif not is_poll(request):
                session[LAST_ACTIVITY] = now
        return self.get_response(request)


def idle_seconds_left(request: HttpRequest) -> int:
    """How long the signed-in session of `request` has before `IdleSignOutMiddleware` ends it."""
    last = request.session.get(LAST_ACTIVITY)
    if not isinstance(last, int):
        return settings.SESSION_COOKIE_AGE
    return max(0, settings.SESSION_COOKIE_AGE - (int(timezone.now().timestamp()) - last))


# --- a request whose session has ended ---------------------------------------------------------

EXPIRED_ACTION = "expired_action"  # session key: the view a POST without a session was sent to
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def sign_in_url(next_page: str, *, expired: bool) -> str:
    """The sign-in page, back to `next_page` afterwards; `expired` makes it say the session ended."""
    query = QueryDict(mutable=True)
    query["next"] = next_page
    if expired:
        query["expired"] = "1"
    return f"{resolve_url(settings.LOGIN_URL)}?{query.urlencode(safe='/')}"


def _same_origin_page(request: HttpRequest, url: str) -> str | None:
    """The path and query of `url` when it is a page of this site, None otherwise. Neither the sign-in
    page nor, for a POST, the URL it was sent to (the non-JavaScript confirmation page is shown at the
    action's URL, which answers POST only)."""
    secure = request.is_secure()
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=secure):
        return None
    parts = urlsplit(url)
    if parts.path == resolve_url(settings.LOGIN_URL):
        return None
    if request.method not in SAFE_METHODS and parts.path == request.path:
        return None
    page = parts.path + (f"?{parts.query}" if parts.query else "")
    if not url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()}, require_https=secure):
        return None  # `//host` as a path would leave the site
    return page


def page_shown(request: HttpRequest) -> str:
    """The page the browser shows while it sends `request` in the background or from a form: htmx's
    `HX-Current-URL`, else the `Referer`; the home page when neither is a page of this site."""
    for header in ("HX-Current-URL", "Referer"):
        page = _same_origin_page(request, request.headers.get(header, ""))
        if page:
            return page
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _session_outlived(request: HttpRequest) -> bool:
    """The browser sent a session cookie whose session is gone (expired, or signed out just now)."""
    if getattr(request, "sign_out_reason", None) == IDLE_SIGN_OUT:
        return True
    session: Any = getattr(request, "session", None)
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return session is not None and bool(key) and not session.exists(key)


def _is_sign_in_redirect(response: HttpResponse) -> bool:
    """A login-required view's answer to a request without a session: the sign-in page with `next`."""
    if not isinstance(response, HttpResponseRedirect):
        return False
    target = urlsplit(response["Location"])
    return target.path == resolve_url(settings.LOGIN_URL) and "next" in parse_qs(target.query)


class SessionExpiryMiddleware:
    """After `HtmxMiddleware`: what a request gets when the page it came from needs a session that has
    ended (idle timeout, sign-out elsewhere). Login-required views answer it with a redirect to the
    sign-in page; this middleware makes that redirect lead back to the right page:

    - htmx: the XHR would follow the redirect and swap the sign-in page, navbar and all, into the
      fragment's target. The answer is `HX-Redirect` instead, so the whole window goes to sign in, and
      `next` is the page the browser shows (`HX-Current-URL`, its filters included), not the fragment.
    - POST (any unsafe method): never replayed. `next` is the page it was sent from (`HX-Current-URL`
      or `Referer`), a GET afterwards; the session keeps which view it was for (`EXPIRED_ACTION`) so the
      sign-in page, and the page after it, say that nothing was changed.
    - GET without htmx: Django's redirect with `next`, its whole query string kept.

    `expired=1` makes the sign-in page say the session expired: always for htmx and POST (the page
    had a session), for a plain GET when the session cookie names a session that is gone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or not _is_sign_in_redirect(response):
            return response
        unsafe = request.method not in SAFE_METHODS
        if unsafe:
            match = getattr(request, "resolver_match", None)
            request.session[EXPIRED_ACTION] = match.view_name if match else ""
        if is_htmx(request):
            answer: HttpResponse = HttpResponseClientRedirect(sign_in_url(page_shown(request), expired=True))
            patch_vary_headers(answer, ("HX-Request",))
            return answer
        if unsafe:
            return HttpResponseRedirect(sign_in_url(page_shown(request), expired=True))
        return HttpResponseRedirect(sign_in_url(request.get_full_path(), expired=_session_outlived(request)))
